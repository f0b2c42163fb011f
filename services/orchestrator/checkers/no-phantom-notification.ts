/**
 * no-phantom-notification (docs/design.md §8, safety): a GET never returns a bit that no SET or
 * internal send made pending since that bit was last returned.
 *
 * Judged twice: at the SPMC, against the ledger's replay of its state (ledger.ts); and at the
 * component that asked, whose answer may only carry bits the SPMC's answer on the same forwarding
 * chain carried (a forwarder such as the hypervisor must not make bits up; docs/ffa-reference.md §5.4).
 * A bit a forwarder passed on with no SPMC answer behind it in the history, where a component of
 * the chain stopped writing its history before that (its tail is missing: the process was killed),
 * is unknown, not a phantom: the answer may be in the part of its history that was lost.
 */
import { decodeResult } from '../../../shared/ffa/errors.ts';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import { notificationGet } from '../../../shared/ffa/notifications.ts';
import type { CheckFailure, WorldModel } from '../scenario/types.ts';
import { fidOfCall, originAt, type CallRecord } from './calls.ts';
import { endpointName, evidenceOf, failureListOf, KeyedFailures, outcomeOf, type CheckOutcome } from './evidence.ts';
import { type HistoryFacts, UndecidedByTail } from './facts.ts';
import { getBitmaps, type EpisodeListener, type NotificationBitmap, type SpmcPhantom } from './ledger.ts';
import { bitsOf } from './records.ts';
import { plural } from '../../../shared/plural.ts';

const BITMAPS: readonly NotificationBitmap[] = ['sp', 'vm', 'spm', 'hyp'];

/** A first call of a chain, a GET, whose answer reached its caller with success. */
function isAnsweredGet(c: CallRecord): boolean {
  return c.parent === null && fidOfCall(c) === FFA_FIDS.FFA_NOTIFICATION_GET && c.returnDelivered !== null && c.returnRegs !== null && decodeResult(c.returnRegs).kind === 'success';
}

/** The components a chain passed through below its first caller. */
function chainComponents(call: CallRecord, into: Set<string> = new Set()): Set<string> {
  into.add(call.callee);
  for (const child of call.children) chainComponents(child, into);
  return into;
}

/** The check as a fold: the SPMC's phantoms as the ledger finds them, each chain once settled (calls.ts). */
export class NoPhantomNotification implements EpisodeListener {
  private readonly atSpmc = new KeyedFailures();
  private readonly forwarded = new KeyedFailures();
  private phantoms = 0;
  private episodes = 0;
  private gets = 0;
  private readonly unknown = new UndecidedByTail();

  constructor(
    private readonly model: WorldModel,
    private readonly facts: HistoryFacts,
  ) {}

  created(): void {
    this.episodes++;
  }

  phantom(phantom: SpmcPhantom): void {
    const { model } = this;
    const receiver = endpointName(model, phantom.receiver);
    const since = phantom.lastReturned ? `since it was last returned (seq ${phantom.lastReturned.seq})` : 'ever';
    this.atSpmc.add([this.phantoms++], {
      message: `the SPMC's GET answer for ${receiver} (vCPU ${phantom.vcpu}) returned notification ${phantom.bit} (${phantom.bitmap} bitmap), which nothing made pending ${since}`,
      bit: phantom.bit,
      endpoints: [receiver, phantom.call.caller],
      events: evidenceOf([phantom.lastReturned, phantom.call.delivered, phantom.entry]),
    });
  }

  /** A settled chain: a GET answered to the first caller may carry only bits the SPMC's answer on it carried. */
  chainSettled(top: CallRecord): void {
    if (!isAnsweredGet(top)) return;
    this.gets++;
    const { model } = this;
    if (top.callee === model.spmc) return; // judged at the SPMC
    const origin = originAt(top, model.spmc);
    const spmcBits = origin?.returnRegs && decodeResult(origin.returnRegs).kind === 'success' ? getBitmaps(origin.returnRegs) : null;
    const got = getBitmaps(top.returnRegs ?? []);
    const receiver = notificationGet.decodeCall(top.message?.regs ?? []).args.receiver;
    BITMAPS.forEach((bitmap, b) => {
      for (const bit of bitsOf(got[bitmap] & ~(spmcBits?.[bitmap] ?? 0n))) {
        const tail = spmcBits ? null : this.facts.missingTailBefore([...chainComponents(top), model.spmc], (top.returnDelivered as NonNullable<CallRecord['returnDelivered']>).t);
        if (tail) {
          this.unknown.count(tail);
          continue;
        }
        const source = spmcBits ? 'the SPMC\'s answer on that chain did not carry it' : 'no SPMC answer stands behind it';
        const failure: CheckFailure = {
          message: `${top.caller} got notification ${bit} (${bitmap} bitmap) for ${endpointName(model, receiver)} from ${top.callee}, but ${source}`,
          bit,
          endpoints: [top.caller, top.callee],
          events: evidenceOf([top.sent, origin?.returned, top.returned, top.returnDelivered]),
        };
        this.forwarded.add([top.order, b, bit], failure);
      }
    });
  }


  outcome(): CheckOutcome {
    const failures = failureListOf({ total: this.atSpmc.total, failures: this.atSpmc.values() }, { total: this.forwarded.total, failures: this.forwarded.values() });
    return outcomeOf(failures, 'phantom notification', `${plural(this.gets, 'GET answer')} delivered, ${plural(this.episodes, 'notification')} made pending${this.unknown.note()}`);
  }
}
