/**
 * The SPMC's pending notification bits, replayed from its own events in its own order (design
 * docs/design.md §2 step 4; docs/ffa-reference.md §3.1, §3.3, §3.4, §3.8, §7). Pending-making events:
 * - an FFA_NOTIFICATION_SET the SPMC answered with success (sender, receiver, flags, vCPU and
 *   bitmap decoded from the call; an SP's SET is OP-TEE's internal send, global, under
 *   spSet = internal-send);
 * - OP-TEE's notif_send_async (record `optee-notif-send`, outcome `sent`);
 * - the notifier SP (record `notifier-set`, outcome `sent`);
 * - FFA_MSG_SEND2's RX-buffer-full framework bit (record `rx-message`, field `framework`).
 * A bit set again before it was returned merges into the same pending notification (one delivery
 * covers every set since the last return). A GET the SPMC answers clears exactly the bits it
 * returns: global ones and those of the GET's vCPU. A VM the SPMC forgets (OP-TEE
 * virt_guest_destroyed, record `vm-destroyed`) takes its pending bits with it. A bit returned
 * that nothing made pending since it was last returned is a phantom.
 */
import { decodeResult } from '../../../shared/ffa/errors.ts';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import { SET_FLAGS } from '../../../shared/ffa/notification-flags.ts';
import { notificationGet, notificationSet } from '../../../shared/ffa/notifications.ts';
import { isSecureId } from '../../../shared/ffa/partition-id.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { WorldModel } from '../scenario/types.ts';
import type { ArrivalSlot } from './arrivals.ts';
import { fidOfCall, type CallRecord } from './calls.ts';
import { bitmapField, bitsOf, numberField, recordOf, stringField, type RecordView } from './records.ts';

/** The four bitmaps of a GET (docs/ffa-reference.md §2.5): from SPs, from VMs, SPM and hypervisor framework. */
export type NotificationBitmap = 'sp' | 'vm' | 'spm' | 'hyp';
const BITMAPS: readonly NotificationBitmap[] = ['sp', 'vm', 'spm', 'hyp'];

export interface PendingMaker {
  /** The SPMC's answer or record that says so. */
  readonly entry: HistoryEntry;
  /**
   * The set time: the SPMC's delivery of the call or control message whose handling made the bits
   * pending (under ws a component's clock runs on while it handles one message, so its SRI raise
   * is recorded before the record or answer that reports the set).
   */
  readonly at: HistoryEntry;
  readonly receiver: number;
  readonly bitmap: NotificationBitmap;
  readonly bits: bigint;
  /** The receiver's vCPU for a per-vCPU notification; null: global. */
  readonly vcpu: number | null;
  readonly sender: number | null;
  /** The physical CPU the SPMC ran the set on (where the SRI goes). */
  readonly cpu: number | null;
  /** The workload arrival `at` delivered, once the tracker looked (ledger.ts); null: none. */
  slot?: ArrivalSlot | null;
}

export interface Delivery {
  /** The component the GET's answer reached. */
  readonly component: string;
  /** That component's delivery of the answer. */
  readonly entry: HistoryEntry;
  /** The first call of the chain (the receiver's own GET). */
  readonly top: CallRecord;
  /** The vCPU the GET ran on. */
  readonly vcpu: number;
}

/** One bit pending for one receiver (and vCPU), from its first set to the GET that returned it. */
export interface Episode {
  /** Its place among the history's episodes (first set first): failures are listed in this order. */
  readonly index: number;
  readonly receiver: number;
  readonly bitmap: NotificationBitmap;
  readonly bit: number;
  readonly vcpu: number | null;
  readonly sets: PendingMaker[];
  /** The SPMC's answer to the GET that cleared it. */
  returned: { entry: HistoryEntry; call: CallRecord } | null;
  /** The SPMC dropped the receiver's state with the bit still pending. */
  droppedBySpmc: HistoryEntry | null;
  delivery: Delivery | null;
  lost: { why: string; evidence: HistoryEntry[] } | null;
  callback: HistoryEntry | null;
  bottomHalf: HistoryEntry | null;
}

/** A GET answer from the SPMC that returned a bit nothing made pending since it was last returned. */
export interface SpmcPhantom {
  readonly entry: HistoryEntry;
  readonly call: CallRecord;
  readonly receiver: number;
  readonly bitmap: NotificationBitmap;
  readonly bit: number;
  readonly vcpu: number;
  readonly lastReturned: HistoryEntry | null;
}


const DEFAULT_SP_SET: Record<WorldModel['spmcProfile'], string> = { optee: 'internal-send', hafnium: 'ffa-abi' };

