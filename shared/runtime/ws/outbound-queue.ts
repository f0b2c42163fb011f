/**
 * A link's bounded outbound queue (docs/design.md §4: backpressure rather than unbounded
 * buffering; libraries.md ws trap: send() has no backpressure of its own).
 *
 * The first frame of a turn of the event loop goes to the socket at once, as a batch of one
 * (wire/batch.ts), when nothing waits before it and the link's last turn sent one frame at most:
 * a lone call pays no wait for the turn's end, so an idle hop costs what a bare ws send costs.
 * Frames pushed after it in the same turn, and every frame of a turn that follows a busier one,
 * wait here until the turn ends (setImmediate), then go as batches, each of at most
 * `batchFrames` frames and `batchBytes` bytes, in the order they were pushed: a loaded link
 * costs one socket write per turn, an idle one none waited for. Batches go to the socket only while its bufferedAmount is under the high
 * watermark; the rest wait here, up to a bound in frames and in bytes, until the socket's send
 * callbacks report data written. When the queue is full, push() says so and the caller reports
 * queue-full.
 */
import { BATCH_HEADER_MAX_BYTES, encodeBatch, framedBytes } from '../../wire/batch.ts';

/** The part of a ws WebSocket the queue uses (a fake in unit tests). */
export interface FrameSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Buffer, options: { binary: boolean }, callback: (error?: Error) => void): void;
}

export interface OutboundQueueLimits {
  queueFrames: number;
  queueBytes: number;
  highWatermarkBytes: number;
  /** Frames in one batch. */
  batchFrames: number;
  /** Bytes of one batch, headers included (the link's maxPayload). */
  batchBytes: number;
}

const OPEN = 1;
/** If no send callback is outstanding to wake the queue, look again after this long. */
const IDLE_POLL_MS = 5;

export type PushOutcome = 'queued' | 'queue-full' | 'closed';

export class OutboundQueue {
  private readonly frames: Buffer[] = [];
  private head = 0;
  private queuedBytes = 0;
  private sendsInFlight = 0;
  private endOfTurn: NodeJS.Immediate | undefined;
  /** A frame went straight to the socket this turn: the rest of the turn's frames batch. */
  private sentThisTurn = false;
  /** Frames pushed this turn, and whether the last turn that pushed any pushed more than one. */
  private pushedThisTurn = 0;
  private busy = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private highestQueued = 0;
  private batches = 0;

  constructor(
    private readonly socket: FrameSocket,
    private readonly limits: OutboundQueueLimits,
  ) {
    if (BATCH_HEADER_MAX_BYTES + framedBytes(1) > limits.batchBytes) throw new RangeError(`batchBytes ${limits.batchBytes} holds no frame`);
  }

  /** Frames waiting (not yet handed to the socket). */
  get length(): number {
    return this.frames.length - this.head;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /** The most frames ever waiting at once (for tests and metrics). */
  get highWaterFrames(): number {
    return this.highestQueued;
  }

  /** Batches handed to the socket so far. */
  get batchesSent(): number {
    return this.batches;
  }

  /** Whether a frame of `frameBytes` fits in a batch on its own. */
  fits(frameBytes: number): boolean {
    return BATCH_HEADER_MAX_BYTES + framedBytes(frameBytes) <= this.limits.batchBytes;
  }

  push(frame: Buffer): PushOutcome {
    if (this.socket.readyState !== OPEN) return 'closed';
    if (!this.fits(frame.length)) throw new RangeError(`a frame of ${frame.length} bytes does not fit a batch of ${this.limits.batchBytes}`);
    if (this.length >= this.limits.queueFrames || this.queuedBytes + frame.length > this.limits.queueBytes) {
      return 'queue-full';
    }
    this.pushedThisTurn++;
    if (this.length === 0 && !this.sentThisTurn && !this.busy && this.belowWatermark()) {
      this.sentThisTurn = true;
      this.endOfTurn ??= setImmediate(this.onEndOfTurn);
      this.write([frame]);
      return 'queued';
    }
    this.frames.push(frame);
    this.queuedBytes += frame.length;
    this.highestQueued = Math.max(this.highestQueued, this.length);
    this.endOfTurn ??= setImmediate(this.onEndOfTurn);
    return 'queued';
  }

  /** Hand the socket what the watermark allows now, without waiting for the turn to end (the link is closing). */
  flush(): void {
    this.cancelEndOfTurn();
    this.drain();
  }

  /** Forget everything waiting (the link is closing). */
  clear(): void {
    this.sentThisTurn = false;
    this.pushedThisTurn = 0;
    this.busy = false;
    this.frames.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    this.cancelEndOfTurn();
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  private readonly onEndOfTurn = (): void => {
    this.endOfTurn = undefined;
    this.sentThisTurn = false;
    // A turn that pushed nothing (a send callback's wake-up) says nothing of the load.
    if (this.pushedThisTurn > 0) this.busy = this.pushedThisTurn > 1;
    this.pushedThisTurn = 0;
    this.drain();
  };

  private cancelEndOfTurn(): void {
    if (this.endOfTurn) clearImmediate(this.endOfTurn);
    this.endOfTurn = undefined;
  }

  private drain(): void {
    while (this.length > 0 && this.belowWatermark()) this.write(this.nextBatch());
    this.compact();
    if (this.length > 0 && this.sendsInFlight === 0 && this.socket.readyState === OPEN) this.pollLater();
  }

  private belowWatermark(): boolean {
    return this.socket.readyState === OPEN && this.socket.bufferedAmount < this.limits.highWatermarkBytes;
  }

  private write(batch: Buffer[]): void {
    this.sendsInFlight++;
    this.batches++;
    this.socket.send(encodeBatch(batch), { binary: true }, this.onSent);
  }

  /** Take the next batch from the head of the queue: as many frames as both bounds allow, at least one. */
  private nextBatch(): Buffer[] {
    const batch: Buffer[] = [];
    let bytes = BATCH_HEADER_MAX_BYTES;
    for (let frame = this.frames[this.head]; frame && batch.length < this.limits.batchFrames; frame = this.frames[this.head]) {
      bytes += framedBytes(frame.length);
      if (batch.length > 0 && bytes > this.limits.batchBytes) break;
      batch.push(this.shift());
    }
    return batch;
  }

  /** A send completed: what waits behind the watermark goes out with the next turn's frames. */
  private readonly onSent = (error?: Error): void => {
    this.sendsInFlight--;
    if (error) {
      this.clear(); // the socket failed; the link's close handler reports it
      return;
    }
    if (this.length > 0) this.endOfTurn ??= setImmediate(this.onEndOfTurn);
  };

  private pollLater(): void {
    if (this.pollTimer) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.drain();
    }, IDLE_POLL_MS);
  }

  private shift(): Buffer {
    const frame = this.frames[this.head];
    if (!frame) throw new Error('outbound queue shifted while empty');
    this.frames[this.head++] = EMPTY;
    this.queuedBytes -= frame.length;
    return frame;
  }

  /** Drop the consumed prefix now and then, so the array does not grow without bound. */
  private compact(): void {
    if (this.head === this.frames.length) {
      this.frames.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames.splice(0, this.head);
      this.head = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
