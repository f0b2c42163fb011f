/**
 * The ws runtime's HostTransport: real monotonic time, runtime timers (setTimeout here is the
 * point: component code gets them only through ctx.setTimer), and the component's links. An
 * envelope goes to the link named by its `to`; a delay fault holds it back with a timer first
 * (bounded: past `heldFrames` the transmit answers queue-full).
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../component.ts';
import type { HostTransport, TransmitRefusal } from '../component-host.ts';
import type { HistoryEvent } from '../history.ts';
import type { Envelope } from '../../protocol/messages.ts';
import type { Link } from './link.ts';

export interface WsTransportOptions {
  clock: Clock;
  /** The open link to a peer, if any. */
  linkTo(name: string): Link | undefined;
  history(event: HistoryEvent): void;
  heldFrames: number;
  log: Logger;
}

/** Delays below this run on the next turn of the event loop (setTimeout cannot do better). */
const SUB_MILLISECOND_NS = 1_000_000;

/** setTimeout's longest delay (2^31 - 1 ms); longer timers are a bug of the caller. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

type PendingTimer = { kind: 'timeout'; timer: NodeJS.Timeout } | { kind: 'immediate'; timer: NodeJS.Immediate };

export class WsTransport implements HostTransport {
  readonly clock: Clock;
  private readonly timers = new Map<TimerHandle, PendingTimer>();
  private nextHandle = 1;
  private held = 0;
  private disposed = false;

  constructor(private readonly options: WsTransportOptions) {
    this.clock = options.clock;
  }

  transmit(envelope: Envelope, delayNs: number): TransmitRefusal | undefined {
    if (delayNs <= 0) return this.sendNow(envelope);
    if (this.held >= this.options.heldFrames) return 'queue-full';
    this.held++;
    this.schedule(delayNs, () => {
      this.held--;
      const refusal = this.sendNow(envelope);
      // The host already took this envelope as sent; a refusal now can only be recorded.
      if (refusal) this.history({ type: 'refused', reason: refusal, ...envelope });
    });
    return undefined;
  }

  schedule(delayNs: number, onFire: () => void): TimerHandle {
    const handle = this.nextHandle++;
    // After stop nothing may fire: a late request (e.g. from a component's onStop) never runs.
    if (this.disposed) return handle;
    const fire = (): void => {
      this.timers.delete(handle);
      onFire();
    };
    // setTimeout's resolution is 1 ms: a shorter delay (e.g. a guest's seeded work jitter of a
    // few µs) runs on the next turn instead, which is nearer the delay asked for than 1 ms is.
    if (delayNs < SUB_MILLISECOND_NS) {
      this.timers.set(handle, { kind: 'immediate', timer: setImmediate(fire) });
    } else {
      const delayMs = Math.round(delayNs / 1e6);
      if (!(delayMs >= 0 && delayMs <= LONGEST_TIMER_MS)) throw new RangeError(`timer delay ${delayNs} ns is out of range`);
      this.timers.set(handle, { kind: 'timeout', timer: setTimeout(fire, delayMs) });
    }
    return handle;
  }

  cancel(handle: TimerHandle): void {
    const pending = this.timers.get(handle);
    if (!pending) return;
    this.timers.delete(handle);
    if (pending.kind === 'immediate') clearImmediate(pending.timer);
    else clearTimeout(pending.timer);
  }

  history(event: HistoryEvent): void {
    this.options.history(event);
  }

  /** Cancel every timer (held frames included): the node is stopping. */
  dispose(): void {
    this.disposed = true;
    for (const handle of [...this.timers.keys()]) this.cancel(handle);
  }

  private sendNow(envelope: Envelope): TransmitRefusal | undefined {
    const link = this.options.linkTo(envelope.to);
    if (!link) return 'unreachable';
    const refusal = link.send(envelope.message);
    if (refusal === 'closed') return 'unreachable';
    return refusal;
  }
}
