/**
 * The supervisor ↔ worker protocol, declared once (as piscina's types.ts does). Everything
 * crosses a MessagePort by structured clone, which keeps bigints (registers, fault rules' fids).
 */
import type { MessagePort } from 'node:worker_threads';
import type { LevelWithSilent } from 'pino';
import type { ComponentSpec } from '../component.ts';
import type { HostLimits } from '../component-host.ts';
import type { HistoryEvent } from '../history.ts';
import type { FaultRule } from '../interceptor.ts';
import type { Credentials } from './credentials.ts';
import type { LinkLimits } from './limits.ts';
import type { PeerAddress } from './node.ts';
import type { LogFormat } from '../log-format.ts';

/** One component a worker runs: its own node, and the keys of its own links only. */
export interface ComponentSetup {
  component: ComponentSpec;
  credentials: Credentials;
  /** The world's orchestrator: it observes the others and may change faults. */
  orchestrator: boolean;
}

/** workerData: everything a worker needs to build its nodes (one per component it runs). */
export interface WorkerSetup {
  components: ComponentSetup[];
  seed: number;
  worldNames: string[];
  /** process.hrtime.bigint() at the run's start, as a decimal string. */
  startNs: string;
  faults: FaultRule[];
  hostLimits?: Partial<HostLimits>;
  linkLimits?: Partial<LinkLimits>;
  logLevel: LevelWithSilent;
  /** Decided by the main thread: a worker's stderr is a pipe, never a terminal. */
  logFormat: LogFormat;
  listenHost: string;
  /** Bound on opening this component's links. */
  connectDeadlineMs: number;
  /**
   * The world's orchestrator and this worker's direct channel to the worker that runs it: this
   * worker posts its components' observable events there (ObservedEvent[] a message), past the
   * supervisor's thread. Absent in a world without an orchestrator.
   */
  observer?: { orchestrator: string; port: MessagePort };
  /** The orchestrator's worker: one port per worker (its own included), each carrying that worker's observable events. */
  observed?: MessagePort[];
}

/** Every command after WorkerLoad names the component it is for. */
export interface AddressedCommand {
  to: string;
  command: SupervisorCommand;
}

/** Every report names the component it is about. */
export interface AddressedReport {
  from: string;
  report: WorkerReport;
}

/**
 * The first message to every worker (worker-entry.mjs), sent once the supervisor knows where the
 * workers' code is: the bundle's file URL (bundle.ts), or null to load the TypeScript sources
 * through tsx.
 */
export interface WorkerLoad {
  type: 'load';
  bundle: string | null;
}

/**
 * Websocket frames a worker's links carried (link.ts LinkStats), summed over its components and
 * read as each stops: what `npm run bench` divides the process's CPU time by.
 */
export interface FrameCounts {
  sent: number;
  received: number;
}

export interface TimedEvent {
  t: number;
  event: HistoryEvent;
}

/** What the orchestrator may do to one component (shared/runtime/component.ts WorldControl). */
export type ComponentOp = 'crash' | 'restart' | 'stall' | 'resume';

export type SupervisorCommand =
  | { type: 'connect'; peers: PeerAddress[] }
  | { type: 'start' }
  | { type: 'stop'; detail: string }
  /** Every worker: install and remove fault rules (the orchestrator asked); answered `applied`. */
  | { type: 'faults'; install: FaultRule[]; remove: string[]; ack: number }
  /** One worker: a fault on its component; answered `applied`. */
  | { type: 'component-op'; op: ComponentOp; detail: string; ack: number }
  /** The orchestrator's worker: every worker has applied its request `ack`. */
  | { type: 'world-applied'; ack: number };

export type WorkerReport =
  | { type: 'listening'; url: string }
  | { type: 'linked' }
  | { type: 'started' }
  /** History events in the order they happened, batched per turn of the worker's event loop. */
  | { type: 'history'; events: TimedEvent[] }
  | { type: 'stopped'; frames: FrameCounts }
  /** The orchestrator changes the world's faults (`ack` names the request). */
  | { type: 'faults'; install: FaultRule[]; remove: string[]; ack: number }
  /** The orchestrator crashes, restarts, stalls or resumes a component. */
  | { type: 'component-op'; op: ComponentOp; component: string; detail: string; ack: number }
  /** This worker applied the orchestrator's request `ack`. */
  | { type: 'applied'; ack: number }
  /** The worker's V8 heap in use, sampled (its components share it). */
  | { type: 'memory'; heapUsedBytes: number }
  /** Setup failed (not a component bug: those crash the worker). */
  | { type: 'failed'; detail: string };
