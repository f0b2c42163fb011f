/**
 * Run a world under either runtime with one call, so a test or a command is written once and
 * holds under both (docs/design.md §3: "a scenario runs under either runtime unchanged").
 */
import pino from 'pino';
import type { WorldSpec } from './component.ts';
import { type HistoryEntry, type HistorySink, MemoryHistorySink } from './history.ts';
import type { FaultRule } from './interceptor.ts';
import { runSimWorld } from './sim/run-world.ts';
import { logDestination, logFormatOf } from './log-format.ts';
import type { WsTraffic } from './ws/run-ws-world.ts';
import type { PlatformWorkers } from './ws/worker-placement.ts';

export type RuntimeName = 'sim' | 'ws';
export const RUNTIMES: readonly RuntimeName[] = ['sim', 'ws'];

export interface WorldRunOptions {
  runtime: RuntimeName;
  history: HistorySink;
  faults?: FaultRule[];
  /** pino level for the components' logs (default 'silent'). */
  logLevel?: string;
  /** Bound on the whole run: wall time under ws, virtual time under sim (default 30 s). */
  timeoutMs?: number;
  /** ws only: guests per worker thread (default 1); sim runs everything in one thread anyway. */
  guestsPerWorker?: number;
  /** ws only: worker threads for the platform's components (ws/worker-placement.ts; default 4, one each). */
  platformWorkers?: PlatformWorkers;
}

export interface WorldRunResult {
  /**
   * done: every finisher finished; idle: nothing left to do; timeout: the bound was hit;
   * crashed: a component crashed (ws; under sim a component's bug throws out of the run).
   */
  ended: 'done' | 'idle' | 'timeout' | 'max-events' | 'crashed';
  /** ws only: peak memory (sim runs in this thread: nothing to tell apart). */
  memory?: { rssPeakBytes: number; heapPeakBytes: Record<string, number> };
  /** ws only: frames carried and CPU time spent carrying them. */
  traffic?: WsTraffic;
}

export async function runWorld(spec: WorldSpec, options: WorldRunOptions): Promise<WorldRunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (options.runtime === 'sim') {
    const log = pino({ level: options.logLevel ?? 'silent' }, logDestination(logFormatOf()));
    const finished = new Set<string>();
    const history: HistorySink = {
      append(entry) {
        const { event } = entry;
        if (event.type === 'record' && event.data.event === 'done') finished.add(event.component);
        options.history.append(entry);
      },
      close() {},
    };
    const finishers = spec.finishers ?? [];
    const result = await runSimWorld(spec, {
      history,
      log,
      ...(options.faults ? { faults: options.faults } : {}),
      limits: { untilNs: timeoutMs * 1e6 },
    });
    if (result.ended === 'idle' && finishers.length > 0) {
      return { ended: finishers.every((name) => finished.has(name)) ? 'done' : 'idle' };
    }
    return { ended: result.ended === 'until' ? 'timeout' : result.ended };
  }
  const { runWsWorld } = await import('./ws/run-ws-world.ts');
  return runWsWorld(spec, { ...options, timeoutMs });
}

/** Run and keep the whole history in memory (tests). */
export async function runWorldInMemory(
  spec: WorldSpec,
  options: Omit<WorldRunOptions, 'history'>,
): Promise<{ result: WorldRunResult; entries: HistoryEntry[] }> {
  const history = new MemoryHistorySink();
  const result = await runWorld(spec, { ...options, history });
  return { result, entries: history.entries };
}
