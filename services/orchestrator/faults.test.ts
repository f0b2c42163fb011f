/**
 * Every fault kind of the scenario format, shown by its effect in the history (sim runtime; the
 * component faults also under ws). The notification path is OP-TEE's: the SP's send → SRI (SGI 8)
 * to the hypervisor → INFO_GET → virtual NPI (SGI 8) to the VM → GET → callback.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEntry } from '../../shared/runtime/history.ts';
import { readScenarioText } from './scenario/reader/index.ts';
import { runScenario } from './run/runner.ts';
import { swarmProfile } from './swarm.ts';
import type { RecordEvent } from '../../shared/protocol/records.ts';

const WORLD = `world:
  hypervisor: { profile: xen }
  vms:
    - { name: dom0, vcpus: 2 }
    - { name: vm, count: 2, vcpus: 2 }
`;

/** One OP-TEE send to `vm`, then the world settles. */
const send = (vm: string, count = 1) => `  - { workload: notifications, senders: [0x8001], receivers: ${vm === 'all' ? 'all' : `[${vm}]`}, rate: 1000/s, count: ${count} }
  - { await: idle }
`;

async function run(name: string, steps: string, options: { runtime?: 'sim' | 'ws'; checks?: string; seed?: number } = {}) {
  const text = `name: ${name}\n${WORLD}steps:\n${steps}checks: [${options.checks ?? 'no-lost-notification, no-phantom-notification'}]\n`;
  return runScenario(readScenarioText(text, `${name}.yaml`), { runtime: options.runtime ?? 'sim', seed: options.seed ?? 3 });
}

const faults = (entries: readonly HistoryEntry[], action: string) => entries.filter((e) => e.event.type === 'fault' && e.event.action === action);
const records = (entries: readonly HistoryEntry[], component: string, event: RecordEvent) =>
  entries.filter((e) => e.event.type === 'record' && e.event.component === component && e.event.data['event'] === event);
const check = (result: { checks: { name: string; held: boolean }[] }, name: string) => result.checks.find((c) => c.name === name)?.held;

describe('interrupt faults act on the raise that reaches the GIC', () => {
  it('drop-interrupt: the SRI never reaches the GIC, and the notification is lost', async () => {
    const { result, entries } = await run('drop', `  - { fault: drop-interrupt, intid: 8, to: hypervisor, count: 1 }\n${send('vm1')}`);
    const [dropped] = faults(entries, 'drop');
    assert.ok(dropped && dropped.event.type === 'fault' && dropped.event.to === 'gic' && dropped.event.message.kind === 'irq');
    assert.equal(records(entries, 'gic', 'gic-deliver').length, 0);
    assert.equal(check(result, 'no-lost-notification'), false);
  });

  it('delay-interrupt: the raise arrives later by the delay, and the notification still arrives', async () => {
    const { result, entries } = await run('delay', `  - { fault: delay-interrupt, intid: 8, to: hypervisor, by: 3ms }\n${send('vm1')}`);
    const [delayed] = faults(entries, 'delay');
    const raise = records(entries, 'gic', 'gic-raise')[0];
    assert.ok(delayed && raise && raise.t - delayed.t >= 3_000_000, 'the GIC saw the SRI 3 ms later');
    assert.equal(result.passed, true);
  });

  it('duplicate-interrupt: the GIC sees the raise twice and merges or redelivers; nothing is a phantom', async () => {
    const { result, entries } = await run('duplicate', `  - { fault: duplicate-interrupt, intid: 8, to: vm1 }\n${send('vm1')}`);
    assert.ok(faults(entries, 'duplicate').length >= 1);
    const seen = [...records(entries, 'gic', 'gic-raise'), ...records(entries, 'gic', 'gic-merge')];
    const forVm1 = seen.filter((e) => e.event.type === 'record' && e.event.data['vm'] === 2);
    assert.ok(forVm1.length >= 2, 'the GIC saw the NPI for vm1 twice (raised, then merged or raised again)');
    assert.equal(result.passed, true);
  });

  it('spurious-interrupt: an NPI nothing made pending is delivered; the driver\'s GET finds nothing', async () => {
    const { result, entries } = await run('spurious', `  - { fault: spurious-interrupt, intid: 8, to: vm1, vcpu: 1 }\n  - { await: interrupt, to: vm1, vcpu: 1, intid: 8, within: 5ms }\n  - { await: idle }\n`);
    assert.equal(result.passed, true, JSON.stringify(result.steps));
    const gets = records(entries, 'vm1', 'notification-get');
    assert.ok(gets.length >= 1 && gets.every((e) => e.event.type === 'record' && e.event.data['sp'] === '0x0'));
  });

  it('hold-interrupt: the SRI stays pending at the GIC while its INTID is disabled, then is delivered', async () => {
    const { result, entries } = await run('hold', `  - { fault: hold-interrupt, intid: 8, for: 4ms }\n${send('vm1')}`);
    const configured = records(entries, 'gic', 'gic-configure');
    assert.equal(configured.length, 2, 'disabled, then enabled');
    const enabledAt = configured[1]?.t ?? 0;
    const firstDelivery = records(entries, 'gic', 'gic-deliver')[0];
    assert.ok(firstDelivery && firstDelivery.t >= enabledAt, 'delivered only once enabled again');
    assert.equal(result.passed, true);
  });
});

