/**
 * The path each set took (latency.ts), walked as the history comes: set → sri-raise (SPMC) →
 * sri-deliver (at the scheduler) → info-get (the scheduler's INFO_GET answer listing the
 * receiver) → npi-inject (hypervisor) → npi-deliver (at the guest). Each hop's end is the first
 * matching event at or after the hop's start (same CPU for the SRI, same receiver for INFO_GET and
 * the NPI, same vCPU for its delivery); the walk stops at the first hop nothing matches by the end
 * of the history.
 *
 * The events a hop can end on are kept per kind and key (a CPU, a receiver, a guest's vCPU), each
 * kind one component's own events, so in time order. A hop looks first at those kept, then waits
 * for the next to come. Kept are only those a walk may still ask for: no later walk starts before
 * the latest set the SPMC may still report (its last delivery, or a SET it has not answered), nor
 * looks for an event older than what the SPMC, the scheduler and the hypervisor have already
 * reported (each component's clock only goes forward); so older ones are let go.
 *
 * Each event also carries what its hop's transport needs (latency.ts): a delivery its frame's
 * flight, an sri-raise or npi-inject record the flight of the raise it sent to the GIC, an
 * info-get record the scheduler's INFO_GET call it records.
 */
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { InterruptMessage } from '../../../shared/protocol/messages.ts';
import type { WorldModel } from '../scenario/types.ts';
import { fidOfCall, type CallRecord, type CallStep } from './calls.ts';
import type { Flight, FrameFlights, Interval } from './flights.ts';
import type { PendingMaker } from './spmc-replay.ts';
import { firstAtOrAfter, irqDeliveryOf, numberField, recordOf, type RecordView } from './records.ts';

/** An event a hop can end on, with what its transport needs. */
export interface PathItem {
  readonly entry: HistoryEntry;
  /** A record's fields (sri-raise, info-get, npi-inject). */
  readonly data: Readonly<Record<string, unknown>> | null;
  /** A delivery: its frame's flight, send to this delivery; null when its send is not in the history. */
  readonly flight: Interval | null;
  /** An sri-raise or npi-inject record: the flight of the raise it sent to the GIC (undefined until known). */
  raiseFlight: Interval | null | undefined;
  readonly raiseWaiters: (() => void)[];
  /** An info-get record: the scheduler's INFO_GET whose answer it records. */
  readonly infoGetCall: CallRecord | null;
}

export type PointName = 'set' | 'sri-raise' | 'sri-deliver' | 'info-get' | 'npi-inject' | 'npi-deliver' | 'get' | 'callback' | 'bottom-half';

export interface Point {
  readonly name: PointName | '';
  readonly item: PathItem;
}

type Kind = 'sriRaises' | 'sriDeliveries' | 'infoGets' | 'npiInjects' | 'npiDeliveries';

/** The hops of the walk to the scheduler, in order, each with the kind of event it ends on. */
const HOPS: readonly { name: PointName; kind: Kind }[] = [
  { name: 'sri-raise', kind: 'sriRaises' },
  { name: 'sri-deliver', kind: 'sriDeliveries' },
  { name: 'info-get', kind: 'infoGets' },
  { name: 'npi-inject', kind: 'npiInjects' },
  { name: 'npi-deliver', kind: 'npiDeliveries' },
];

const INFO_GET_FIDS: ReadonlySet<number> = new Set([FFA_FIDS.FFA_NOTIFICATION_INFO_GET_32, FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64]);

export function itemOf(entry: HistoryEntry): PathItem {
  return { entry, data: null, flight: null, raiseFlight: null, raiseWaiters: [], infoGetCall: null };
}

/** A physical interrupt by its CPU; a virtual one by its VM and vCPU. */
function raiseKey(from: string, irq: { intid: number; cpu: number; vm: number; vcpu: number }): string {
  return irq.vm < 0 ? `${from}|${irq.intid}|cpu ${irq.cpu}` : `${from}|${irq.intid}|vm ${irq.vm}.${irq.vcpu}`;
}

