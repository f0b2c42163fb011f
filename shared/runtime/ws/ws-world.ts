/**
 * A world under the ws runtime as its user sees it (supervisor.ts runs it): how it is started,
 * waited on, measured and stopped.
 */
import type { LevelWithSilent, Logger } from 'pino';
import type { HostLimits } from '../component-host.ts';
import type { HistorySink } from '../history.ts';
import type { FaultRule } from '../interceptor.ts';
import type { LinkLimits } from './limits.ts';
import type { PlatformWorkers } from './worker-placement.ts';
import type { FrameCounts } from './worker-protocol.ts';

export interface WsWorldOptions {
  history: HistorySink;
  faults?: FaultRule[];
  hostLimits?: Partial<HostLimits>;
  linkLimits?: Partial<LinkLimits>;
  /** The supervisor's own log; default: stderr (synchronous) at the workers' level, so a crash is seen. */
  log?: Logger;
  /** Log level inside the workers (they log synchronously to stderr). Default 'warn'. */
  workerLogLevel?: LevelWithSilent;
  /** Bound on bringing the world up (listening, linked, started). Default 30 s. */
  startTimeoutMs?: number;
  /** Loopback only unless told otherwise. */
  listenHost?: string;
  /**
   * Guests per worker thread (default 1). A large world's guests share workers, each still its own
   * node with its own links, identity and keys; the platform's components are placed by
   * platformWorkers.
   */
  guestsPerWorker?: number;
  /**
   * Worker threads for the platform's components (worker-placement.ts): 4, the default, one each;
   * 2, the secure side and the normal world's EL2 with the GIC; 1, all four together.
   */
  platformWorkers?: PlatformWorkers;
  /**
   * Start the workers from one pre-built JavaScript bundle (bundle.ts). Default true, unless the
   * environment sets FFA_WS_BUNDLE=0; false loads the TypeScript sources in every worker through
   * tsx (slower to start; for debugging the runtime itself).
   */
  bundle?: boolean;
}

export type WaitOutcome = 'met' | 'timeout' | 'crashed';

export interface WsMemory {
  rssPeakBytes: number;
  /** Worker name (its components joined with '+') → its peak V8 heap in use. */
  heapPeakBytes: Record<string, number>;
}

export interface WsCrash {
  component: string;
  detail: string;
}

export interface WsStopReport {
  /** No component crashed. */
  ok: boolean;
  crashed: string[];
  /** Workers that did not exit by themselves within the stop timeout and were terminated. */
  terminated: string[];
  /** Frames the links carried, as every component that stopped cleanly reported (a terminated worker's are missing). */
  frames: FrameCounts;
}

export interface WsWorld {
  /** Every worker listening, every link welcomed, then every component started. Rejects on failure or timeout. */
  readonly ready: Promise<void>;
  readonly crashes: readonly WsCrash[];
  /** True once any component crashed. */
  readonly failed: boolean;
  /** Each component's link URL (known once it listens). */
  readonly urls: ReadonlyMap<string, string>;
  /** Worker threads running the world (fewer than components when guests share workers). */
  readonly workerCount: number;
  /** Peak memory: the process's RSS (every worker is a thread of it) and each worker's V8 heap, by its components. */
  memory(): WsMemory;
  /** Resolves when `condition` holds (checked after history events), a component crashes, or the timeout passes. */
  waitFor(condition: () => boolean, timeoutMs: number): Promise<WaitOutcome>;
  /** Resolves 'met' once no history event has arrived for `quietMs`; bounded by `timeoutMs`. */
  quiescent(quietMs: number, timeoutMs: number): Promise<WaitOutcome>;
  /** Stop cleanly (onStop, links closed, workers exit); past `timeoutMs` workers are terminated. */
  stop(timeoutMs?: number): Promise<WsStopReport>;
}
