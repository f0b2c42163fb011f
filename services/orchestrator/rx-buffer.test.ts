/**
 * What a caller reads from its RX buffer after FFA_PARTITION_INFO_GET (rx-buffer.ts): whose record
 * stands for the buffer, and the verdicts of `expect: { success: { partitions } }` in a world
 * under sim. scenarios/conformance/partition-info-get-rx-buffer.yaml and
 * xen-partition-info-get-rx-buffer.yaml run it under both runtimes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HistoryEvent } from '../../shared/runtime/history.ts';
import { runScenario } from './run/runner.ts';
import { rxReadOf } from './rx-buffer.ts';
import { readScenarioText } from './scenario/reader/index.ts';
import type { Step } from './scenario/types.ts';

const record = (component: string, data: Record<string, unknown>): HistoryEvent => ({ type: 'record', component, data: { event: 'rx-partition-info', ...data } });

function callSteps(world: string, steps: string): Extract<Step, { kind: 'call' }>[] {
  return readScenarioText(`name: rx\nseed: 5\nworld: ${world}\nsteps:\n${steps}`, 'rx.yaml').steps.filter((step) => step.kind === 'call');
}

test('the SPMC writes the buffers of SPs and the NWd physical instance; Xen those of its guests', () => {
  const xen = '{ spmc: { profile: hafnium, partitions: [{ id: 0x8001 }] }, hypervisor: { profile: xen }, vms: [{ name: vm1, driver: raw }] }';
  const [version, fromVm, fromSp, countOnly] = callSteps(
    xen,
    [
      '  - { from: vm1, call: FFA_VERSION, args: { version: "1.2" } }',
      '  - { from: vm1, call: FFA_PARTITION_INFO_GET, expect: { success: { partitions: [{ id: 0x8001 }] } } }',
      '  - { from: 0x8001, call: FFA_PARTITION_INFO_GET, expect: { success: { partitions: [{ id: 0x8001 }] } } }',
      '  - { from: vm1, call: FFA_PARTITION_INFO_GET, expect: { success: { count: 1 } } }',
    ].join('\n'),
  );
  assert.ok(version && fromVm && fromSp && countOnly);
  assert.equal(rxReadOf(version), null);
  assert.equal(rxReadOf(countOnly), null, 'a count is in w2: nothing to read');
  const guest = rxReadOf(fromVm);
  assert.equal(guest?.writer, 'hypervisor');
  assert.ok(guest?.matches(record('hypervisor', { vm: 1 })));
  assert.ok(!guest?.matches(record('hypervisor', { vm: 2 })), 'another guest\'s buffer');
  assert.ok(!guest?.matches(record('spmc', { owner: 1 })));
  const sp = rxReadOf(fromSp);
  assert.equal(sp?.writer, 'spmc');
  assert.ok(sp?.matches(record('spmc', { owner: 0x8001 })));
  assert.ok(!sp?.matches(record('spmc', { owner: 0 })), 'the NWd physical instance\'s buffer');
});

test('descriptors that differ from the expectation fail the step and say which', async () => {
  const text = [
    'name: rx',
    'seed: 5',
    'world: { cpus: 1, spmc: { profile: hafnium, partitions: [{ id: 0x8001, vcpus: 1 }] }, hypervisor: { profile: none }, vms: [{ driver: raw }] }',
    'steps:',
    '  - { from: host, call: FFA_RXTX_MAP_64, args: { tx: 0x200000, rx: 0x201000, pageCount: 1 }, expect: success }',
    '  - { from: host, call: FFA_PARTITION_INFO_GET, expect: { success: { partitions: [{ id: 0x8001, vcpus: 1, properties: 0x103 }] } } }',
  ].join('\n');
  const { result } = await runScenario(readScenarioText(text, 'rx.yaml'), { runtime: 'sim', seed: 5 });
  const step = result.steps[1];
  assert.equal(step?.passed, false);
  assert.match(step?.detail ?? '', /^partitions: expected \[\{"id":32769,"vcpus":1,"properties":259\}\], got \[\{"id":32769,.*"properties":257/);
});
