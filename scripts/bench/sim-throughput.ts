/**
 * Sim runtime throughput: the test world with many vCPUs and no think time, so the event loop,
 * the ComponentHost and the history hashing are what is measured. Virtual latencies are real
 * hops; wall time is what counts here.
 */
import { type HistorySink, MemoryHistorySink } from '../../shared/runtime/history.ts';
import { runSimWorld } from '../../shared/runtime/sim/run-world.ts';
import { testWorldSpec } from '../../shared/runtime/test-world/index.ts';

export interface SimThroughput {
  messagesDelivered: number;
  events: number;
  wallMs: number;
  messagesPerSecond: number;
  historyEntries: number;
}

/** Counts entries and drops them: the engine's cost without the history's encoding and hash. */
class CountingSink implements HistorySink {
  count = 0;
  append(): void {
    this.count++;
  }
  close(): void {}
}

/**
 * `history: 'hashed'` is a real run (every entry encoded and hashed, none kept);
 * `history: 'counted'` measures the engine alone.
 */
export async function measureSimThroughput(callsTotal: number, history: 'hashed' | 'counted'): Promise<SimThroughput> {
  const vcpus = 64;
  const spec = testWorldSpec({ seed: 1, vcpus, callsPerVcpu: Math.ceil(callsTotal / vcpus), thinkNsMax: 0 });
  const sink = history === 'hashed' ? new MemoryHistorySink(0) : new CountingSink();
  await runSimWorld(spec, { history: new CountingSink() }); // warm-up: JIT and module load
  const start = process.hrtime.bigint();
  const result = await runSimWorld(spec, { history: sink });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return {
    messagesDelivered: result.messagesDelivered,
    events: result.events,
    wallMs: Math.round(wallMs),
    messagesPerSecond: Math.round(result.messagesDelivered / (wallMs / 1000)),
    historyEntries: sink.count,
  };
}
