/**
 * Property tests, under both runtimes: a hypervisor raises, configures, moves vCPUs and injects at
 * random while it and a guest acknowledge and end every delivery as it arrives. Whatever the
 * interleaving, the GIC's records must replay through an independent model of the GICv3 life and
 * priority rule (test-support/checker.ts), and once everything is enabled and online again
 * nothing may be left pending or active: no interrupt is lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RUNTIMES, runWorldInMemory } from '../../shared/runtime/run-world.ts';
import { gicConfig, VM1_ID } from './test-support/configs.ts';
import { checkGicHistory } from './test-support/checker.ts';
import { awaitSignal, configure, lifecycle, physical, send, settle, signal, sync, virtual } from './test-support/frames.ts';
import { records } from './test-support/history.ts';
import type { ActorStep } from './test-support/irq-actor.ts';
import { runGicWorld } from './test-support/run.ts';
import { gicWorld, type GicWorldOptions } from './test-support/world.ts';

const CPUS = 2;
const SPIS = 2;
const vm = VM1_ID;
/** Non-secure INTIDs the hypervisor raises: a few SGIs (8 the donated SRI), a PPI, two SPIs; few, so edges meet. */
const SGIS = [0, 1, 8];
const PPIS = [27];
const SPI_IDS = [32, 33];
const PRIORITIES = [0x40, 0x80, 0xa0, 0xc0];
/** How long a handler runs before its EOI, so that raises meet interrupts active (a hop is 10-15 µs under sim). */
const HANDLER_NS = 100_000;

const cpu = fc.integer({ min: 0, max: CPUS - 1 });
const vcpu = fc.integer({ min: 0, max: 1 });

/** One random step of the hypervisor's script. */
const hypervisorStep: fc.Arbitrary<ActorStep> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...SGIS, ...PPIS), cpu).map(([intid, c]) => send(physical('raise', intid, c))) },
  { weight: 2, arbitrary: fc.constantFrom(...SPI_IDS).map((intid) => send(physical('raise', intid, -1))) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...SGIS, ...PPIS), fc.option(cpu, { nil: undefined }), fc.boolean())
      .map(([intid, c, enabled]) => send(configure(c === undefined ? { intid, enabled } : { intid, cpu: c, enabled }))),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...SGIS, ...PPIS, ...SPI_IDS), fc.constantFrom(...PRIORITIES)).map(([intid, priority]) => send(configure({ intid, priority }))),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...SPI_IDS), cpu).map(([intid, targetCpu]) => send(configure({ intid, targetCpu }))) },
  { weight: 1, arbitrary: fc.tuple(vcpu, cpu).map(([v, p]) => send(lifecycle('vcpu-online', vm, v, p))) },
  { weight: 1, arbitrary: vcpu.map((v) => send(lifecycle('vcpu-offline', vm, v))) },
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 1, max: 4 }), vcpu).map(([intid, v]) => send(virtual('raise', intid, vm, v))) },
  { weight: 3, arbitrary: fc.integer({ min: 5_000, max: 120_000 }).map((ns): ActorStep => ({ do: 'wait', ns })) },
);

/** Enable everything and bring every vCPU online, so whatever is still pending must be delivered. */
const RESTORE: ActorStep[] = [
  ...[...SGIS, ...PPIS, ...SPI_IDS].map((intid) => send(configure({ intid, enabled: true }))),
  send(lifecycle('vcpu-online', vm, 0, 0)),
  send(lifecycle('vcpu-online', vm, 1, 1)),
];

function world(steps: ActorStep[], seed: number): GicWorldOptions {
  return {
    seed,
    // Two list registers and a queue that holds the rest: nothing is dropped, so nothing may be lost.
    gic: gicConfig({ cpus: CPUS, spis: SPIS, listRegisters: 2, heldQueueMax: 8 }),
    actors: {
      vm1: {
        autoAck: true,
        autoEoi: true,
        autoEoiDelayNs: HANDLER_NS,
        steps: [send(virtual('subscribe', 0, vm, -1)), sync, signal('hypervisor', 'subscribed'), awaitSignal('finish'), settle],
      },
      hypervisor: {
        autoAck: true,
        autoEoi: true,
        autoEoiDelayNs: HANDLER_NS,
        steps: [awaitSignal('subscribed'), send(physical('subscribe', 0, -1)), ...steps, ...RESTORE, settle, signal('vm1', 'finish')],
      },
    },
  };
}

const priorityOf = (intid: number) => (intid === 8 ? 0xf0 : 0xa0);

const RUNS = { sim: 40, ws: 4 } as const;

for (const runtime of RUNTIMES) {
  describe(`gic properties (${runtime})`, () => {
    it('replays through the GICv3 model, and leaves nothing pending once everything is deliverable', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(hypervisorStep, { minLength: 10, maxLength: 60 }), fc.integer({ min: 1, max: 1_000_000 }), async (steps, seed) => {
          const entries = await runGicWorld(world(steps, seed), runtime);
          const result = checkGicHistory(entries, { cpus: CPUS, priorityOf });
          assert.deepEqual(result.violations, []);
          assert.deepEqual([...result.outstanding], [], 'interrupts left pending or active: lost');
          assert.equal(result.counts['gic-ack'] ?? 0, result.counts['gic-eoi'] ?? 0, 'every acknowledged interrupt was ended');
          assert.equal(records(entries, 'gic-drop').length, 0);
        }),
        { numRuns: RUNS[runtime], seed: 20240301, endOnFailure: true },
      );
    });
  });
}

describe('gic determinism (sim)', () => {
  it('gives the same history for the same seed and script', async () => {
    const steps = fc.sample(fc.array(hypervisorStep, { minLength: 20, maxLength: 20 }), { numRuns: 1, seed: 7 })[0] ?? [];
    const run = async () => (await runWorldInMemory(gicWorld(world(steps, 42)), { runtime: 'sim' })).entries;
    const [first, second] = [await run(), await run()];
    assert.deepEqual(records(first), records(second));
    assert.ok(records(first, 'gic-deliver').length > 0);
  });
});
