/**
 * The load test's world (`ffa-world load`): a scenario built in code, as YAML text read
 * back through the scenario reader (scenario/reader/), so it is validated and normalized exactly as a file would be.
 *
 * - A Xen-like hypervisor, an OP-TEE-like SPMC (profile optee) with OP-TEE's logical SP 0x8001,
 *   N guests g1..gN (linux-6.10, V vCPUs, OP-TEE's client on; FF-A IDs 1..N), `cpus` CPUs.
 * - Steps: a `workload: notifications` from 0x8001 to every guest at R/s, for D or C
 *   notifications (open model: arrival i is due at start + i / R, services/orchestrator/workload.ts),
 *   then its drain: the world runs on until it is quiet or the drain's bound passes.
 * - Checks: no-lost-notification (a notification still pending when the drain ended is lost; one
 *   delivered late is not), no-phantom-notification, and the latency thresholds given (any
 *   measure: corrected, end-to-end, a hop, a hop's transport or protocol part).
 *
 * The world builder sizes the SPMC's VM slots and the GIC's VM table to the number of VMs; the
 * components' own bounds cap how many guests a world may hold (`loadWorldCapacity`).
 */
import { Document, isScalar, visit } from 'yaml';
import { OPTEE_SP_ID } from '../../../shared/ffa/index.ts';
import { LIMITS as GIC_LIMITS } from '../../gic/config.ts';
import { DEFAULT_VARIANT } from '../../guest/variants.ts';
import { CONFIG_LIMITS as HYPERVISOR_LIMITS } from '../../hypervisor/config.ts';
import { CONFIG_LIMITS as SPMC_LIMITS } from '../../spmc/config.ts';
import { readScenarioText } from '../scenario/reader/index.ts';
import { DEFAULT_DRAIN_NS, SCENARIO_LIMITS } from '../scenario/value-shapes.ts';
import type { LatencyThresholds, Scenario, SpmcProfile } from '../scenario/types.ts';

/** Guest names: g1..gN. */
export const GUEST_PREFIX = 'g';

export interface LoadWorldOptions {
  guests: number;
  vcpus: number;
  cpus: number;
  /** Offered rate, notifications a second (open model). */
  ratePerSecond: number;
  /** Exactly one of durationNs and count. */
  durationNs: number | null;
  count: number | null;
  /** Latency thresholds (ns) by measure and percentile: the scenario's `{ latency: … }` check. */
  thresholds: LatencyThresholds | null;
  /** The workload's drain (ns); null: the scenario format's default (DEFAULT_DRAIN_NS). */
  drainNs: number | null;
  seed: number | null;
  runtime: 'sim' | 'ws' | null;
  /**
   * The SPMC: optee (OP-TEE at S-EL1: INFO_GET not destructive, so past 20 pending VMs Xen's loop
   * sees the same 20 again) or hafnium (INFO_GET destructive; OP-TEE runs as an SP).
   */
  spmc: SpmcProfile;
  /** Under sim, a service-time table's name (scenario/service-times.ts); null: handlers take no time. */
  serviceTimes: string | null;
}

export class LoadWorldError extends Error {
  override readonly name = 'LoadWorldError';
}

/** The most guests a load world can hold, and the bound that says so. */
export function loadWorldCapacity(): { guests: number; bound: string } {
  const bounds = [
    { guests: SCENARIO_LIMITS.vms, bound: 'the scenario reader (services/orchestrator/scenario/value-shapes.ts SCENARIO_LIMITS.vms)' },
    { guests: SPMC_LIMITS.vmSlotsMax, bound: 'the SPMC\'s VM slots (services/spmc/config.ts vmSlotsMax)' },
    { guests: HYPERVISOR_LIMITS.maxVmsMax, bound: 'the hypervisor\'s VM table (services/hypervisor/config.ts maxVmsMax)' },
    { guests: GIC_LIMITS.maxVmsMax, bound: 'the GIC\'s VM table (services/gic/config.ts maxVmsMax)' },
    // The GIC's rights: one entry per guest, plus the SPMC, the hypervisor and the orchestrator.
    { guests: GIC_LIMITS.rightsMax - 3, bound: 'the GIC\'s rights table (services/gic/config.ts rightsMax)' },
  ];
  return bounds.reduce((least, b) => (b.guests < least.guests ? b : least));
}