/** One set's walk: the points found so far, and the hop it waits on. */
export class Walk {
  readonly points: Point[];
  /** The next hop's index in HOPS; HOPS.length when the walk is over. */
  hop = 0;
  /** The NPI's delivery is looked for at the guest the GET answer reached: null until the episode is delivered. */
  guest: string | null = null;
  done = false;
  /** Where it waits for its next hop's event, if it does. */
  waitingAt: { kind: Kind; key: string } | null = null;

  constructor(
    readonly set: PendingMaker,
    private readonly onDone: () => void,
  ) {
    this.points = [{ name: 'set', item: itemOf(set.at) }];
  }

  get last(): PathItem {
    return (this.points.at(-1) as Point).item;
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    this.onDone();
  }
}

interface Waiting {
  readonly walk: Walk;
  readonly fromNs: number;
}

/** The events hops end on, kept while a walk may still ask for them, and the walks waiting for one. */
export class PathIndex {
  readonly scheduler: string | null;
  private readonly kept: Record<Kind, Map<string, PathItem[]>> = { sriRaises: new Map(), sriDeliveries: new Map(), infoGets: new Map(), npiInjects: new Map(), npiDeliveries: new Map() };
  private readonly waiting: Record<Kind, Map<string, Waiting[]>> = { sriRaises: new Map(), sriDeliveries: new Map(), infoGets: new Map(), npiInjects: new Map(), npiDeliveries: new Map() };
  /** Walks that reached the NPI's delivery before their episode's guest was known. */
  private readonly awaitingGuest = new Set<Walk>();
  /** Records waiting for the raise they send to the GIC, by the raise's key. */
  private readonly raisePending = new Map<string, PathItem[]>();
  /** The scheduler's latest INFO_GET whose answer reached it. */
  private latestInfoGet: CallRecord | null = null;
  /** The latest time each component that starts or ends a hop reported, and the SPMC's latest delivery. */
  private readonly lastNs = new Map<string, number>();
  private spmcDeliveryNs = -Infinity;
  private taken = 0;

  constructor(
    private readonly model: WorldModel,
    private readonly flights: FrameFlights,
    /** The SPMC's SETs not answered yet, whose answer will be a set at their delivery (spmc-replay.ts). */
    private readonly openSetsAtSpmc: () => Iterable<CallRecord>,
  ) {
    this.scheduler = model.hypervisor ?? model.guests.find((g) => g.vmId === 0)?.component ?? null;
  }

  /** `flight`: the frame flight this entry ended (flights.ts), `step` what it did to the calls. */
  take(entry: HistoryEntry, flight: Flight | null, step: CallStep): void {
    this.noteTime(entry);
    const { event } = entry;
    if (step.answerDelivered && step.answerDelivered.caller === this.scheduler && INFO_GET_FIDS.has(fidOfCall(step.answerDelivered) ?? -1)) this.latestInfoGet = step.answerDelivered;
    if (event.type === 'send' && event.to === this.model.gic && event.message.kind === 'irq' && event.message.op === 'raise') this.onRaise(entry, event.from, event.message);
    const delivery = irqDeliveryOf(entry);
    if (delivery) {
      const item = { ...itemOf(entry), flight: flight ? ([flight.send.t, flight.deliver.t] as const) : null };
      if (delivery.to === this.scheduler && delivery.irq.vm < 0) this.add('sriDeliveries', `${delivery.irq.cpu}:${delivery.irq.intid}`, item);
      if (delivery.irq.vm >= 0) this.add('npiDeliveries', `${delivery.to}:${delivery.irq.vm}:${delivery.irq.vcpu}:${delivery.irq.intid}`, item);
    }
    const record = recordOf(entry);
    if (record) this.onRecord(record);
    if (++this.taken % 4096 === 0) this.forgetOld();
  }

  /** Starts a set's walk at its set. */
  walk(walk: Walk): void {
    this.advance(walk);
  }

  /** The GET answer reached `guest`: the walk's last hop may look there. */
  guestKnown(walk: Walk, guest: string): void {
    walk.guest = guest;
    if (!this.awaitingGuest.delete(walk)) return;
    this.advance(walk);
  }

