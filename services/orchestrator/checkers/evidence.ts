/**
 * What a failing check shows (docs/design.md §8: "a failing checker names the bit, the
 * endpoints, the events that made it fail"): each event as {seq, t, one line}, endpoints by name,
 * and failure lists bounded at 20 with the total kept for the detail line.
 */
import { decodeResult } from '../../../shared/ffa/errors.ts';
import { abiNameOf } from '../../../shared/ffa/function-ids.ts';
import { isSecureId } from '../../../shared/ffa/partition-id.ts';
import { hex } from '../../../shared/ffa/format.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import type { HistoryEntry, HistoryEvent } from '../../../shared/runtime/history.ts';
import type { InterruptMessage, Message } from '../../../shared/protocol/messages.ts';
import type { CheckFailure, EvidenceEvent, WorldModel } from '../scenario/types.ts';
import { type Noun, plural } from '../../../shared/plural.ts';

/** At most this many failures are kept per check (types.ts CheckResult.failures). */
export const MAX_FAILURES = 20;
/** At most this many events are kept per failure. */
export const MAX_EVENTS_PER_FAILURE = 12;

export function abiOf(regs: RegisterFile): string {
  const fid = regs[0] ?? 0n;
  return abiNameOf(fid) ?? `fid ${hex(fid)}`;
}

/** "FFA_SUCCESS_32", "FFA_ERROR(DENIED)", or w0 in hex. */
export function resultOf(regs: RegisterFile): string {
  const decoded = decodeResult(regs);
  if (decoded.kind === 'error') return `FFA_ERROR(${decoded.name ?? decoded.code})`;
  return abiNameOf(decoded.fid) ?? hex(BigInt.asUintN(32, BigInt(decoded.fid)));
}

function irqTarget(irq: InterruptMessage): string {
  if (irq.vm >= 0) return `vm ${irq.vm} vCPU ${irq.vcpu}`;
  return `cpu ${irq.cpu}`;
}

function describeMessage(message: Message): string {
  switch (message.kind) {
    case 'call':
      return `call #${message.id} ${abiOf(message.regs)} (${message.conduit}, endpoint ${hex(message.endpoint)}, vCPU ${message.vcpu}, cpu ${message.cpu})`;
    case 'return':
      return `return #${message.id} ${resultOf(message.regs)}`;
    case 'irq':
      return `irq ${message.op} INTID ${message.intid} ${irqTarget(message)}`;
    case 'lifecycle':
      return `lifecycle ${message.event} ${message.subject}`;
    case 'control':
      return `control ${message.op}`;
    case 'protocol-error':
      return `protocol-error ${message.code}`;
  }
}

function shortJson(data: Record<string, unknown>): string {
  const text = JSON.stringify(data, (_key, value: unknown) => (typeof value === 'bigint' ? hex(value) : value));
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

/** One line for one history event. */
export function describeEvent(event: HistoryEvent): string {
  switch (event.type) {
    case 'send':
    case 'deliver':
      return `${event.type} ${event.from}→${event.to} ${describeMessage(event.message)}`;
    case 'fault':
      return `fault ${event.action} (rule ${event.rule}) ${event.from}→${event.to} ${describeMessage(event.message)}`;
    case 'refused':
      return `refused (${event.reason}) ${event.from}→${event.to} ${describeMessage(event.message)}`;
    case 'component':
      return `component ${event.component} ${event.event}${event.detail ? `: ${event.detail.split('\n')[0] ?? ''}` : ''}`;
    case 'call-failed':
      return `call-failed ${event.component}→${event.to} call #${event.id} (${event.reason})`;
    case 'record':
      return `record ${event.component} ${shortJson(event.data)}`;
  }
}

export function evidence(entry: HistoryEntry): EvidenceEvent {
  return { seq: entry.seq, t: entry.t, what: describeEvent(entry.event) };
}

/** Evidence without repeats, the first MAX_EVENTS_PER_FAILURE given kept (most telling first), shown in history order. */
export function evidenceOf(entries: readonly (HistoryEntry | null | undefined)[]): EvidenceEvent[] {
  const kept = new Map<number, HistoryEntry>();
  for (const entry of entries) {
    if (kept.size >= MAX_EVENTS_PER_FAILURE) break;
    if (entry) kept.set(entry.seq, entry);
  }
  return [...kept.values()].sort((a, b) => a.seq - b.seq).map(evidence);
}

/** An endpoint as a user knows it: the guest's component name for a VM, the hex ID otherwise. */
export function endpointName(model: WorldModel, id: number): string {
  const guest = model.guests.find((g) => g.vmId === id);
  if (guest) return guest.component;
  if (id === 0 && model.hypervisor !== null) return model.hypervisor;
  return isSecureId(id) ? hex(id) : `VM ${hex(id)}`;
}

/** Failures, the first MAX_FAILURES kept, all counted. */
export class FailureList {
  readonly kept: CheckFailure[] = [];
  total = 0;

  add(failure: CheckFailure): void {
    this.total++;
    if (this.kept.length < MAX_FAILURES) this.kept.push(failure);
  }

  /** "1 lost notification", "3 lost notifications" or "25 lost notifications (first 20 shown)". */
  count(noun: Noun): string {
    const shown = this.total > this.kept.length ? ` (first ${this.kept.length} shown)` : '';
    return `${plural(this.total, noun)}${shown}`;
  }
}

/** What each checker returns before expect-fail is applied. */
export interface CheckOutcome {
  held: boolean;
  detail: string;
  failures: CheckFailure[];
}

export function outcomeOf(list: FailureList, noun: Noun, summary: string): CheckOutcome {
  if (list.total === 0) return { held: true, detail: summary, failures: [] };
  return { held: false, detail: `${list.count(noun)}; ${summary}`, failures: list.kept };
}

/**
 * Failures found out of order (a notification is judged when its fate settles, not when it was
 * set), kept as a list in order would keep them: the MAX_FAILURES first by key (its place in the
 * history: an episode's or a call's order), all counted.
 */
export class KeyedFailures<T = CheckFailure> {
  private readonly kept: { key: readonly number[]; value: T }[] = [];
  total = 0;

  add(key: readonly number[], value: T): void {
    this.total++;
    let at = this.kept.length;
    while (at > 0 && compareKeys((this.kept[at - 1] as { key: readonly number[] }).key, key) > 0) at--;
    if (at >= MAX_FAILURES) return;
    this.kept.splice(at, 0, { key, value });
    if (this.kept.length > MAX_FAILURES) this.kept.pop();
  }

  values(): T[] {
    return this.kept.map((k) => k.value);
  }
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? -1) !== (b[i] ?? -1)) return (a[i] ?? -1) - (b[i] ?? -1);
  return 0;
}

/** Lists of failures, each kept in order, shown one after the other: as one FailureList. */
export function failureListOf(...lists: readonly { total: number; failures: readonly CheckFailure[] }[]): FailureList {
  const list = new FailureList();
  for (const { total, failures } of lists) {
    for (const failure of failures) list.add(failure);
    list.total += total - failures.length;
  }
  return list;
}

/**
 * Events a shown failure wants as evidence but that only a look back over the history finds (the
 * faults applied while a notification waited): the first `max` that match, in history order.
 */
export class EvidenceWanted {
  readonly found: HistoryEntry[] = [];

  constructor(
    private readonly matches: (entry: HistoryEntry) => boolean,
    private readonly max: number,
  ) {}

  take(entry: HistoryEntry): void {
    if (this.found.length < this.max && this.matches(entry)) this.found.push(entry);
  }
}
