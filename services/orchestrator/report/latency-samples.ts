/**
 * End-to-end latency samples read off a history, for the report's "over time" plot. The latency
 * checker gives percentiles only (LatencyReport); a plot over time needs each notification, so
 * this pairs sends with callbacks the way the default world's verdict does:
 *
 * - a send: a successful FFA_NOTIFICATION_SET at its first hop (the caller that started it, not
 *   the hypervisor or SPMD forwarding it), an OP-TEE SP's internal send (`optee-notif-send`
 *   record, outcome "sent"), or a notifier SP's (`notifier-set` record, outcome "sent");
 * - a callback: a guest's `notification-callback` record {id: the bit};
 * - each callback answers every earlier send still waiting for that receiver and bit (several
 *   sends before one GET merge into one pending bit). An OP-TEE send names no bit, so any callback
 *   in its VM answers it.
 *
 * These are the report's own reading, for the plot; the percentiles shown beside it are the
 * checker's.
 */
import { FFA_FIDS } from '../../../shared/ffa/function-ids.ts';
import { decodeResult } from '../../../shared/ffa/errors.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { CallMessage } from '../../../shared/protocol/messages.ts';

export interface LatencySample {
  /** When the send happened (runtime ns). */
  sendNs: number;
  latencyNs: number;
  /** The receiver's component (the guest whose callback ran). */
  receiver: string;
  bit: number | null;
}

interface PendingSend {
  t: number;
  bit: number | null;
}

const SET_FID = BigInt(FFA_FIDS.FFA_NOTIFICATION_SET);
const U32 = 0xffff_ffffn;

function bitsOf(bitmap: bigint): number[] {
  const bits: number[] = [];
  for (let bit = 0; bit < 64; bit++) if ((bitmap >> BigInt(bit)) & 1n) bits.push(bit);
  return bits;
}

function bitmapOf(value: unknown): bigint | null {
  try {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return BigInt(value);
    if (typeof value === 'string' && /^(0x[0-9a-f]+|[0-9]+)$/i.test(value)) return BigInt(value);
  } catch {
    return null;
  }
  return null;
}

export function latencySamples(entries: readonly HistoryEntry[]): LatencySample[] {
  const vmOfComponent = new Map<string, number>();
  const learnVm = (component: string, vmId: number) => {
    if (!vmOfComponent.has(component)) vmOfComponent.set(component, vmId);
  };
  // A guest's configuration record names its FF-A ID, and so do its calls on the hypervisor conduit.
  for (const { event } of entries) {
    if (event.type === 'record' && event.data.event === 'guest-config' && typeof event.data.vmId === 'number') learnVm(event.component, event.data.vmId);
    if (event.type === 'send' && event.message.kind === 'call' && event.message.conduit === 'hvc' && event.message.endpoint > 0) learnVm(event.from, event.message.endpoint);
  }

  const pending = new Map<number, PendingSend[]>();
  const addSend = (vmId: number, t: number, bit: number | null) => {
    const list = pending.get(vmId);
    if (list) list.push({ t, bit });
    else pending.set(vmId, [{ t, bit }]);
  };
  /** SETs in flight: key caller/callee/id → the call, its send time, and whether it is a first hop. */
  const sets = new Map<string, { call: CallMessage; t: number; firstHop: boolean }>();
  /** Per component: SETs it is serving now (a SET it sends meanwhile is a forward). */
  const serving = new Map<string, number>();
  const samples: LatencySample[] = [];

  for (const { t, event } of entries) {
    if (event.type === 'record') {
      const { data } = event;
      if (data.event === 'optee-notif-send' && data.outcome === 'sent' && typeof data.vm === 'number') addSend(data.vm, t, null);
      if (data.event === 'notifier-set' && data.outcome === 'sent' && typeof data.receiver === 'number') {
        const bitmap = bitmapOf(data.bitmap);
        for (const bit of bitmap === null ? [] : bitsOf(bitmap)) addSend(data.receiver, t, bit);
      }
      if (data.event === 'notification-callback' && typeof data.id === 'number') {
        const vmId = vmOfComponent.get(event.component);
        if (vmId === undefined) continue;
        const waiting = pending.get(vmId) ?? [];
        const kept: PendingSend[] = [];
        for (const send of waiting) {
          if (send.bit === null || send.bit === data.id) samples.push({ sendNs: send.t, latencyNs: t - send.t, receiver: event.component, bit: send.bit ?? data.id });
          else kept.push(send);
        }
        pending.set(vmId, kept);
      }
      continue;
    }
    if (event.type !== 'send' && event.type !== 'deliver') continue;
    const { message } = event;
    if (message.kind === 'call') {
      if (message.regs[0] !== SET_FID) continue;
      if (event.type === 'send') {
        const firstHop = (serving.get(event.from) ?? 0) === 0;
        sets.set(`${event.from}/${event.to}/${message.id}`, { call: message, t, firstHop });
      } else {
        serving.set(event.to, (serving.get(event.to) ?? 0) + 1);
      }
    } else if (message.kind === 'return') {
      // A return travels callee → caller with its call's id.
      const key = `${event.to}/${event.from}/${message.id}`;
      const set = sets.get(key);
      if (!set) continue;
      if (event.type === 'send') {
        serving.set(event.from, Math.max(0, (serving.get(event.from) ?? 0) - 1));
        continue;
      }
      sets.delete(key);
      if (!set.firstHop || decodeResult(message.regs).kind !== 'success') continue;
      const w1 = Number((set.call.regs[1] ?? 0n) & U32);
      const bitmap = ((set.call.regs[3] ?? 0n) & U32) | (((set.call.regs[4] ?? 0n) & U32) << 32n);
      for (const bit of bitsOf(bitmap)) addSend(w1 & 0xffff, set.t, bit);
    }
  }
  return samples;
}
