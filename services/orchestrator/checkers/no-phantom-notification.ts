/**
 * no-phantom-notification (docs/design.md §8, safety): a GET never returns a bit that no SET or
 * internal send made pending since that bit was last returned.
 *
 * Judged twice: at the SPMC, against the ledger's replay of its state (ledger.ts); and at the
 * component that asked, whose answer may only carry bits the SPMC's answer on the same forwarding
 * chain carried (a forwarder such as the hypervisor must not make bits up; docs/ffa-reference.md §5.4).
 */
import { decodeResult } from '../../../shared/ffa/errors.ts';
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import { notificationGet } from '../../../shared/ffa/notifications.ts';
import type { WorldModel } from '../scenario/types.ts';
import { fidOfCall, originAt, type CallIndex, type CallRecord } from './calls.ts';
import { endpointName, evidenceOf, FailureList, outcomeOf, type CheckOutcome } from './evidence.ts';
import { getBitmaps, type NotificationAnalysis, type NotificationBitmap } from './ledger.ts';
import { bitsOf } from './records.ts';
import { plural } from '../../../shared/plural.ts';

const BITMAPS: readonly NotificationBitmap[] = ['sp', 'vm', 'spm', 'hyp'];

function spmcPhantoms(model: WorldModel, analysis: NotificationAnalysis, failures: FailureList): void {
  for (const phantom of analysis.phantoms) {
    const receiver = endpointName(model, phantom.receiver);
    const since = phantom.lastReturned ? `since it was last returned (seq ${phantom.lastReturned.seq})` : 'ever';
    failures.add({
      message: `the SPMC's GET answer for ${receiver} (vCPU ${phantom.vcpu}) returned notification ${phantom.bit} (${phantom.bitmap} bitmap), which nothing made pending ${since}`,
      bit: phantom.bit,
      endpoints: [receiver, phantom.call.caller],
      events: evidenceOf([phantom.lastReturned, phantom.call.delivered, phantom.entry]),
    });
  }
}

/** A first call of a chain, a GET, whose answer reached its caller with success. */
function answeredGets(index: CallIndex): CallRecord[] {
  return index.calls.filter(
    (c) => c.parent === null && fidOfCall(c) === FFA_FIDS.FFA_NOTIFICATION_GET && c.returnDelivered !== null && c.returnRegs !== null && decodeResult(c.returnRegs).kind === 'success',
  );
}

function forwardedPhantoms(model: WorldModel, gets: readonly CallRecord[], failures: FailureList): void {
  for (const top of gets) {
    if (top.callee === model.spmc) continue; // judged at the SPMC
    const origin = originAt(top, model.spmc);
    const spmcBits = origin?.returnRegs && decodeResult(origin.returnRegs).kind === 'success' ? getBitmaps(origin.returnRegs) : null;
    const got = getBitmaps(top.returnRegs ?? []);
    const receiver = notificationGet.decodeCall(top.message?.regs ?? []).args.receiver;
    for (const bitmap of BITMAPS) {
      for (const bit of bitsOf(got[bitmap] & ~(spmcBits?.[bitmap] ?? 0n))) {
        const source = spmcBits ? 'the SPMC\'s answer on that chain did not carry it' : 'no SPMC answer stands behind it';
        failures.add({
          message: `${top.caller} got notification ${bit} (${bitmap} bitmap) for ${endpointName(model, receiver)} from ${top.callee}, but ${source}`,
          bit,
          endpoints: [top.caller, top.callee],
          events: evidenceOf([top.sent, origin?.returned, top.returned, top.returnDelivered]),
        });
      }
    }
  }
}

export function checkNoPhantomNotification(model: WorldModel, index: CallIndex, analysis: NotificationAnalysis): CheckOutcome {
  const failures = new FailureList();
  const gets = answeredGets(index);
  spmcPhantoms(model, analysis, failures);
  forwardedPhantoms(model, gets, failures);
  return outcomeOf(failures, 'phantom notification', `${plural(gets.length, 'GET answer')} delivered, ${plural(analysis.episodes.length, 'notification')} made pending`);
}
