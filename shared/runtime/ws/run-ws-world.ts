/**
 * Runs a WorldSpec to its end under the ws runtime: start every component in its own worker,
 * wait until every finisher has recorded `{ event: 'done' }` (or, with no finishers, until the
 * world is quiet), then stop. Bounded by `timeoutMs` throughout.
 */
import type { LevelWithSilent } from 'pino';
import type { WorldSpec } from '../component.ts';
import type { HistoryEntry, HistorySink } from '../history.ts';
import type { FaultRule } from '../interceptor.ts';
import { startWsWorld } from './supervisor.ts';
import type { WaitOutcome, WsMemory, WsStopReport } from './ws-world.ts';
import type { FrameCounts } from './worker-protocol.ts';
import type { PlatformWorkers } from './worker-placement.ts';

export interface WsRunOptions {
  history: HistorySink;
  faults?: FaultRule[];
  logLevel?: string;
  timeoutMs: number;
  guestsPerWorker?: number;
  platformWorkers?: PlatformWorkers;
  /** How long a world without finishers must stay silent to count as idle (default QUIET_MS). */
  quietMs?: number;
}

/**
 * What carrying the world's messages cost: the frames its links carried and the process's CPU
 * time (every thread: the workers and the supervisor's) from every component started to the world
 * stopped, so worker start-up and module loading are not counted.
 */
export interface WsTraffic {
  frames: FrameCounts;
  cpuMicros: number;
}

export interface WsRunResult {
  ended: 'done' | 'idle' | 'timeout' | 'crashed';
  memory: WsMemory;
  traffic: WsTraffic;
}

/**
 * How long the world must stay silent to count as idle when it has no finishers. Idle detection
 * under ws is time-based: a machine stalled longer than this can end a run early, so worlds that
 * must finish name finishers. (250 ms once ended a test world before its first call on a loaded
 * 2-core CI machine.)
 */
const QUIET_MS = 1_000;
const LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function isDoneRecord(entry: HistoryEntry): string | undefined {
  const { event } = entry;
  return event.type === 'record' && event.data.event === 'done' ? event.component : undefined;
}

export async function runWsWorld(spec: WorldSpec, options: WsRunOptions): Promise<WsRunResult> {
  const finishers = spec.finishers ?? [];
  const done = new Set<string>();
  const sink: HistorySink = {
    append(entry) {
      const finished = isDoneRecord(entry);
      if (finished !== undefined) done.add(finished);
      options.history.append(entry);
    },
    close() {},
  };
  const level = LEVELS.find((l) => l === options.logLevel) ?? 'silent';
  const world = startWsWorld(spec, {
    history: sink,
    workerLogLevel: level,
    startTimeoutMs: options.timeoutMs,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.guestsPerWorker === undefined ? {} : { guestsPerWorker: options.guestsPerWorker }),
    ...(options.platformWorkers === undefined ? {} : { platformWorkers: options.platformWorkers }),
  });
  let outcome: WaitOutcome;
  let memory: WsMemory;
  let cpuAtStart: NodeJS.CpuUsage;
  let stopped: WsStopReport;
  try {
    await world.ready;
    cpuAtStart = process.cpuUsage();
    outcome =
      finishers.length > 0
        ? await world.waitFor(() => finishers.every((name) => done.has(name)), options.timeoutMs)
        : await world.quiescent(options.quietMs ?? QUIET_MS, options.timeoutMs);
    memory = world.memory();
  } finally {
    stopped = await world.stop();
  }
  const cpu = process.cpuUsage(cpuAtStart);
  const traffic: WsTraffic = { frames: stopped.frames, cpuMicros: cpu.user + cpu.system };
  if (outcome === 'met') return { ended: finishers.length > 0 ? 'done' : 'idle', memory, traffic };
  return { ended: outcome === 'crashed' ? 'crashed' : 'timeout', memory, traffic };
}
