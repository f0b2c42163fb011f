/**
 * A link's bounded outbound queue (design world.md §4: backpressure rather than unbounded
 * buffering; libraries.md ws trap: send() has no backpressure of its own). Frames go to the
 * socket only while its bufferedAmount is under the high watermark; the rest wait here, up to a
 * bound in frames and in bytes, and are handed over as the socket's send callbacks report data
 * written. When the queue is full, push() says so and the caller reports queue-full.
 */

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
  private pollTimer: NodeJS.Timeout | undefined;
  private highestQueued = 0;

  constructor(
    private readonly socket: FrameSocket,
    private readonly limits: OutboundQueueLimits,
  ) {}

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

  push(frame: Buffer): PushOutcome {
    if (this.socket.readyState !== OPEN) return 'closed';
    if (this.length >= this.limits.queueFrames || this.queuedBytes + frame.length > this.limits.queueBytes) {
      return 'queue-full';
    }
    this.frames.push(frame);
    this.queuedBytes += frame.length;
    this.highestQueued = Math.max(this.highestQueued, this.length);
    this.drain();
    return 'queued';
  }

  /** Forget everything waiting (the link is closing). */
  clear(): void {
    this.frames.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  private drain(): void {
    while (this.length > 0 && this.socket.readyState === OPEN && this.socket.bufferedAmount < this.limits.highWatermarkBytes) {
      const frame = this.shift();
      this.sendsInFlight++;
      this.socket.send(frame, { binary: true }, this.onSent);
    }
    this.compact();
    if (this.length > 0 && this.sendsInFlight === 0 && this.socket.readyState === OPEN) this.pollLater();
  }

  private readonly onSent = (error?: Error): void => {
    this.sendsInFlight--;
    if (error) {
      this.clear(); // the socket failed; the link's close handler reports it
      return;
    }
    this.drain();
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
