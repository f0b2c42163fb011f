/**
 * A scenario after loading (docs/scenarios.md: a public interface): the
 * YAML's keys validated, counts expanded, endpoints resolved to FF-A IDs, calls encoded to their
 * registers and durations turned into nanoseconds. The reader (reader/) makes it, the world
 * builder (world-builder.ts) and the orchestrator (orchestrator.ts) run it, the checkers
 * (services/orchestrator/checkers) judge its history.
 */
import type { PeerClockUsed } from '../../../shared/runtime/ws/world-client.ts';
import type { BufferContent } from '../../../shared/ffa/buffer-content.ts';
import type { FfaErrorName } from '../../../shared/ffa/errors.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import type { VariantName as DriverName } from '../../guest/variants.ts';
import type { ProfileName as HypervisorProfile } from '../../hypervisor/profiles.ts';
import type { SpBehaviourName as SpBehaviour } from '../../spmc/config.ts';
import type { ProfileName as SpmcProfile } from '../../spmc/profiles.ts';

/** Where a key sits in its file, for messages a user can act on. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** The names of profiles, drivers and SP behaviours are the services' own lists. */
export type { DriverName, HypervisorProfile, SpBehaviour, SpmcProfile };

export interface PartitionDescription {
  id: number;
  name: string | null;
  uuid: string | null;
  vcpus: number;
  ffaVersion: string;
  notifications: boolean;
  messaging: ('direct' | 'indirect')[];
  behaviour: SpBehaviour;
}

export interface VmDescription {
  /** After count expansion: vm1, vm2, … */
  name: string;
  /** FF-A ID: Xen's domid + 1; the bare-metal host is 0. */
  id: number;
  vcpus: number;
  driver: DriverName;
  /** OP-TEE's client driver binds and takes async notifications (extension; default: driver is not raw and an optee SP exists). */
  opteeClient: boolean;
  /** Extension: false keeps the VM off until a `{ vm: create }` step (default true). */
  boot: boolean;
  /** Extension: the physical CPU of each vCPU (default vCPU i on CPU i mod cpus). */
  pcpus: number[] | null;
  /** Extension: guest driver policies (services/guest/config.ts). */
  policies: Record<string, unknown>;
}

export interface WorldDescription {
  cpus: number;
  spmc: {
    profile: SpmcProfile;
    ffaVersion: string;
    policies: Record<string, unknown>;
    /** The SPMC's normal-world VM slots; null: the profile's (services/spmc/profiles.ts vmSlots). */
    vmSlots: number | null;
    partitions: PartitionDescription[];
  };
  hypervisor: { profile: HypervisorProfile; policies: Record<string, unknown> };
  /** Under `none`: exactly one, named `host`, ID 0. */
  vms: VmDescription[];
  /** Under sim, how long handlers hold their processor: a table of service-times.ts, or `none`. */
  serviceTimes: string;
}

/** An endpoint a step names, resolved. */
export type Endpoint =
  | { kind: 'vm'; name: string; id: number }
  | { kind: 'host'; name: 'host'; id: 0 }
  | { kind: 'sp'; name: string; id: number }
  | { kind: 'hypervisor'; name: 'hypervisor'; id: 0 };

export type Expectation =
  | { kind: 'success' }
  | { kind: 'error'; code: FfaErrorName }
  /** Success and these decoded fields equal (numbers and bigints compare by value; lists whole, in order). */
  | { kind: 'success-fields'; fields: Record<string, unknown> }
  /** FFA_VERSION's w0: a version string such as "1.2", or NOT_SUPPORTED. */
  | { kind: 'version'; version: string }
  /** Raw registers of the return: keys w0..w17 (low 32 bits) or x0..x17. */
  | { kind: 'regs'; regs: Record<string, bigint> }
  | { kind: 'any' };

