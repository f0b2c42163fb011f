/**
 * Where ffa_init (drivers/firmware/arm_ffa/driver.c, docs/ffa-reference.md §4.1) is: one state per step it
 * runs, in its order, and the pure transition from each to the next. The steps themselves (the
 * calls each makes) are driver-probe.ts's; DriverState keeps the state and is the only one that
 * changes it.
 */

/** ffa_init's steps, then its two ends. */
export enum ProbeStep {
  /** ffa_version_check: FFA_VERSION(1.2), min(firmware, driver) as the version. */
  VersionCheck = 'version-check',
  /** FFA_ID_GET: drv_info->vm_id. */
  IdGet = 'id-get',
  /** FFA_FEATURES(FFA_RXTX_MAP_64) for the buffer size, then FFA_RXTX_MAP_64. */
  RxtxSetup = 'rxtx-setup',
  /** ffa_drvinfo_flags_init: memory operations natively, DIRECT_REQ2. Cannot fail. */
  DrvinfoFlags = 'drvinfo-flags',
  /** ffa_notifications_setup: a refusal disables notifications, it does not fail the probe. */
  NotificationsSetup = 'notifications-setup',
  /** ffa_setup_partitions: the partition list, a device each. */
  SetupPartitions = 'setup-partitions',
  /** ffa_notifications_cleanup, after ffa_setup_partitions failed ("failed to setup partitions"). */
  NotificationsCleanup = 'notifications-cleanup',
  /** ffa_init returned 0: the FF-A bus and its devices exist. */
  Ready = 'ready',
  /** ffa_init failed: no FF-A at all. */
  Failed = 'failed',
}

export interface ProbeState {
  readonly step: ProbeStep;
  /** Why ffa_init fails: set by the step that failed, kept through the cleanup; null otherwise. */
  readonly failure: string | null;
}

/** How a step ended. */
export type StepOutcome = { readonly ok: true } | { readonly ok: false; readonly why: string };

export const STEP_OK: StepOutcome = { ok: true };

/** Where a driver starts: an automatic variant probes; `raw` has no probe and is ready at once. */
export function initialProbeState(automatic: boolean): ProbeState {
  return { step: automatic ? ProbeStep.VersionCheck : ProbeStep.Ready, failure: null };
}

export function isProbeOver(state: ProbeState): boolean {
  return state.step === ProbeStep.Ready || state.step === ProbeStep.Failed;
}

/**
 * The one place ffa_init's order lives. A failure of steps 1-3 ends the driver at once; a failure
 * of ffa_setup_partitions runs the notification cleanup first; the cleanup always ends in Failed.
 */
export function probeTransition(state: ProbeState, outcome: StepOutcome): ProbeState {
  const next = (step: ProbeStep): ProbeState => ({ step, failure: null });
  const failed = (why: string): ProbeState => ({ step: ProbeStep.Failed, failure: why });
  switch (state.step) {
    case ProbeStep.VersionCheck:
      return outcome.ok ? next(ProbeStep.IdGet) : failed(outcome.why);
    case ProbeStep.IdGet:
      return outcome.ok ? next(ProbeStep.RxtxSetup) : failed(outcome.why);
    case ProbeStep.RxtxSetup:
      return outcome.ok ? next(ProbeStep.DrvinfoFlags) : failed(outcome.why);
    case ProbeStep.DrvinfoFlags:
      return next(ProbeStep.NotificationsSetup);
    case ProbeStep.NotificationsSetup:
      return next(ProbeStep.SetupPartitions);
    case ProbeStep.SetupPartitions:
      return outcome.ok ? next(ProbeStep.Ready) : { step: ProbeStep.NotificationsCleanup, failure: outcome.why };
    case ProbeStep.NotificationsCleanup:
      return failed(state.failure ?? 'ffa_setup_partitions failed');
    case ProbeStep.Ready:
    case ProbeStep.Failed:
      throw new Error(`bug: ffa_init went on after it ended (${state.step})`);
  }
}

/** What the driver has learnt so far, for the invariants. */
export interface ProbeFacts {
  readonly vmId: number | null;
  readonly hasOwnPartition: boolean;
}

/** Steps after FFA_ID_GET know the driver's own ID; Ready has a device for it; only a failure has a reason. */
export function assertProbeInvariants(state: ProbeState, facts: ProbeFacts, automatic: boolean): void {
  const fail = (why: string): never => {
    throw new Error(`ffa_init invariant broken at ${state.step}: ${why}`);
  };
  const pastIdGet = state.step !== ProbeStep.VersionCheck && state.step !== ProbeStep.IdGet && state.step !== ProbeStep.Failed;
  if (automatic && pastIdGet && facts.vmId === null) fail('no VM ID after FFA_ID_GET');
  if (automatic && state.step === ProbeStep.Ready && !facts.hasOwnPartition) fail('ready without the host partition');
  const failing = state.step === ProbeStep.Failed || state.step === ProbeStep.NotificationsCleanup;
  if (failing !== (state.failure !== null)) fail(`failure ${String(state.failure)}`);
}