describe('call and link faults', () => {
  it('fail-call: the hypervisor\'s INFO_GET to the SPMD fails BUSY in place of the callee', async () => {
    const { entries } = await run('fail', `  - { fault: fail-call, call: FFA_NOTIFICATION_INFO_GET_64, between: [hypervisor, spmd], error: BUSY, count: 1 }\n${send('vm1')}`);
    const [failed] = faults(entries, 'fail');
    assert.ok(failed && failed.event.type === 'fault' && failed.event.from === 'hypervisor' && failed.event.to === 'spmd');
    const infoGets = records(entries, 'hypervisor', 'info-get');
    assert.equal(infoGets[0]?.event.type === 'record' && infoGets[0].event.data['result'], 'BUSY');
  });

  it('delay-call: the guest\'s calls reach the hypervisor later; the notification still arrives', async () => {
    const { result, entries } = await run('delay-call', `  - { fault: delay-call, call: FFA_NOTIFICATION_GET, between: [vm1, hypervisor], by: 2ms }\n${send('vm1')}`);
    assert.ok(faults(entries, 'delay').length >= 1);
    assert.equal(result.passed, true);
  });

  it('cut-link: nothing crosses the link both ways until it heals, then the world goes on', async () => {
    const { result, entries } = await run('cut', `  - { fault: cut-link, between: [hypervisor, gic], for: 5ms }\n${send('vm1')}  - { sleep: 10ms }\n${send('vm1')}`);
    const healedAt = records(entries, 'orchestrator', 'fault-healed')[0]?.t ?? 0;
    const drops = faults(entries, 'drop');
    assert.ok(drops.length >= 1 && drops.every((e) => e.t <= healedAt), 'drops only while cut');
    assert.ok(healedAt > 0);
    assert.equal(check(result, 'no-phantom-notification'), true);
  });
});

describe('component faults', () => {
  for (const runtime of ['sim', 'ws'] as const) {
    it(`crash: vm2 crashes, its VM is destroyed, and with restart-after a fresh kernel probes and gets notifications [${runtime}]`, async () => {
      const steps = `  - { fault: crash, component: vm2, restart-after: 10ms }\n  - { await: probe, in: vm2, within: 20s }\n${send('vm2')}  - { await: callback, in: vm2, notification: 0, within: 2s }\n`;
      const { result, entries } = await run('crash', steps, { runtime });
      const lifecycle = entries.filter((e) => e.event.type === 'component' && e.event.component === 'vm2').map((e) => (e.event.type === 'component' ? e.event.event : ''));
      assert.deepEqual(lifecycle.slice(0, 3), ['start', 'crash', 'restart']);
      const bitmaps = records(entries, 'hypervisor', 'fw-call').map((e) => (e.event.type === 'record' ? `${String(e.event.data['purpose'])} ${String(e.event.data['vm'])}` : ''));
      assert.ok(bitmaps.includes('vm-destroy 3'), 'the crashed VM was destroyed at the SPMC');
      assert.equal(bitmaps.filter((b) => b === 'vm-create 3').length, 2, 'and created again');
      assert.equal(result.passed, true, JSON.stringify(result.steps.filter((s) => !s.passed)));
    });

    it(`stall: the GIC handles nothing while stalled; what arrived meanwhile is handled after [${runtime}]`, async () => {
      // The stall reaches the GIC's worker through the supervisor: give it time to be in place.
      const { result, entries } = await run('stall', `  - { fault: stall, component: gic, for: 30ms }\n  - { sleep: 10ms }\n${send('vm1')}`, { runtime });
      // The stall is in place when the orchestrator records it installed (every worker applied it),
      // and lasts 30 ms from then.
      const stalledAt = records(entries, 'orchestrator', 'fault-installed')[0]?.t ?? Infinity;
      const firstRaise = records(entries, 'gic', 'gic-raise')[0];
      assert.ok(firstRaise && firstRaise.t >= stalledAt + 30_000_000, 'the GIC took the SRI only after the stall');
      assert.equal(result.passed, true);
    });
  }

  it('swarm: a profile drawn from the seed, the same for the same seed, applied as faults', async () => {
    const scenario = readScenarioText(`name: swarm\n${WORLD}steps:\n  - { fault: swarm, intensity: 0.5 }\n${send('all', 6)}checks: [no-phantom-notification]\n`, 'swarm.yaml');
    assert.deepEqual(swarmProfile(scenario, 9), swarmProfile(scenario, 9));
    const profiles = new Set([1, 2, 3, 4, 5, 6].map((seed) => JSON.stringify(swarmProfile(scenario, seed))));
    assert.ok(profiles.size > 1, 'seeds draw different profiles');
    const { entries } = await runScenario(scenario, { runtime: 'sim', seed: 9 });
    const [swarm] = records(entries, 'orchestrator', 'swarm');
    assert.ok(swarm && swarm.event.type === 'record');
    assert.equal((swarm.event.data['faults'] as unknown[]).length, swarmProfile(scenario, 9)[0]?.faults.length);
  });
});