/** A name for the scenario that says what it is: load-g64-v2-5000ps-2s. */
export function loadScenarioName(options: LoadWorldOptions): string {
  const end = options.count !== null ? `${options.count}n` : `${(options.durationNs ?? 0) / 1e6}ms`;
  return `load-${options.spmc}-g${options.guests}-v${options.vcpus}-${options.ratePerSecond}ps-${end}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

const durationText = (ns: number): string => (ns % 1e6 === 0 ? `${ns / 1e6}ms` : `${ns}ns`);

/** The scenario as a plain object, in the format's own keys (docs/scenarios.md). */
export function loadScenarioInput(options: LoadWorldOptions): Record<string, unknown> {
  if ((options.durationNs === null) === (options.count === null)) throw new LoadWorldError('give a duration or a count of notifications, not both and not neither');
  const capacity = loadWorldCapacity();
  if (options.guests > capacity.guests) throw new LoadWorldError(`${options.guests} guests: a world holds at most ${capacity.guests}, the bound of ${capacity.bound}`);
  const workload: Record<string, unknown> = {
    workload: 'notifications',
    senders: [OPTEE_SP_ID],
    receivers: 'all',
    rate: `${options.ratePerSecond}/s`,
    ...(options.count !== null ? { count: options.count } : { duration: durationText(options.durationNs ?? 0) }),
    drain: durationText(options.drainNs ?? DEFAULT_DRAIN_NS),
  };
  const checks: unknown[] = ['no-lost-notification', 'no-phantom-notification'];
  const thresholds = Object.entries(options.thresholds ?? {}).map(([measure, limits]) => [measure, Object.fromEntries(Object.entries(limits).map(([p, ns]) => [p, durationText(Math.round(ns))]))]);
  if (thresholds.length > 0) checks.push({ latency: Object.fromEntries(thresholds) });
  return {
    name: loadScenarioName(options),
    description: `ffa-world load: ${options.guests} guests x ${options.vcpus} vCPUs, OP-TEE's SP 0x8001 notifying every guest at ${options.ratePerSecond}/s`,
    ...(options.seed === null ? {} : { seed: options.seed }),
    ...(options.runtime === null ? {} : { runtime: options.runtime }),
    world: {
      cpus: options.cpus,
      // A slot per guest: the load world measures the notification path at any scale, so it is
      // built as an SPMC configured for that many guests (CFG_VIRT_GUEST_COUNT / MAX_VMS raised).
      spmc: { profile: options.spmc, vmSlots: options.guests, partitions: [{ id: OPTEE_SP_ID, name: 'optee', vcpus: options.cpus, behaviour: 'optee' }] },
      hypervisor: { profile: 'xen' },
      vms: [{ name: GUEST_PREFIX, count: options.guests, vcpus: options.vcpus, driver: DEFAULT_VARIANT, opteeClient: true }],
      ...(options.serviceTimes === null ? {} : { serviceTimes: options.serviceTimes }),
    },
    steps: [workload],
    checks,
  };
}

/** The scenario as YAML text (what `--out` writes as scenario.yaml, so `ffa-world run` replays it). */
export function loadScenarioYaml(options: LoadWorldOptions): string {
  const doc = new Document(loadScenarioInput(options));
  // The SP's ID as the format's examples write it: 0x8001.
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && node.value === OPTEE_SP_ID) node.format = 'HEX';
    },
  });
  doc.commentBefore = ' Written by `ffa-world load` (services/orchestrator/load-test/load-world.ts).';
  return doc.toString({ lineWidth: 0 });
}

/**
 * The load scenario, loaded. `file` names it in messages and in the result (and in the runner's
 * replay command: give the path scenario.yaml is written to). Throws LoadWorldError for a world the
 * components cannot hold, ScenarioError when the loader refuses it.
 */
export function buildLoadScenario(options: LoadWorldOptions, file = `${loadScenarioName(options)}.yaml`): { scenario: Scenario; yaml: string } {
  const yaml = loadScenarioYaml(options);
  return { scenario: readScenarioText(yaml, file), yaml };
}
