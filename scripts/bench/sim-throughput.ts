/**
 * Sim runtime throughput: the test world with many vCPUs and no think time, so the event loop,
 * the ComponentHost and the history hashing are what is measured. Virtual latencies are real
 * hops; wall time is what counts here.
 */
import { MemoryHistorySink } from '../../shared/runtime/history.ts';
import { runSimWorld } from '../../shared/runtime/sim/run-world.ts';
import { testWorldSpec } from '../../shared/runtime/test-world/index.ts';

export interface SimThroughput {
  messagesDelivered: number;
  events: number;
  wallMs: number;
  messagesPerSecond: number;
  historyEntries: number;
}

export async function measureSimThroughput(callsTotal: number): Promise<SimThroughput> {
  const vcpus = 64;
  const spec = testWorldSpec({ seed: 1, vcpus, callsPerVcpu: Math.ceil(callsTotal / vcpus), thinkNsMax: 0 });
  // Entries are hashed but not kept (limit 0): the run's cost, not the test's memory, is measured.
  const history = new MemoryHistorySink(0);
  await runSimWorld(spec, { history: new MemoryHistorySink(0) }); // warm-up: JIT and module load
  const start = process.hrtime.bigint();
  const result = await runSimWorld(spec, { history });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return {
    messagesDelivered: result.messagesDelivered,
    events: result.events,
    wallMs: Math.round(wallMs),
    messagesPerSecond: Math.round(result.messagesDelivered / (wallMs / 1000)),
    historyEntries: history.count,
  };
}