export type FaultSpec =
  | { kind: 'drop-interrupt'; intid: number; to: Endpoint | null; count: number | null; probability: number | null }
  | { kind: 'delay-interrupt'; intid: number; to: Endpoint | null; byNs: number; count: number | null; probability: number | null }
  | { kind: 'duplicate-interrupt'; intid: number; to: Endpoint | null; count: number | null; probability: number | null }
  | { kind: 'spurious-interrupt'; intid: number; to: Endpoint; vcpu: number }
  /** `fid` null: any call. */
  | { kind: 'fail-call'; fid: number | null; between: [string, string]; error: FfaErrorName; count: number | null; probability: number | null }
  | { kind: 'delay-call'; fid: number | null; between: [string, string]; byNs: number; count: number | null; probability: number | null }
  | { kind: 'cut-link'; between: [string, string]; forNs: number }
  /** A component's state is lost; with restartAfterNs, a fresh instance starts then (a guest's VM is destroyed and re-created). */
  | { kind: 'crash'; component: string; restartAfterNs: number | null }
  /** Extension: the component runs nothing for forNs (deliveries and timers wait). */
  | { kind: 'stall'; component: string; forNs: number }
  /** Extension: the INTID is disabled at the GIC for forNs, so its interrupts stay pending, then it is enabled again. */
  | { kind: 'hold-interrupt'; intid: number; forNs: number }
  | { kind: 'swarm'; intensity: number };

/** A pending call's name, and what its answer must be (the async step's `expect`, or the await step's). */
export interface PendingCallJudgement {
  name: string;
  /** The pending call's ABI, for details ("the answer to req (FFA_MSG_SEND_DIRECT_REQ_32)"). */
  fid: number;
  expect: Expectation;
}

interface StepBase {
  /** Position in `steps`, from 0. */
  index: number;
  /** A short text naming the step in messages ("step 3 (line 14): FFA_NOTIFICATION_GET from vm1"). */
  label: string;
  location: SourceLocation;
}

export type Step = StepBase &
  (
    | {
        kind: 'call';
        from: Endpoint;
        vcpu: number;
        /** The ABI name, or null for a function ID no codec knows. */
        abi: string | null;
        fid: number;
        /** x0..x17, x0 = fid: from named args through the ABI's codec, or the raw `regs`. */
        regs: RegisterFile;
        /** Extension `tx:`: what the caller's TX buffer holds when it calls (the call's buffer memory), or null. */
        tx: BufferContent | null;
        expect: Expectation;
        /**
         * Extension `async: NAME`: the call is made and the step ends at once; its answer is
         * judged by `expect` when a later step awaits (`await: call`) or answers it. Null: the
         * step waits for the answer, as a call step does.
         */
        async: string | null;
        /**
         * Extension `answers: NAME`: an SP's FFA_MSG_SEND_DIRECT_RESP to the pending direct
         * request NAME; after its own return the step waits for NAME's answer and judges it.
         */
        answers: PendingCallJudgement | null;
      }
    /** Extension `await: call`: the answer of the pending call `call`, judged by `expect`. */
    | { kind: 'await-call'; call: PendingCallJudgement; withinNs: number | null }
    | { kind: 'await-interrupt'; to: Endpoint; vcpu: number | null; intid: number; withinNs: number }
    | { kind: 'await-callback'; in: Endpoint; notification: number; withinNs: number }
    | { kind: 'await-idle' }
    /** Extension: the guest's kernel finished its probe (its `done` record). */
    | { kind: 'await-probe'; in: Endpoint; withinNs: number }
    /** Extension `await: message`: the driver in `in` read an indirect message (from `from`, when given) out of its RX buffer. */
    | { kind: 'await-message'; in: Endpoint; from: Endpoint | null; withinNs: number }
    | { kind: 'expect-none-interrupt'; to: Endpoint; vcpu: number | null; intid: number | null; forNs: number }
    | { kind: 'vm'; op: 'create' | 'destroy' | 'reboot'; vm: string }
    | { kind: 'vcpu'; op: 'online' | 'offline'; vm: string; vcpu: number }
    | { kind: 'sleep'; ns: number }
    | {
        kind: 'workload';
        /** SP IDs. */
        senders: number[];
        /** VM names. */
        receivers: string[];
        ratePerSecond: number;
        count: number | null;
        durationNs: number | null;
        /**
         * `drain:`, which makes it a load workload: after its window the step waits until the
         * world is quiet or this long has passed, and its notifications still pending then are
         * lost while those delivered later than the liveness bound are late (a latency figure),
         * not lost (no-lost-notification.ts). Null: no drain; the step ends with its window and
         * its notifications are judged by the liveness bound like any other.
         */
        drainNs: number | null;
      }
    | { kind: 'fault'; fault: FaultSpec }
  );

export interface TimedFault {
  atNs: number;
  fault: FaultSpec;
  location: SourceLocation;
}

