/**
 * What a caller reads from its RX buffer after a call (rx-buffer.ts): only a write into its own
 * RX buffer, carried by the call's return; and the verdicts of `expect: { success: { partitions } }`
 * in a world under sim. scenarios/conformance/partition-info-get-rx-buffer.yaml and
 * xen-partition-info-get-rx-buffer.yaml run it under both runtimes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NIL_UUID, rxWrite, txWrite, type BufferContent } from '../../shared/ffa/index.ts';
import { runScenario } from './run/runner.ts';
import { rxFields, rxFieldsExpected, rxMissing, rxOwnerOf } from './rx-buffer.ts';
import { readScenarioText } from './scenario/reader/index.ts';
import type { Step } from './scenario/types.ts';

const descriptors: BufferContent = { kind: 'partition-info', descriptorSize: 24, partitions: [{ id: 0x8001, vcpus: 1, properties: 0x101, uuid: NIL_UUID }] };
const message: BufferContent = { kind: 'message', sender: 0x8001, receiver: 1, offset: 40, size: 16, uuid: NIL_UUID };

function callSteps(world: string, steps: string): Extract<Step, { kind: 'call' }>[] {
  return readScenarioText(`name: rx\nseed: 5\nworld: ${world}\nsteps:\n${steps}`, 'rx.yaml').steps.filter((step) => step.kind === 'call');
}

test('a caller reads only a write into its own RX buffer', () => {
  assert.deepEqual(rxFields(rxWrite(1, descriptors), 1), { partitions: descriptors.partitions });
  assert.deepEqual(rxFields(rxWrite(1, message), 1), { message: { sender: 0x8001, receiver: 1, offset: 40, size: 16, uuid: NIL_UUID } });
  assert.deepEqual(rxFields(rxWrite(2, descriptors), 1), {}, 'another endpoint\'s buffer');
  assert.deepEqual(rxFields(txWrite(1, message), 1), {}, 'its own TX buffer');
  assert.deepEqual(rxFields(null, 1), {});
  assert.match(rxMissing(['partitions'], {}, 'vm1') ?? '', /^nothing in vm1's RX buffer to read partitions from/);
  assert.equal(rxMissing(['partitions'], { partitions: [] }, 'vm1'), null);
});

test('the fields read from the RX buffer, and whose buffer it is', () => {
  const xen = '{ spmc: { profile: hafnium, partitions: [{ id: 0x8001 }] }, hypervisor: { profile: xen }, vms: [{ name: vm1, driver: raw }] }';
  const [version, fromVm, fromSp, countOnly, get] = callSteps(
    xen,
    [
      '  - { from: vm1, call: FFA_VERSION, args: { version: "1.2" } }',
      '  - { from: vm1, call: FFA_PARTITION_INFO_GET, expect: { success: { partitions: [{ id: 0x8001 }] } } }',
      '  - { from: 0x8001, call: FFA_PARTITION_INFO_GET, expect: { success: { partitions: [{ id: 0x8001 }] } } }',
      '  - { from: vm1, call: FFA_PARTITION_INFO_GET, expect: { success: { count: 1 } } }',
      '  - { from: vm1, call: FFA_NOTIFICATION_GET, args: { receiver: vm1, flags: [sp, spm] }, expect: { success: { spmBitmap: 1, message: { sender: 0x8001 } } } }',
    ].join('\n'),
  );
  assert.ok(version && fromVm && fromSp && countOnly && get);
  assert.deepEqual(rxFieldsExpected(version.abi, version.expect), []);
  assert.deepEqual(rxFieldsExpected(countOnly.abi, countOnly.expect), [], 'a count is in w2: nothing to read');
  assert.deepEqual(rxFieldsExpected(fromVm.abi, fromVm.expect), ['partitions']);
  assert.deepEqual(rxFieldsExpected(get.abi, get.expect), ['message']);
  assert.deepEqual([rxOwnerOf(fromVm.from), rxOwnerOf(fromSp.from)], [1, 0x8001]);
});

test('descriptors that differ from the expectation fail the step and say which; a call that wrote none says so', async () => {
  const run = async (step: string) => {
    const text = [
      'name: rx',
      'seed: 5',
      'world: { cpus: 1, spmc: { profile: hafnium, partitions: [{ id: 0x8001, vcpus: 1 }] }, hypervisor: { profile: none }, vms: [{ driver: raw }] }',
      'steps:',
      '  - { from: host, call: FFA_RXTX_MAP_64, args: { tx: 0x200000, rx: 0x201000, pageCount: 1 }, expect: success }',
      step,
    ].join('\n');
    return (await runScenario(readScenarioText(text, 'rx.yaml'), { runtime: 'sim', seed: 5 })).result.steps[1];
  };
  const wrong = await run('  - { from: host, call: FFA_PARTITION_INFO_GET, expect: { success: { partitions: [{ id: 0x8001, vcpus: 1, properties: 0x103 }] } } }');
  assert.equal(wrong?.passed, false);
  assert.match(wrong?.detail ?? '', /^partitions: expected \[\{"id":32769,"vcpus":1,"properties":259\}\], got \[\{"id":32769,.*"properties":257/);
  const countOnly = await run('  - { from: host, call: FFA_PARTITION_INFO_GET, args: { countOnly: true }, expect: { success: { partitions: [{ id: 0x8001 }] } } }');
  assert.equal(countOnly?.passed, false);
  assert.match(countOnly?.detail ?? '', /^success, but nothing in host's RX buffer to read partitions from/);
});