/** The bitmaps of a successful GET answer. */
export function getBitmaps(regs: RegisterFile): Record<NotificationBitmap, bigint> {
  const decoded = notificationGet.success?.decode(regs);
  const r = decoded?.ok ? decoded.result : { spBitmap: 0n, vmBitmap: 0n, spmBitmap: 0n, hypBitmap: 0n };
  return { sp: r.spBitmap, vm: r.vmBitmap, spm: r.spmBitmap, hyp: r.hypBitmap };
}

const episodeKey = (receiver: number, bitmap: NotificationBitmap, bit: number, vcpu: number | null): string =>
  `${receiver}:${bitmap}:${bit}:${vcpu === null ? 'g' : vcpu}`;

/** What the replay found, as it found it. */
export interface ReplayListener {
  /** A bit became pending for a receiver (its first set). */
  created(episode: Episode): void;
  /** A set made it pending or merged into it (the first set included, after `created`). */
  set(episode: Episode, maker: PendingMaker): void;
  /** A GET the SPMC answered cleared it (`episode.returned`). */
  returned(episode: Episode): void;
  /** The SPMC dropped the receiver's state with it pending (`episode.droppedBySpmc`). */
  dropped(episode: Episode): void;
  phantom(phantom: SpmcPhantom): void;
}

/**
 * The SPMC's notification state, replayed from its own events. Only the bits pending now are
 * kept (and, per bit, the answer that last returned it): what became of an episode is the
 * listener's to keep.
 */
export class SpmcReplay {
  private readonly open = new Map<string, Episode>();
  private readonly lastReturned = new Map<string, HistoryEntry>();
  private readonly asyncIds = new Map<number, number>();
  private lastDelivery: HistoryEntry | null = null;
  private spSet: string;
  private episodes = 0;

  constructor(
    private readonly model: WorldModel,
    private readonly listener: ReplayListener,
  ) {
    this.spSet = DEFAULT_SP_SET[model.spmcProfile];
  }

  /** `answered`: the call this entry answered, if it was a callee's first return (calls.ts CallStep). */
  take(entry: HistoryEntry, answered: CallRecord | null): void {
    const { event } = entry;
    if (event.type === 'deliver' && event.to === this.model.spmc) this.lastDelivery = entry;
    else if (event.type === 'record' && event.component === this.model.spmc) this.onRecord(recordOf(entry));
    else if ((event.type === 'send' || event.type === 'fault') && event.from === this.model.spmc && event.message.kind === 'return') {
      if (answered) this.onAnswer(answered, entry);
    }
  }

  /** Episodes still pending at the SPMC. */
  pending(): IterableIterator<Episode> {
    return this.open.values();
  }

  private onRecord(record: RecordView | null): void {
    if (!record) return;
    const { data } = record;
    switch (record.event) {
      case 'spmc-config': {
        const policies = data['policies'] as Record<string, unknown> | undefined;
        if (typeof policies?.['spSet'] === 'string') this.spSet = policies['spSet'];
        return;
      }
      case 'optee-async-notif-enabled': {
        const vm = numberField(data, 'vm');
        const id = numberField(data, 'id');
        if (vm !== null && id !== null) this.asyncIds.set(vm, id);
        return;
      }
      case 'vm-destroyed':
        if (data['status'] === 'OK') this.dropReceiver(numberField(data, 'vm'), record.entry);
        return;
      default: {
        const maker = makerOfRecord(record, this.asyncIds);
        if (maker) this.makePending({ ...maker, at: this.lastDelivery ?? record.entry });
      }
    }
  }

  private onAnswer(call: CallRecord, entry: HistoryEntry): void {
    if (!call.message || !call.returnRegs || decodeResult(call.returnRegs).kind !== 'success') return;
    const fid = fidOfCall(call);
    if (fid === FFA_FIDS.FFA_NOTIFICATION_SET) this.makePending(this.makerOfSet(call, entry));
    else if (fid === FFA_FIDS.FFA_NOTIFICATION_GET) this.onGetAnswer(call, entry);
  }

  /** docs/ffa-reference.md §2.4; an SP's SET under spSet = internal-send is notif_send_async: global, from SPs. */
  private makerOfSet(call: CallRecord, entry: HistoryEntry): PendingMaker {
    const message = call.message as NonNullable<CallRecord['message']>;
    const { sender, receiver, flags, vcpu, bitmap } = notificationSet.decodeCall(message.regs).args;
    const internal = call.caller !== this.model.spmd && this.spSet === 'internal-send';
    const perVcpu = !internal && (flags & SET_FLAGS.perVcpu) !== 0;
    const bitmapClass: NotificationBitmap = internal || isSecureId(sender) ? 'sp' : 'vm';
    return { entry, at: call.delivered ?? entry, receiver, bitmap: bitmapClass, bits: bitmap, vcpu: perVcpu ? vcpu : null, sender, cpu: message.cpu };
  }