export type CheckName = 'no-lost-notification' | 'no-phantom-notification' | 'no-leak' | 'conformance' | 'interrupt-hygiene' | 'latency';
export const CHECK_NAMES: readonly CheckName[] = ['no-lost-notification', 'no-phantom-notification', 'no-leak', 'conformance', 'interrupt-hygiene', 'latency'];

/** Latency thresholds in ns, per measure (LATENCY_MEASURES) and percentile. */
export type LatencyThresholds = Record<string, Partial<Record<PercentileName, number>>>;
export type PercentileName = 'p50' | 'p90' | 'p99' | 'p99.9' | 'max';

/**
 * The hops of a notification's path the latency checker measures (services/orchestrator/checkers/
 * latency.ts): under a hypervisor, and on bare metal (where the host's INFO_GET leads to its GET).
 */
export const LATENCY_HOPS = [
  'set→sri-raise', 'sri-raise→sri-deliver', 'sri-deliver→info-get', 'info-get→npi-inject', 'npi-inject→npi-deliver',
  'npi-deliver→get', 'info-get→get', 'get→callback', 'callback→bottom-half',
] as const;
/** A hop's time split: its own frames in flight, and the rest. */
export const LATENCY_PARTS = ['transport', 'protocol'] as const;

/**
 * Every measure a latency threshold may name: end-to-end (set → callback), corrected and
 * arrival→set (a workload's notifications, from each arrival's intended time), each hop, and each
 * hop's part as `hop:transport` or `hop:protocol`.
 */
export const LATENCY_MEASURES: readonly string[] = [
  'end-to-end', 'corrected', 'arrival→set',
  ...LATENCY_HOPS,
  ...LATENCY_HOPS.flatMap((hop) => LATENCY_PARTS.map((part) => `${hop}:${part}`)),
];

/** A measure as typed: `->` stands for the arrow, which shells and keyboards make awkward. */
export function latencyMeasureOf(text: string): string | null {
  const measure = text.trim().replaceAll('->', '→');
  return LATENCY_MEASURES.includes(measure) ? measure : null;
}

export interface CheckSpec {
  name: CheckName;
  /** `{ expect-fail: name }`: the check must fail (experiments whose point is a failure). */
  expectFail: boolean;
  thresholds: LatencyThresholds | null;
  location: SourceLocation;
}

export interface Scenario {
  file: string;
  name: string;
  description: string | null;
  seed: number | null;
  runtime: 'sim' | 'ws' | null;
  /** Values given beside the file (`--set KEY=VALUE`, reader/settings.ts) and read in place of its own; absent when none were. */
  settings?: readonly { key: string; value: string }[];
  world: WorldDescription;
  steps: Step[];
  faults: TimedFault[];
  checks: CheckSpec[];
}

// ---------------------------------------------------------------- what a run produces

export interface StepResult {
  index: number;
  passed: boolean;
  /** What happened, or why it failed ("expected { error: DENIED }, got FFA_SUCCESS_32"). */
  detail: string;
  label: string;
  /** Runtime time (ns) the step started and ended. */
  startNs: number;
  endNs: number;
  /** The step never ran (the world ended before it): not passed, but no failure of its own. */
  skipped?: true;
  /** A call step that returned: its registers x0.., as hex, the zero registers at the end left out. */
  returned?: string[];
}

/** One event of the history that made a check fail (its seq, time and a one-line description). */
export interface EvidenceEvent {
  seq: number;
  t: number;
  what: string;
}

export interface CheckFailure {
  /** One line a user can act on: which bit, which endpoints, what went wrong. */
  message: string;
  /** The notification ID (bit index) concerned, if any. */
  bit: number | null;
  /** Endpoint names or IDs concerned ("vm1", "0x8001"). */
  endpoints: string[];
  /** The events that made it fail, in history order (bounded). */
  events: EvidenceEvent[];
}

/** HDR percentiles of one measure, in ns. */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  'p99.9': number;
  max: number;
}

