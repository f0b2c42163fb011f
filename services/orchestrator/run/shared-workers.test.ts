/**
 * Guests sharing worker threads (a large world: a guest is not a thread). Each guest keeps its own
 * node, links, identity and keys, so the world behaves as with a worker per guest.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemoryHistorySink } from '../../../shared/runtime/history.ts';
import { readScenarioText } from '../scenario/reader/index.ts';
import { runScenario } from './runner.ts';
import { buildWorldSpec } from './world-builder.ts';
import { startWsWorld } from '../../../shared/runtime/ws/supervisor.ts';
import type { WsWorld } from '../../../shared/runtime/ws/ws-world.ts';

const SCENARIO = `name: shared-workers
world:
  hypervisor: { profile: xen }
  vms: [{ name: g, count: 5, vcpus: 2, driver: linux-6.10 }]
steps:
  - { workload: notifications, senders: [0x8001], receivers: all, rate: 1000/s, count: 10 }
  - { await: idle }
checks: [no-lost-notification, no-phantom-notification, no-leak, conformance]
`;

const worlds: WsWorld[] = [];
after(async () => {
  for (const world of worlds) await world.stop();
});

describe('ws runtime: guests sharing workers', () => {
  it('puts guests in workers of guestsPerWorker, the platform components in one each', async () => {
    const scenario = readScenarioText(SCENARIO, 'shared-workers.yaml');
    const spec = buildWorldSpec(scenario, 1, { runtime: 'ws', cpus: 4, steps: [], timedFaults: [], bootedGuests: [], vms: [], sps: [], hypervisor: true, swarms: [] });
    const world = startWsWorld(spec, { history: new MemoryHistorySink(), workerLogLevel: 'silent', guestsPerWorker: 2 });
    worlds.push(world);
    await world.ready;
    // gic, spmd, spmc, hypervisor, orchestrator alone; five guests in three workers.
    assert.equal(world.workerCount, 5 + 3);
    assert.equal(world.urls.size, spec.components.length, 'every component listens on its own');
  });

  it('runs the world as well: every notification reaches its own guest, nothing leaks', async () => {
    const { result } = await runScenario(readScenarioText(SCENARIO, 'shared-workers.yaml'), { runtime: 'ws', seed: 4, guestsPerWorker: 5 });
    assert.equal(result.passed, true, JSON.stringify(result.checks.filter((c) => !c.passed)));
  });
});