  /** The walk is no longer wanted (its episode was not delivered). */
  drop(walk: Walk): void {
    this.awaitingGuest.delete(walk);
    if (walk.waitingAt) {
      const { kind, key } = walk.waitingAt;
      const left = (this.waiting[kind].get(key) ?? []).filter((w) => w.walk !== walk);
      if (left.length > 0) this.waiting[kind].set(key, left);
      else this.waiting[kind].delete(key);
      walk.waitingAt = null;
    }
    walk.finish();
  }

  /** The end of the history: hops still waiting matched nothing; raises never sent flew nowhere. */
  finish(): void {
    for (const byKey of Object.values(this.waiting)) {
      for (const list of byKey.values()) for (const { walk } of list) walk.finish();
      byKey.clear();
    }
    for (const walk of this.awaitingGuest) walk.finish();
    this.awaitingGuest.clear();
    for (const items of this.raisePending.values()) for (const item of items) settleRaise(item, null);
    this.raisePending.clear();
  }

  private onRecord(record: RecordView): void {
    const { component, data, event } = record;
    if (component === this.model.spmc && event === 'sri-raise') this.add('sriRaises', String(data['cpu']), this.raiseRecord(record));
    else if (component === this.model.hypervisor && event === 'npi-inject') this.add('npiInjects', String(data['vm']), this.raiseRecord(record));
    if (this.scheduler !== null && component === this.scheduler && event === 'info-get') {
      const ids = Array.isArray(data['ids']) ? data['ids'] : Array.isArray(data['lists']) ? data['lists'].map((l: { id?: unknown }) => l.id) : [];
      const item: PathItem = { ...itemOf(record.entry), data, infoGetCall: this.latestInfoGet };
      for (const id of new Set(ids)) this.add('infoGets', String(id), item);
    }
  }

  /** An sri-raise or npi-inject record, waiting for the raise it sends the GIC after it. */
  private raiseRecord(record: RecordView): PathItem {
    const { data } = record;
    const item: PathItem = { ...itemOf(record.entry), data, raiseFlight: undefined };
    const intid = numberField(data, 'intid');
    if (intid === null) {
      settleRaise(item, null);
      return item;
    }
    const target = { intid, cpu: numberField(data, 'cpu') ?? -1, vm: numberField(data, 'vm') ?? -1, vcpu: numberField(data, 'vcpu') ?? -1 };
    const key = raiseKey(record.component, target);
    const list = this.raisePending.get(key);
    if (list) list.push(item);
    else this.raisePending.set(key, [item]);
    return item;
  }

  private onRaise(send: HistoryEntry, from: string, irq: InterruptMessage): void {
    const key = raiseKey(from, irq);
    const items = this.raisePending.get(key);
    if (!items) return;
    this.raisePending.delete(key);
    this.flights.whenLanded(send, (flight) => {
      for (const item of items) settleRaise(item, flight ? [flight.send.t, flight.deliver.t] : null);
    });
  }

  private add(kind: Kind, key: string, item: PathItem): void {
    const list = this.kept[kind].get(key);
    if (list) list.push(item);
    else this.kept[kind].set(key, [item]);
    const waiting = this.waiting[kind].get(key);
    if (!waiting) return;
    const matched = waiting.filter((w) => w.fromNs <= item.entry.t);
    if (matched.length === 0) return;
    const left = waiting.filter((w) => w.fromNs > item.entry.t);
    if (left.length > 0) this.waiting[kind].set(key, left);
    else this.waiting[kind].delete(key);
    for (const { walk } of matched) {
      walk.waitingAt = null;
      this.arrive(walk, item);
    }
  }