export interface LatencyReport {
  /** SET (or an SP's internal send) → the receiver's callback. */
  endToEnd: Percentiles;
  /**
   * A workload's notifications: each arrival's intended time → the callback that covered it,
   * corrected for coordinated omission (services/orchestrator/checkers/arrivals.ts); count 0
   * without a workload.
   */
  corrected: Percentiles;
  /** A workload's notifications: intended arrival → the SPMC made the bit pending. */
  arrivalToSet: Percentiles;
  /** Per hop, e.g. 'set→sri-raise', 'sri-deliver→info-get', 'npi-inject→npi-deliver', 'npi-deliver→get', 'get→callback'. */
  hops: Record<string, Percentiles>;
  /**
   * Each hop's time split (services/orchestrator/checkers/latency.ts): transport, the hop's own
   * frames in flight (send to delivery); protocol, the rest (handling, waiting for the protocol).
   */
  parts: Record<string, { transport: Percentiles; protocol: Percentiles }>;
  /**
   * A run attached to components on other machines, whose clocks were estimated over their links
   * (shared/runtime/ws/link-clocks.ts): a figure between two components is right within ± this
   * many ns (the two largest clock uncertainties added, by the run's end). Absent when every
   * component shared the orchestrator's clock.
   */
  clockUncertaintyNs?: number;
}

export interface CheckResult {
  name: string;
  /** After `expect-fail`: true when the check failed as expected. */
  passed: boolean;
  /** Whether the checker itself found the history good (before expect-fail). */
  held: boolean;
  expectFail: boolean;
  detail: string;
  /** Bounded (at most 20); `detail` says how many there were. */
  failures: CheckFailure[];
}

export interface ScenarioResult {
  name: string;
  file: string;
  passed: boolean;
  seed: number;
  runtime: 'sim' | 'ws';
  /** How the world ended: done, idle, timeout, max-events, crashed. */
  ended: string;
  steps: StepResult[];
  checks: CheckResult[];
  latency: LatencyReport;
  faultsApplied: number;
  historyEntries: number;
  historyHash: string;
  /** The command that runs the same scenario with the same seed. */
  replay: string;
  wallMs: number;
  /**
   * ws only: the process's peak RSS, the run's and the judging's (`judging`), and each worker's
   * peak V8 heap (by its components, joined with '+').
   */
  memory?: { rssPeakBytes: number; heapPeakBytes: Record<string, number> };
  /** Judging the history after the run (checkers, outputs): its wall time and the process's peak RSS meanwhile. */
  judging?: { wallMs: number; rssPeakBytes: number };
  /**
   * ws only: the websocket frames the links carried and the process's CPU time (all threads, µs)
   * from every component started to the world stopped (shared/runtime/ws/run-ws-world.ts).
   */
  traffic?: { frames: { sent: number; received: number }; cpuMicros: number };
  /** Members that left the world while it ran (a guest whose link dropped, and what became of its VM); absent when none did. */
  departures?: string[];
  /** An attached run with a component on another clock: how each component's times were mapped (and how well, by the run's end). */
  clocks?: Record<string, PeerClockUsed>;
  /**
   * A world of services only: registered guests the attach left out because they did not answer
   * within its bound (no proven link at their advertised URL, no history, no probe), each with
   * why; the run was judged without them. Absent when every registered guest answered.
   */
  absent?: string[];
  /**
   * Components whose own history stops early (a merged history's `tail-missing`: the process was
   * killed before it wrote its end), and when: what they did after that is unknown, and the
   * checks say so of what depended on it. Absent when every history is whole.
   */
  missingTails?: string[];
}

/** What the checkers need to know of the world that made a history (world-builder.ts builds it). */
export interface WorldModel {
  /** Component names. */
  gic: string;
  spmd: string;
  spmc: string;
  /** Null on bare metal. */
  hypervisor: string | null;
  orchestrator: string;
  /** Each guest component with the FF-A ID it speaks for (the bare-metal host: 0). */
  guests: { component: string; vmId: number; vcpus: number; driver: DriverName }[];
  spIds: number[];
  spmcProfile: SpmcProfile;
  hypervisorProfile: HypervisorProfile;
  /** When the last fault healed (runtime ns), or null when none was applied. */
  lastFaultHealNs: number | null;
  /** Liveness: a pending notification must reach its receiver within this after max(its SET, the last heal). */
  livenessBoundNs: number;
  /**
   * When the world went quiet after the last step (nothing recorded, no interrupt delivered for
   * the orchestrator's quiet window), or null. A bit still pending then will never be delivered:
   * it is lost even if its liveness deadline lies beyond the end of the run.
   */
  quietAtEndNs?: number | null;
}
