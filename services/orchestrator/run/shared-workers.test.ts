/**
 * Guests sharing worker threads (a large world: a guest is not a thread), and the platform's
 * components sharing them (--platform-workers). Each component keeps its own node, links,
 * identity and keys, so the world behaves as with a worker per component.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemoryHistorySink } from '../../../shared/runtime/history.ts';
import { readScenarioText } from '../scenario/reader/index.ts';
import { runScenario } from './runner.ts';
import { buildWorldSpec } from './world-builder.ts';
import { startWsWorld } from '../../../shared/runtime/ws/supervisor.ts';
import { workerGroups } from '../../../shared/runtime/ws/worker-placement.ts';
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

describe('ws runtime: the platform\'s components sharing workers', () => {
  const spec = (text: string) =>
    buildWorldSpec(readScenarioText(text, 'shared-platform.yaml'), 1, { runtime: 'ws', cpus: 4, steps: [], timedFaults: [], bootedGuests: [], vms: [], sps: [], hypervisor: true, swarms: [] });
  const sorted = (groups: string[][]) => groups.map((group) => [...group].sort()).sort((a, b) => a.join().localeCompare(b.join()));

  it('4: one worker each (the default); 2: the secure side, and EL2 with the GIC; 1: all four; the orchestrator and guests as before', () => {
    const world = spec(SCENARIO);
    const guests = [['g1', 'g2', 'g3', 'g4', 'g5']];
    assert.deepEqual(sorted(workerGroups(world, 5)), sorted([['gic'], ['hypervisor'], ['orchestrator'], ['spmc'], ['spmd'], ...guests]));
    assert.deepEqual(sorted(workerGroups(world, 5, 4)), sorted(workerGroups(world, 5)));
    assert.deepEqual(sorted(workerGroups(world, 5, 2)), sorted([['spmc', 'spmd'], ['gic', 'hypervisor'], ['orchestrator'], ...guests]));
    assert.deepEqual(sorted(workerGroups(world, 5, 1)), sorted([['gic', 'hypervisor', 'spmc', 'spmd'], ['orchestrator'], ...guests]));
  });

  it('a bare-metal world (no hypervisor) shares what it has', () => {
    const metal = spec('name: metal\nworld:\n  hypervisor: { profile: none }\n  vms: [{ name: host, vcpus: 2, driver: linux-6.10 }]\n');
    assert.deepEqual(sorted(workerGroups(metal, 1, 2)), sorted([['spmc', 'spmd'], ['gic'], ['orchestrator'], ['host']]));
  });

  it('runs the world as well with the platform in one worker: every notification delivered, nothing leaks', async () => {
    const { result } = await runScenario(readScenarioText(SCENARIO, 'shared-workers.yaml'), { runtime: 'ws', seed: 4, guestsPerWorker: 5, platformWorkers: 1 });
    assert.equal(result.passed, true, JSON.stringify(result.checks.filter((c) => !c.passed)));
  });
});
