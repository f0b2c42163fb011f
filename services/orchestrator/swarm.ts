/**
 * Swarm faults (docs/design.md §7; swarm testing after Groce et al.): a fault profile drawn from
 * the run's seed. Each fault kind is switched on or off at random, so different seeds explore
 * different combinations rather than every kind at a low rate, and each enabled kind gets a rate
 * scaled by `intensity`. The profile is a list of concrete faults, printed before the run starts,
 * so a failing seed names everything needed to replay it.
 */
import type { RandomSource } from '../../shared/runtime/component.ts';
import { randomStream } from '../../shared/runtime/random.ts';
import type { FaultSpec, Scenario } from './scenario/types.ts';

type RandomGenerator = RandomSource;

/** Mixes a swarm's position into the run's seed (the golden-ratio constant). */
const SWARM_SEED_MIX = 0x9e37_79b9;

function draw(rng: RandomGenerator, from: number, to: number): number {
  return rng.nextFloat() * (to - from) + from;
}

function pick<T>(rng: RandomGenerator, items: readonly T[]): T {
  const item = items[rng.intBelow(items.length)];
  if (item === undefined) throw new Error('bug: pick from an empty list');
  return item;
}

const US = 1_000;

/** The candidate faults of a world, each with its rate at intensity 1. */
function candidates(scenario: Scenario, rng: RandomGenerator, intensity: number): FaultSpec[] {
  const vms = scenario.world.vms;
  const underHypervisor = scenario.world.hypervisor.profile !== 'none';
  const firmware = underHypervisor ? 'hypervisor' : 'spmd';
  const p = (scale: number) => Math.min(1, intensity * scale);
  const faults: FaultSpec[] = [
    { kind: 'delay-interrupt', intid: 8, to: null, byNs: Math.round(draw(rng, 50, 2_000)) * US, count: null, probability: p(1) },
    { kind: 'duplicate-interrupt', intid: 8, to: null, count: null, probability: p(0.5) },
    { kind: 'drop-interrupt', intid: 8, to: null, count: null, probability: p(0.1) },
    { kind: 'delay-call', fid: null, between: [firmware, 'spmd' === firmware ? 'spmc' : 'spmd'], byNs: Math.round(draw(rng, 10, 1_000)) * US, count: null, probability: p(0.5) },
    { kind: 'fail-call', fid: null, between: ['spmd', 'spmc'], error: 'BUSY', count: null, probability: p(0.05) },
  ];
  const vm = vms.length > 0 ? pick(rng, vms) : null;
  if (vm) faults.push({ kind: 'delay-call', fid: null, between: [vm.name, firmware], byNs: Math.round(draw(rng, 10, 1_000)) * US, count: null, probability: p(0.5) });
  faults.push({ kind: 'stall', component: pick(rng, ['gic', 'spmc', firmware, ...vms.map((v) => v.name)]), forNs: Math.round(draw(rng, 100, 5_000)) * US });
  return faults;
}

/** The concrete faults a swarm of this intensity draws for this seed (each kind on with probability 1/2). */
export function drawSwarm(scenario: Scenario, seed: number, intensity: number, salt: number): FaultSpec[] {
  // A stream of its own, from a seed of its own (randomStream jumps the root once whatever its
  // name): the profile must not change when components or other swarms draw differently.
  const rng = randomStream((seed ^ Math.imul(salt + 1, SWARM_SEED_MIX)) >>> 0, '@swarm');
  return candidates(scenario, rng, intensity).filter(() => rng.intBelow(2) === 1);
}

/** A swarm in one line per fault, for the terminal and the history. */
export function describeFault(fault: FaultSpec): string {
  const fields = Object.entries(fault)
    .filter(([key, value]) => key !== 'kind' && value !== null)
    .map(([key, value]) => `${key} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  return `${fault.kind}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}`;
}

/** Every swarm of the scenario (steps and timed faults, in order), drawn for this seed. */
export function swarmProfile(scenario: Scenario, seed: number): { where: string; faults: FaultSpec[] }[] {
  const swarms: { where: string; intensity: number }[] = [
    ...scenario.steps.flatMap((step) => (step.kind === 'fault' && step.fault.kind === 'swarm' ? [{ where: `step ${step.index}`, intensity: step.fault.intensity }] : [])),
    ...scenario.faults.flatMap((timed, index) => (timed.fault.kind === 'swarm' ? [{ where: `timed fault ${index}`, intensity: timed.fault.intensity }] : [])),
  ];
  return swarms.map((swarm, salt) => ({ where: swarm.where, faults: drawSwarm(scenario, seed, swarm.intensity, salt) }));
}
