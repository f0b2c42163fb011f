/**
 * Reading components' semantic records (`ctx.record({ event, … })`) and interrupt frames out of a
 * history, with their fields checked rather than cast.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { InterruptMessage } from '../../../shared/protocol/messages.ts';
import type { RecordEvent, RecordOf } from '../../../shared/protocol/records.ts';

/** A record with its component and history entry; comparing `event` narrows `data` to that record's fields. */
export type RecordView<Name extends RecordEvent = RecordEvent> = Name extends RecordEvent
  ? { readonly entry: HistoryEntry; readonly component: string; readonly event: Name; readonly data: RecordOf<Name> }
  : never;

export function recordOf(entry: HistoryEntry): RecordView | null {
  const { event } = entry;
  // A history read back from a file is only as typed as its writer: a record without a name is skipped.
  if (event.type !== 'record' || typeof event.data.event !== 'string') return null;
  return { entry, component: event.component, event: event.data.event, data: event.data } as RecordView;
}

/** Every record, optionally of one component and one event name, in history order. */
export function recordsOf<Name extends RecordEvent = RecordEvent>(entries: readonly HistoryEntry[], filter: { component?: string; event?: Name } = {}): RecordView<Name>[] {
  const found: RecordView<Name>[] = [];
  for (const entry of entries) {
    const record = recordOf(entry);
    if (!record) continue;
    if (filter.component !== undefined && record.component !== filter.component) continue;
    if (filter.event !== undefined && record.event !== filter.event) continue;
    found.push(record as RecordView<Name>);
  }
  return found;
}

export function numberField(data: Record<string, unknown>, key: string): number | null {
  const value = data[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function stringField(data: Record<string, unknown>, key: string): string | null {
  const value = data[key];
  return typeof value === 'string' ? value : null;
}

/** A 64-bit bitmap as records write it: "0x…", a bigint or a safe integer. */
export function bitmapField(data: Record<string, unknown>, key: string): bigint | null {
  const value = data[key];
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^0x[0-9a-f]{1,16}$/i.test(value)) return BigInt(value);
  return null;
}

/** An interrupt frame a component received (its `deliver` event), with the receiving component. */
export interface IrqDelivery {
  readonly entry: HistoryEntry;
  readonly to: string;
  readonly from: string;
  readonly irq: InterruptMessage;
}

export function irqDeliveryOf(entry: HistoryEntry): IrqDelivery | null {
  const { event } = entry;
  if (event.type !== 'deliver' || event.message.kind !== 'irq' || event.message.op !== 'deliver') return null;
  return { entry, to: event.to, from: event.from, irq: event.message };
}

/** The set bits of a bitmap, lowest first. */
export function bitsOf(bitmap: bigint): number[] {
  const bits: number[] = [];
  for (let bit = 0; bit < 64 && bitmap >> BigInt(bit) !== 0n; bit++) if ((bitmap >> BigInt(bit)) & 1n) bits.push(bit);
  return bits;
}

/** Index of the first element whose key is >= `key` in an array sorted by key. */
export function firstAtOrAfter<T>(sorted: readonly T[], key: number, keyOf: (item: T) => number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keyOf(sorted[middle] as T) < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Group items by a key, keeping history order inside each group. */
export function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | null): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === null) continue;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
