/** Starts a WsNode in the test's own thread, with its log lines captured for assertions. */
import pino from 'pino';
import type { Clock, ComponentSpec } from '../../component.ts';
import type { HistoryEntry } from '../../history.ts';
import { monotonicClock } from '../clock.ts';
import type { Credentials } from '../credentials.ts';
import type { LinkLimits } from '../limits.ts';
import { WsNode, type WsNodeOptions } from '../node.ts';

export interface InProcessNode {
  node: WsNode;
  history: HistoryEntry[];
  /** Parsed log records (level ≥ warn kept). */
  logs: Record<string, unknown>[];
}

export async function inProcessNode(options: {
  component: ComponentSpec;
  worldNames: string[];
  credentials: Credentials;
  linkLimits?: Partial<LinkLimits>;
  /** Default: real monotonic time. */
  clock?: Clock;
  linkClocks?: WsNodeOptions['linkClocks'];
}): Promise<InProcessNode> {
  const logs: Record<string, unknown>[] = [];
  const history: HistoryEntry[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  let seq = 0;
  const node = await WsNode.create({
    component: options.component,
    seed: 1,
    worldNames: options.worldNames,
    credentials: options.credentials,
    clock: options.clock ?? monotonicClock(process.hrtime.bigint()),
    history: (t, event) => {
      // Bounded: a test node keeps its first 100,000 events.
      if (history.length < 100_000) history.push({ seq: seq++, t, event });
    },
    log,
    ...(options.linkLimits ? { linkLimits: options.linkLimits } : {}),
    ...(options.linkClocks ? { linkClocks: options.linkClocks } : {}),
  });
  return { node, history, logs };
}
