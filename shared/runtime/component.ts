/**
 * The service model (docs/design.md §3): a component is a message handler with no ambient I/O.
 * It is handed its clock, its random stream, a logger and a way to send; it never calls
 * `Date.now()`, `Math.random()`, `setTimeout` or a socket itself. The sim runtime and the ws
 * runtime drive the same component code.
 */
import type { Logger } from 'pino';
import type { HistoryEvent } from './history.ts';
import type { ServiceTimeSpec } from './service-time.ts';
import type { FaultRule } from './interceptor.ts';
import type { BufferWrite, CallMessage, Conduit, Message, RegisterFile, SentMessage } from '../protocol/messages.ts';
import type { RecordData } from '../protocol/records.ts';
import type { Role } from '../protocol/roles.ts';

export type { Role };

/** Time in nanoseconds since the run started (virtual under sim, monotonic real time under ws). */
export interface Clock {
  nowNs(): number;
}

/** A seeded random stream, independent per component. */
export interface RandomSource {
  /** Uniform integer in [0, 2^32). */
  nextU32(): number;
  /** Uniform float in [0, 1). */
  nextFloat(): number;
  /** Uniform integer in [0, bound). */
  intBelow(bound: number): number;
}

/** What the caller of `ctx.call` gets back: the callee's registers, or why there are none. */
export type CallOutcome =
  | { ok: true; regs: RegisterFile; memory: BufferWrite | null }
  | { ok: false; reason: CallFailure; detail: string };

/**
 * Infrastructure outcomes of a call (not FF-A errors: those come back as registers).
 * - timeout: no return within the caller's bound (a link cut, a crashed callee);
 * - unreachable: no link to that component;
 * - busy: the caller already has its bound of calls in flight on that vCPU, or the link's queue
 *   is full (backpressure).
 */
export type CallFailure = 'timeout' | 'unreachable' | 'busy';

export interface CallRequest {
  conduit: Conduit;
  endpoint: number;
  vcpu: number;
  cpu: number;
  regs: RegisterFile;
  /** The caller's TX buffer as the callee reads it (messages.ts CallMessage.memory); absent: none. */
  memory?: BufferWrite | null;
  /** Bound on the wait for the return; absent: the runtime's default. */
  timeoutNs?: number;
}

export type TimerHandle = number;

/** A semantic event a component records in the history (a handler's decision, a callback): a name of records.ts and its fields. */
export type RecordedEvent = RecordData;

export interface ComponentContext {
  /** This component's name in the world ("spmd", "vm1", …). */
  readonly name: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: Logger;
  /** Send a one-way message. Faults and backpressure apply; a refused send is in the history. */
  send(to: string, message: SentMessage): void;
  /** Issue a call; `onReturn` runs exactly once, with the return or the failure. */
  call(to: string, request: CallRequest, onReturn: (outcome: CallOutcome) => void): void;
  /** Answer a call this component received from `to`; `memory`: what the call wrote into an RX buffer on the caller's side. */
  reply(to: string, call: CallMessage, regs: RegisterFile, memory?: BufferWrite | null): void;
  /** Run `onFire` after `delayNs` of this runtime's time. */
  setTimer(delayNs: number, onFire: () => void): TimerHandle;
  cancelTimer(handle: TimerHandle): void;
  /** Append a semantic event to the history. */
  record(event: RecordedEvent): void;
  /** Only the world's orchestrator (WorldSpec.orchestrator) has it: the experimenter's powers. */
  readonly world?: WorldControl;
}

/**
 * What the experimenter may do to the world as a whole (docs/design.md §7: faults are data,
 * applied at the one interception point). Under ws a change reaches every worker through the
 * supervisor, a few hundred microseconds later; `done` runs once every worker has applied it
 * (under sim, at once), so a scenario's next step never races its own fault.
 */
export interface WorldControl {
  /** Install fault rules at every component's interception point. */
  installFaults(rules: FaultRule[], done?: () => void): void;
  /** Remove them again (the fault heals). */
  removeFaults(ids: string[], done?: () => void): void;
  /** Crash a component: its state is gone, nothing of it runs, what arrives for it is lost. */
  crash(component: string, detail: string, done?: () => void): void;
  /** Start a fresh instance of a crashed component (same factory and config). */
  restart(component: string, detail: string, done?: () => void): void;
  /** Stall a component: deliveries and timers wait until it resumes. */
  stall(component: string, done?: () => void): void;
  resume(component: string, done?: () => void): void;
}

/**
 * An event of another component's history, as the orchestrator observes it: semantic records,
 * interrupt deliveries and component starts, stops and crashes (what scenario steps await).
 */
export interface ObservedEvent {
  t: number;
  event: HistoryEvent;
}

/** Which history events the orchestrator observes (the rest would only cost). */
export function isObservable(event: HistoryEvent, orchestrator: string): boolean {
  switch (event.type) {
    case 'record':
      return event.component !== orchestrator;
    case 'deliver':
      return event.message.kind === 'irq' && event.message.op === 'deliver';
    case 'component':
      return true;
    case 'fault':
      return event.message.kind === 'irq';
    default:
      return false;
  }
}

export interface Component {
  /** Called once, after every link of the world exists. */
  onStart(): void;
  /** Every message except returns (those go to the `call` continuation). */
  onMessage(from: string, message: Message): void;
  /** Called when the component is stopped cleanly. */
  onStop?(): void;
  /** The orchestrator only: other components' observable history events, in the order seen. */
  onObserve?(events: readonly ObservedEvent[]): void;
  /**
   * The link to `peer` closed while this component ran (ws runtime only: a process or container
   * went away). Under sim links never close; a crash fault keeps the link.
   */
  onLinkLost?(peer: string): void;
}

/**
 * Builds a component. `config` is plain data (structured-clone and msgpack safe), so the same
 * factory can run in-thread (sim), in a worker thread or in a separate OS process (ws).
 */
export type ComponentFactory<Config = unknown> = (ctx: ComponentContext, config: Config) => Component;

/** How a world names one component: its name, which factory module builds it, and its config. */
export interface ComponentSpec {
  name: string;
  role: Role;
  /** Module path relative to the project root exporting `create: ComponentFactory`. */
  module: string;
  config: unknown;
}


/** A world: its components and which pairs are linked (a link carries messages both ways). */
export interface WorldSpec {
  seed: number;
  components: ComponentSpec[];
  /** [a, b]: a opens the link to b. */
  links: [string, string][];
  /**
   * Components that record `{ event: 'done' }` when their work is over (a driver, a workload).
   * A run ends when all of them have (or, under sim, when nothing is left to do).
   */
  finishers?: string[];
  /** The component that runs the scenario: it gets `ctx.world` and observes the others' history. */
  orchestrator?: string;
  /** Under sim, handlers occupy their processor for these times (service-time.ts); ws runs on real time and ignores it. */
  serviceTimes?: ServiceTimeSpec;
}
