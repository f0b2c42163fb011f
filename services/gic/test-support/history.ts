/** Reading a GIC test run's history back: the broker's records and what each actor received. */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { InterruptMessage, Message, ProtocolErrorMessage } from '../../../shared/protocol/messages.ts';
import type { RecordData, RecordEvent } from '../../../shared/protocol/records.ts';

export type GicRecord = RecordData;

/** The records of one component (default the GIC), optionally of one event kind, in order. */
export function records(entries: readonly HistoryEntry[], event?: RecordEvent, component = 'gic'): GicRecord[] {
  return entries.flatMap((entry) => {
    const e = entry.event;
    if (e.type !== 'record' || e.component !== component) return [];
    if (event !== undefined && e.data['event'] !== event) return [];
    return [e.data];
  });
}

/** Records of `event` whose fields include every field of `where`. */
export function recordsWhere(entries: readonly HistoryEntry[], event: RecordEvent, where: Record<string, unknown>): GicRecord[] {
  return records(entries, event).filter((record) => Object.entries(where).every(([key, value]) => record[key] === value));
}

/** Everything an actor received, in its order. */
export function received(entries: readonly HistoryEntry[], actor: string): Message[] {
  return records(entries, 'actor-received', actor).map((record) => record['message'] as Message);
}

/** The deliver frames an actor received. */
export function deliveries(entries: readonly HistoryEntry[], actor: string): InterruptMessage[] {
  return received(entries, actor).filter((m): m is InterruptMessage => m.kind === 'irq' && m.op === 'deliver');
}

/** The protocol-error frames an actor received. */
export function protocolErrors(entries: readonly HistoryEntry[], actor: string): ProtocolErrorMessage[] {
  return received(entries, actor).filter((m): m is ProtocolErrorMessage => m.kind === 'protocol-error');
}

/** Await timeouts an actor recorded (a test expects none unless it says so). */
export function timeouts(entries: readonly HistoryEntry[], actor: string): GicRecord[] {
  return records(entries, 'actor-await-timeout', actor);
}

/**
 * One target's interrupt life as short strings, from the GIC's records whose fields include
 * every field of `where` (e.g. { intid: 8, cpu: 0 }): 'raise:pending', 'deliver>hypervisor',
 * 'ack', 'merge:pending', 'eoi:inactive', 'hold(disabled)', 'refused(not-delivered)', …
 */
export function lifeOf(entries: readonly HistoryEntry[], where: Record<string, unknown>): string[] {
  return records(entries)
    .filter((r) => r.event !== 'gic-start' && r.event !== 'gic-subscribe' && r.event !== 'gic-configure')
    .filter((r) => Object.entries(where).every(([key, value]) => r[key] === value))
    .map(describeRecord);
}

function describeRecord(record: GicRecord): string {
  const name = record.event.replace(/^gic-/, '');
  const state = typeof record['state'] === 'string' ? `:${record['state']}` : '';
  const to = record.event === 'gic-deliver' ? `>${String(record['to'])}` : '';
  const reason = typeof record['reason'] === 'string' ? `(${record['reason']})` : '';
  return `${name}${state}${to}${reason}`;
}
