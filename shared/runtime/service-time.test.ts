import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MemoryHistorySink, type HistoryEntry } from './history.ts';
import { ProcessorQueues, ServiceTimeModel, type ServiceTimeSpec } from './service-time.ts';
import { runSimWorld } from './sim/run-world.ts';
import { testWorldSpec } from './test-world/index.ts';
import type { Envelope } from '../protocol/messages.ts';
import { registers } from '../ffa/registers.ts';
import { FFA_FIDS } from '../ffa/function-ids.ts';

const ECHO_NS = 100_000;
const SPEC: ServiceTimeSpec = {
  table: { name: 'test', roles: { spmc: { call: 50_000, calls: { FFA_NOTIFICATION_GET: 7_000 }, return: 1_000 }, guest: { irq: 3_000 } } },
  vcpuPlacement: { vm1: [2, 3] },
};
const roles = new Map([['spmc', 'spmc'], ['vm1', 'guest'], ['hyp', 'hypervisor'], ['orch', 'orchestrator']] as const);
const call = (from: string, to: string, id: number, fid: number, cpu: number): Envelope => ({
  from, to, message: { kind: 'call', id, conduit: 'smc', endpoint: 1, vcpu: 1, cpu, regs: registers(fid), memory: null },
});

test('a call takes its ABI\'s time on the caller\'s CPU, the default for other ABIs, and its return the CPU of its call', () => {
  const model = new ServiceTimeModel(SPEC, roles);
  assert.deepEqual(model.slotOf(call('hyp', 'spmc', 1, FFA_FIDS.FFA_NOTIFICATION_GET, 3)), { processor: 'cpu3', ns: 7_000 });
  assert.deepEqual(model.slotOf(call('hyp', 'spmc', 2, FFA_FIDS.FFA_ID_GET, 1)), { processor: 'cpu1', ns: 50_000 });
  const sent = call('spmc', 'hyp', 9, FFA_FIDS.FFA_ID_GET, 2);
  model.noteSent(sent);
  assert.deepEqual(model.slotOf({ from: 'hyp', to: 'spmc', message: { kind: 'return', id: 9, regs: registers(0), memory: null } }), { processor: 'cpu2', ns: 1_000 });
});

test('a guest\'s virtual interrupt runs on the physical CPU its vCPU is pinned to; roles without times take none', () => {
  const model = new ServiceTimeModel(SPEC, roles);
  const irq = { kind: 'irq', op: 'deliver', intid: 4, group: 'nonsecure', cpu: -1, vm: 1, vcpu: 1 } as const;
  assert.deepEqual(model.slotOf({ from: 'gic', to: 'vm1', message: irq }), { processor: 'cpu3', ns: 3_000 });
  assert.equal(model.slotOf({ from: 'gic', to: 'hyp', message: { ...irq, cpu: 0 } }), null);
  assert.equal(model.slotOf({ from: 'spmc', to: 'orch', message: { kind: 'control', op: 'x', data: {} } }), null);
});

test('a processor serves handlers one at a time in arrival order, and never before they are ready (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ cpu: fc.integer({ min: 0, max: 2 }), gapNs: fc.integer({ min: 0, max: 50 }), ns: fc.integer({ min: 1, max: 40 }) }), { maxLength: 60 }), (jobs) => {
      const queues = new ProcessorQueues();
      const freeAt = new Map<number, number>();
      let now = 0;
      for (const job of jobs) {
        now += job.gapNs;
        const { startNs, endNs } = queues.take({ processor: `cpu${job.cpu}`, ns: job.ns }, now);
        // The model: a single server per CPU, first come first served.
        const expectedStart = Math.max(now, freeAt.get(job.cpu) ?? 0);
        assert.equal(startNs, expectedStart);
        assert.equal(endNs, expectedStart + job.ns);
        freeAt.set(job.cpu, endNs);
      }
    }),
  );
});

function echoTimes(entries: readonly HistoryEntry[]): { t: number; vcpu: number }[] {
  return entries.flatMap((e) => (e.event.type === 'record' && e.event.data.event === 'echo' ? [{ t: e.t, vcpu: Number(e.event.data.vcpu) }] : []));
}

test('under sim, a callee with a service time handles one call at a time per CPU, and answers when its handler ends', async () => {
  const spec = testWorldSpec({ seed: 3, vcpus: 2, callsPerVcpu: 6, thinkNsMax: 0 });
  // The echo stands in for an SPMC: its calls take ECHO_NS on the caller's CPU (caller vCPU n runs on CPU n).
  const world = { ...spec, components: spec.components.map((c) => (c.name === 'echo' ? { ...c, role: 'spmc' as const } : c)), serviceTimes: { table: { name: 't', roles: { spmc: { call: ECHO_NS } } }, vcpuPlacement: {} } };
  const timed = new MemoryHistorySink();
  await runSimWorld(world, { history: timed });
  const untimed = new MemoryHistorySink();
  await runSimWorld(spec, { history: untimed });
  for (const vcpu of [0, 1]) {
    const times = echoTimes(timed.entries).filter((e) => e.vcpu === vcpu).map((e) => e.t);
    assert.equal(times.length, 6);
    // Each next call on the CPU comes after the answer to the last, which left when its handler ended.
    for (let i = 1; i < times.length; i++) assert.ok((times[i] as number) - (times[i - 1] as number) >= ECHO_NS, `vcpu ${vcpu}: ${times.join(', ')}`);
  }
  const last = (entries: readonly HistoryEntry[]) => entries.at(-1)?.t ?? 0;
  assert.ok(last(timed.entries) >= last(untimed.entries) + 6 * ECHO_NS, 'six calls per vCPU, each holding its CPU for ECHO_NS');
});

test('under sim, service times keep one seed\'s history identical run to run', async () => {
  const base = testWorldSpec({ seed: 9, vcpus: 3, callsPerVcpu: 5 });
  const spec = {
    ...base,
    components: base.components.map((c) => (c.name === 'echo' ? { ...c, role: 'spmc' as const } : c)),
    serviceTimes: { table: { name: 't', roles: { spmc: { call: 20_000 } } }, vcpuPlacement: {} },
  };
  const hashes: string[] = [];
  for (const _ of [1, 2]) {
    const sink = new MemoryHistorySink();
    await runSimWorld(spec, { history: sink });
    hashes.push(sink.digest());
  }
  assert.equal(hashes[0], hashes[1]);
});
