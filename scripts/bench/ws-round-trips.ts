/**
 * ws runtime round trips between two components (caller → echo), each in its own worker, with
 * the full runtime path: ComponentHost, interception point, msgpack framing, validation, history
 * events posted to the supervisor. Timed from the first call sent to the last return recorded,
 * using the history's own timestamps, so worker start-up is not counted.
 */
import type { HistoryEntry, HistorySink } from '../../shared/runtime/history.ts';
import { runWsWorld } from '../../shared/runtime/ws/run-ws-world.ts';
import { testWorldSpec } from '../../shared/runtime/test-world/index.ts';
import { type EchoFigures, figures } from './bare-echo.ts';

/** Keeps only what the measurement needs: the span of the calls and how many returned. */
class SpanSink implements HistorySink {
  firstSendNs = Number.POSITIVE_INFINITY;
  lastReturnNs = 0;
  returns = 0;
  echoed = 0;

  append(entry: HistoryEntry): void {
    const { event } = entry;
    if (event.type === 'send' && event.message.kind === 'call') this.firstSendNs = Math.min(this.firstSendNs, entry.t);
    if (event.type === 'record' && event.data.event === 'caller-return') {
      this.returns++;
      if (event.data.echoed === true) this.echoed++;
      this.lastReturnNs = Math.max(this.lastReturnNs, entry.t);
    }
  }

  close(): void {}
}

export async function measureWsRoundTrips(vcpus: number, callsPerVcpu: number): Promise<EchoFigures & { echoedExactly: number }> {
  const sink = new SpanSink();
  const spec = testWorldSpec({ seed: 1, vcpus, callsPerVcpu, thinkNsMax: 0 });
  const { ended } = await runWsWorld(spec, { history: sink, timeoutMs: 300_000 });
  if (ended !== 'done') throw new Error(`ws bench world ended ${ended}`);
  const wallMs = (sink.lastReturnNs - sink.firstSendNs) / 1e6;
  return { ...figures(sink.returns, wallMs), echoedExactly: sink.echoed };
}
