/**
 * The receiver driver's callbacks, as they come (docs/design.md §2, step 6). A GET answer that
 * reaches a component opens a window on that component's vCPU, which the next GET answer there
 * closes: the driver's `notification-callback` for a bit in that window is the callback of the
 * bit that answer carried (Linux drivers/firmware/arm_ffa/driver.c handles one GET's bitmaps
 * before it asks again). OP-TEE's bottom half (`optee-bottom-half`) belongs to the latest
 * callback for its bit on that vCPU, until the next one.
 *
 * Only the open window per vCPU, the latest callback per bit, and the windows that delivered
 * episodes still wait on are kept.
 */
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { fidOfCall, type CallRecord, type CallStep } from './calls.ts';
import { recordOf, type RecordView } from './records.ts';

/** A driver callback and OP-TEE's bottom half after it (once known: `bottomHalfKnown`). */
export interface Callback {
  readonly entry: HistoryEntry;
  bottomHalf: HistoryEntry | null;
  bottomHalfKnown: boolean;
  readonly waiters: (() => void)[];
}

/** The callbacks after one GET answer reached a vCPU, before the next: the first per bitmap and bit. */
export interface CallbackWindow {
  readonly callbacks: Map<string, Callback>;
  closed: boolean;
  readonly waiters: (() => void)[];
}

const bitKey = (bitmap: string, bit: number | string): string => `${bitmap}|${bit}`;

function fireAll(waiters: (() => void)[]): void {
  for (const waiter of waiters.splice(0)) waiter();
}

export class CallbackWindows {
  /** Per component and vCPU, the window the latest GET answer opened. */
  private readonly open = new Map<string, CallbackWindow>();
  private readonly byCall = new WeakMap<CallRecord, CallbackWindow>();
  /** Per component, bit and vCPU: the latest callback of each bitmap, for the bottom half that follows. */
  private readonly latest = new Map<string, Map<string, Callback>>();

  take(entry: HistoryEntry, step: CallStep): void {
    const delivered = step.answerDelivered;
    if (delivered && fidOfCall(delivered) === FFA_FIDS.FFA_NOTIFICATION_GET) this.openWindow(delivered);
    const record = recordOf(entry);
    if (record?.event === 'notification-callback') this.onCallback(record);
    else if (record?.event === 'optee-bottom-half') this.onBottomHalf(record);
  }

  /** The window the GET answer that ends a chain opened (the chain's first call). */
  windowOf(top: CallRecord): CallbackWindow | null {
    return this.byCall.get(top) ?? null;
  }

  /** The callback of `bitmap`/`bit` in the window, if one came. */
  static callbackIn(window: CallbackWindow, bitmap: string, bit: number): Callback | null {
    return window.callbacks.get(bitKey(bitmap, bit)) ?? null;
  }

  /** The end of the history: every window closes, every callback's bottom half is what it is. */
  finish(): void {
    for (const window of this.open.values()) this.close(window);
    this.open.clear();
    for (const byBitmap of this.latest.values()) for (const callback of byBitmap.values()) this.endBottomHalf(callback, null);
    this.latest.clear();
  }

  private openWindow(call: CallRecord): void {
    const key = `${call.caller}|${call.message?.vcpu}`;
    const previous = this.open.get(key);
    if (previous) this.close(previous);
    const window: CallbackWindow = { callbacks: new Map(), closed: false, waiters: [] };
    this.open.set(key, window);
    this.byCall.set(call, window);
  }

  private close(window: CallbackWindow): void {
    window.closed = true;
    fireAll(window.waiters);
  }

  private onCallback(record: RecordView): void {
    const { component, data } = record;
    const callback: Callback = { entry: record.entry, bottomHalf: null, bottomHalfKnown: false, waiters: [] };
    const window = this.open.get(`${component}|${String(data['vcpu'])}`);
    const key = bitKey(String(data['type']), String(data['id']));
    if (window && !window.callbacks.has(key)) {
      window.callbacks.set(key, callback);
      fireAll(window.waiters);
    }
    const bit = `${component}|${String(data['id'])}|${String(data['vcpu'])}`;
    let byBitmap = this.latest.get(bit);
    if (!byBitmap) {
      byBitmap = new Map();
      this.latest.set(bit, byBitmap);
    }
    const previous = byBitmap.get(String(data['type']));
    if (previous) this.endBottomHalf(previous, null);
    byBitmap.set(String(data['type']), callback);
  }

  private onBottomHalf(record: RecordView): void {
    const { component, data } = record;
    const byBitmap = this.latest.get(`${component}|${String(data['id'])}|${String(data['vcpu'])}`);
    for (const callback of byBitmap?.values() ?? []) this.endBottomHalf(callback, record.entry);
  }

  private endBottomHalf(callback: Callback, bottomHalf: HistoryEntry | null): void {
    if (callback.bottomHalfKnown) return;
    callback.bottomHalf = bottomHalf;
    callback.bottomHalfKnown = true;
    fireAll(callback.waiters);
  }
}