  private makePending(maker: PendingMaker): void {
    for (const bit of bitsOf(maker.bits)) {
      const key = episodeKey(maker.receiver, maker.bitmap, bit, maker.vcpu);
      const merged = this.open.get(key);
      if (merged) {
        merged.sets.push(maker);
        this.listener.set(merged, maker);
        continue;
      }
      const episode: Episode = {
        index: this.episodes++, receiver: maker.receiver, bitmap: maker.bitmap, bit, vcpu: maker.vcpu, sets: [maker],
        returned: null, droppedBySpmc: null, delivery: null, lost: null, callback: null, bottomHalf: null,
      };
      this.open.set(key, episode);
      this.listener.created(episode);
      this.listener.set(episode, maker);
    }
  }

  /** docs/ffa-reference.md §3.4: a GET returns and clears the global bits and those of its vCPU. */
  private onGetAnswer(call: CallRecord, entry: HistoryEntry): void {
    const { receiver, vcpu } = notificationGet.decodeCall((call.message as NonNullable<CallRecord['message']>).regs).args;
    const bitmaps = getBitmaps(call.returnRegs as RegisterFile);
    for (const bitmap of BITMAPS) {
      for (const bit of bitsOf(bitmaps[bitmap])) this.clear({ entry, call, receiver, bitmap, bit, vcpu, lastReturned: null });
    }
  }

  private clear(found: SpmcPhantom): void {
    const { receiver, bitmap, bit, vcpu } = found;
    const keys = [episodeKey(receiver, bitmap, bit, null), episodeKey(receiver, bitmap, bit, vcpu)];
    const cleared = keys.flatMap((key) => this.open.get(key) ?? []);
    const bitKey = `${receiver}:${bitmap}:${bit}`;
    if (cleared.length === 0) this.listener.phantom({ ...found, lastReturned: this.lastReturned.get(bitKey) ?? null });
    for (const key of keys) this.open.delete(key);
    this.lastReturned.set(bitKey, found.entry);
    for (const episode of cleared) {
      episode.returned = { entry: found.entry, call: found.call };
      this.listener.returned(episode);
    }
  }

  private dropReceiver(vm: number | null, entry: HistoryEntry): void {
    for (const [key, episode] of this.open) {
      if (episode.receiver !== vm) continue;
      episode.droppedBySpmc = entry;
      this.open.delete(key);
      this.listener.dropped(episode);
    }
  }
}

type RecordMaker = Omit<PendingMaker, 'at'>;

/** optee-notif-send, notifier-set and rx-message records that made bits pending. */
function makerOfRecord(record: RecordView, asyncIds: ReadonlyMap<number, number>): RecordMaker | null {
  const { data, entry } = record;
  const cpu = numberField(data, 'cpu');
  if (record.event === 'optee-notif-send' && data['outcome'] === 'sent') {
    const vm = numberField(data, 'vm');
    const asyncId = vm === null ? undefined : asyncIds.get(vm);
    const bits = bitmapField(data, 'bitmap') ?? (asyncId === undefined ? null : 1n << BigInt(asyncId));
    if (vm === null || bits === null) return null;
    return { entry, receiver: vm, bitmap: 'sp', bits, vcpu: null, sender: numberField(data, 'sender'), cpu };
  }
  if (record.event === 'notifier-set' && data['outcome'] === 'sent') {
    const receiver = numberField(data, 'receiver');
    const bits = bitmapField(data, 'bitmap');
    if (receiver === null || bits === null) return null;
    return { entry, receiver, bitmap: 'sp', bits, vcpu: null, sender: numberField(data, 'sp'), cpu };
  }
  if (record.event === 'rx-message') return makerOfRxMessage(record);
  return null;
}

/** docs/ffa-reference.md §3.8: RX buffer full is bit 0 of the SPM bitmap (SP sender) or the hypervisor's (VM sender). */
function makerOfRxMessage(record: RecordView): RecordMaker | null {
  const { data, entry } = record;
  const owner = numberField(data, 'owner');
  const sender = numberField(data, 'sender');
  if (owner === null || sender === null) return null;
  // Histories from before the `framework` field: a VM receiver is always notified.
  const framework = 'framework' in data ? stringField(data, 'framework') : isSecureId(owner) ? null : isSecureId(sender) ? 'spm' : 'hyp';
  if (framework !== 'spm' && framework !== 'hyp') return null;
  return { entry, receiver: owner, bitmap: framework, bits: 1n, vcpu: null, sender, cpu: null };
}
