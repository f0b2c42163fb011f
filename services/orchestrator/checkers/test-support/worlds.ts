/**
 * Real histories for the checkers' tests: the guests' world builder (services/guest/test-support)
 * run under the sim runtime (deterministic per seed), and the WorldModel of such a world.
 */
import type { HistoryEntry } from '../../../../shared/runtime/history.ts';
import type { FaultRule } from '../../../../shared/runtime/interceptor.ts';
import { runWorldInMemory } from '../../../../shared/runtime/run-world.ts';
import type { CheckName, CheckResult, LatencyThresholds, WorldModel } from '../../scenario/types.ts';
import {
  ACTOR,
  GIC,
  HYPERVISOR,
  NOTIFIER_SP_ID,
  SPMC,
  awaitBottomHalf,
  awaitProbe,
  guestWorldSpec,
  opteeSend,
  type GuestWorld,
} from '../../../guest/test-support/world.ts';
import { OPTEE_SP_ID } from '../../../../shared/ffa/partition-id.ts';
import { runChecks } from '../index.ts';

export const LIVENESS_BOUND_NS = 100_000_000;

/** The model the checkers need of a guests' world (component names from its builder). */
export function modelOf(world: GuestWorld, overrides: Partial<WorldModel> = {}): WorldModel {
  const xen = world.hypervisor === 'xen';
  return {
    gic: GIC,
    spmd: 'spmd',
    spmc: SPMC,
    hypervisor: xen ? HYPERVISOR : null,
    orchestrator: ACTOR,
    guests: world.guests.map((g, index) => ({ component: g.name, vmId: xen ? (g.vmId ?? index + 1) : 0, vcpus: g.vcpus, driver: g.variant })),
    spIds: world.notifierSp ? [OPTEE_SP_ID, NOTIFIER_SP_ID] : [OPTEE_SP_ID],
    spmcProfile: world.spmcProfile,
    hypervisorProfile: xen ? 'xen' : 'none',
    lastFaultHealNs: null,
    livenessBoundNs: LIVENESS_BOUND_NS,
    ...overrides,
  };
}

/** Run the world under sim; the model's lastFaultHealNs is the last fault applied. */
export async function runUnderSim(world: GuestWorld, faults: FaultRule[] = []): Promise<{ entries: HistoryEntry[]; model: WorldModel }> {
  const { result, entries } = await runWorldInMemory(guestWorldSpec(world), { runtime: 'sim', faults, timeoutMs: 60_000 });
  if (result.ended !== 'done') throw new Error(`the world ended ${result.ended}`);
  const faultTimes = entries.filter((e) => e.event.type === 'fault').map((e) => e.t);
  return { entries, model: modelOf(world, { lastFaultHealNs: faultTimes.length > 0 ? Math.max(...faultTimes) : null }) };
}

/** One check's result, without expect-fail. */
export function check(entries: readonly HistoryEntry[], model: WorldModel, name: CheckName, thresholds: LatencyThresholds | null = null): CheckResult {
  const [result] = runChecks(entries, model, [{ name, expectFail: false, thresholds, location: { file: 'test', line: 0, column: 0 } }]);
  if (!result) throw new Error('bug: runChecks returned no result');
  return result;
}

/** dom0 (ID 1) and vm1 (ID 2), today's Linux driver with OP-TEE's client, under Xen, over OP-TEE. */
export function xenWorld(actor: GuestWorld['actor']): GuestWorld {
  return {
    hypervisor: 'xen',
    spmcProfile: 'optee',
    cpus: 4,
    guests: [
      { name: 'dom0', vmId: 1, variant: 'linux-6.10', vcpus: 2, opteeClient: true },
      { name: 'vm1', vmId: 2, variant: 'linux-6.10', vcpus: 2, opteeClient: true },
    ],
    actor,
  };
}

/** Both guests probed, then OP-TEE sends to each in turn `rounds` times, each awaited. */
export function xenSends(rounds: number): GuestWorld {
  const sends = Array.from({ length: rounds }, (_, round) => [
    opteeSend(1, round % 4),
    awaitBottomHalf('dom0', AWAIT_NS),
    opteeSend(2, (round + 1) % 4),
    awaitBottomHalf('vm1', AWAIT_NS),
  ]).flat();
  return xenWorld([awaitProbe('dom0'), awaitProbe('vm1'), ...sends]);
}

/** How long the actor waits for a bottom half: past the liveness bound, so a loss is decided. */
export const AWAIT_NS = 3 * LIVENESS_BOUND_NS;
