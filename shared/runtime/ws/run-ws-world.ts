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
import type { WsMemory } from './ws-world.ts';

export interface WsRunOptions {
  history: HistorySink;
  faults?: FaultRule[];
  logLevel?: string;
  timeoutMs: number;
  guestsPerWorker?: number;
}

export interface WsRunResult {
  ended: 'done' | 'idle' | 'timeout' | 'crashed';
  memory: WsMemory;
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
  });
  try {
    await world.ready;
    const outcome =
      finishers.length > 0
        ? await world.waitFor(() => finishers.every((name) => done.has(name)), options.timeoutMs)
        : await world.quiescent(QUIET_MS, options.timeoutMs);
    const memory = world.memory();
    if (outcome === 'met') return { ended: finishers.length > 0 ? 'done' : 'idle', memory };
    return { ended: outcome === 'crashed' ? 'crashed' : 'timeout', memory };
  } finally {
    await world.stop();
  }
}