  /** Looks for the walk's next hop among the events kept, else waits for it. */
  private advance(walk: Walk): void {
    for (;;) {
      if (walk.done) return;
      const hop = HOPS[walk.hop];
      if (!hop || (hop.name === 'npi-inject' && this.model.hypervisor === null)) return walk.finish();
      if (hop.name === 'npi-deliver' && walk.guest === null) {
        this.awaitingGuest.add(walk);
        return;
      }
      // An sri-raise always names its CPU (services/spmc/schedule-receiver-interrupt.ts): a set on no CPU finds none.
      if (hop.name === 'sri-raise' && walk.set.cpu === null) return walk.finish();
      const key = this.keyOf(walk, hop.name);
      const fromNs = walk.last.entry.t;
      const list = this.kept[hop.kind].get(key) ?? [];
      const found = list[firstAtOrAfter(list, fromNs, (item) => item.entry.t)];
      if (!found) {
        const waiting = this.waiting[hop.kind].get(key);
        if (waiting) waiting.push({ walk, fromNs });
        else this.waiting[hop.kind].set(key, [{ walk, fromNs }]);
        walk.waitingAt = { kind: hop.kind, key };
        return;
      }
      walk.points.push({ name: hop.name, item: found });
      walk.hop++;
    }
  }

  private arrive(walk: Walk, item: PathItem): void {
    const hop = HOPS[walk.hop] as (typeof HOPS)[number];
    walk.points.push({ name: hop.name, item });
    walk.hop++;
    this.advance(walk);
  }

  private keyOf(walk: Walk, hop: PointName): string {
    const { set } = walk;
    const at = (name: PointName): PathItem => (walk.points.find((p) => p.name === name) as Point).item;
    switch (hop) {
      case 'sri-raise':
        return String(set.cpu);
      case 'sri-deliver':
        return `${set.cpu}:${String(at('sri-raise').data?.['intid'])}`;
      case 'info-get':
      case 'npi-inject':
        return String(set.receiver);
      default: {
        const inject = at('npi-inject').data ?? {};
        return `${walk.guest}:${set.receiver}:${numberField(inject, 'vcpu')}:${numberField(inject, 'intid')}`;
      }
    }
  }

  private noteTime(entry: HistoryEntry): void {
    const { event } = entry;
    const owner = event.type === 'deliver' ? event.to : event.type === 'send' || event.type === 'fault' || event.type === 'refused' ? event.from : event.component;
    if (owner === this.model.spmc || owner === this.scheduler || owner === this.model.hypervisor) this.lastNs.set(owner, entry.t);
    if (event.type === 'deliver' && event.to === this.model.spmc) this.spmcDeliveryNs = entry.t;
  }

  /**
   * Lets go of events no walk can ask for any more: older than every set the SPMC may still
   * report, than what the SPMC, scheduler and hypervisor already reported, and than every walk
   * waiting to learn its guest.
   */
  private forgetOld(): void {
    const reporters = [this.model.spmc, this.scheduler, this.model.hypervisor].filter((c): c is string => c !== null);
    // A component not heard from yet may still report events of any age.
    if (!reporters.every((c) => this.lastNs.has(c))) return;
    let oldest = this.spmcDeliveryNs;
    for (const call of this.openSetsAtSpmc()) if (call.delivered) oldest = Math.min(oldest, call.delivered.t);
    for (const t of this.lastNs.values()) oldest = Math.min(oldest, t);
    for (const walk of this.awaitingGuest) oldest = Math.min(oldest, walk.last.entry.t);
    if (!Number.isFinite(oldest)) return;
    for (const byKey of Object.values(this.kept)) {
      for (const [key, list] of byKey) {
        const keep = firstAtOrAfter(list, oldest, (item) => item.entry.t);
        if (keep === list.length) byKey.delete(key);
        else if (keep > 0) list.splice(0, keep);
      }
    }
  }

  /** Events kept for walks, for tests of the bound. */
  keptCount(): number {
    let count = 0;
    for (const byKey of Object.values(this.kept)) for (const list of byKey.values()) count += list.length;
    return count;
  }
}

function settleRaise(item: PathItem, flight: Interval | null): void {
  if (item.raiseFlight !== undefined) return;
  item.raiseFlight = flight;
  for (const waiter of item.raiseWaiters.splice(0)) waiter();
}
