/**
 * A welcomed link: one websocket to a named peer, carrying messages both ways. Each websocket
 * message is a batch of frames (wire/batch.ts, wire protocol 2). Inbound, each frame of a batch is
 * decoded and validated alone, in order; a bad one is answered with a protocol-error frame and the
 * others are handled as if they had come one by one, until too many bad frames within a window
 * close the link with 1008 (bad-frame-window.ts; the frames after that close are not handled). A
 * message that is not a batch at all counts as one bad frame. Outbound frames go through a bounded
 * queue (outbound-queue.ts) that sends a turn's first frame at once and the rest of the turn's
 * frames as batches at its end (backpressure: send() answers queue-full, never buffers without
 * bound). An outbound frame that fails validation is a bug of this component: logged, never sent,
 * and answered with 'invalid-frame', never a crash.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { decodeBatch } from '../../wire/batch.ts';
import { decodeFrame, encodeFrame } from '../../wire/codec.ts';
import { isMessageFrame } from '../../wire/frames.ts';
import { FIELD_LIMITS, type FrameError, validateFrame } from '../../wire/validate.ts';
import type { Message, ProtocolErrorMessage } from '../../protocol/messages.ts';
import type { Clock } from '../component.ts';
import { BadFrameWindow } from './bad-frame-window.ts';
import { closeReason, type LinkIdentity, payloadBytes } from './handshake.ts';
import { CLOSE_POLICY, type LinkLimits } from './limits.ts';
import { OutboundQueue } from './outbound-queue.ts';

export interface LinkEvents {
  /** A valid message from the peer (its sender is the peer's identity from its hello). */
  onMessage(message: Message): void;
  onClose(code: number, reason: string): void;
}

export type LinkSendRefusal = 'queue-full' | 'closed' | 'invalid-frame';

export interface LinkStats {
  /** Frames received, a message that is not a batch counted as one. */
  framesIn: number;
  /** Websocket messages received (batches, good or bad). */
  batchesIn: number;
  framesOut: number;
  /** Bad frames received (each answered with a protocol error). */
  badFramesIn: number;
  queueFullRefusals: number;
  /** Outbound frames this side refused to send because they failed validation (bugs, each logged). */
  invalidFramesOut: number;
}

/** Log the first few bad frames of a link, then only every thousandth: a flood must not flood the log. */
const LOGGED_BAD_FRAMES = 10;

const OPEN = 1;
const CLOSED = 3;

export class Link {
  readonly stats: LinkStats = { framesIn: 0, batchesIn: 0, framesOut: 0, badFramesIn: 0, queueFullRefusals: 0, invalidFramesOut: 0 };
  private readonly queue: OutboundQueue;
  private readonly badFrames: BadFrameWindow;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly socket: WebSocket,
    readonly peer: LinkIdentity,
    private readonly limits: LinkLimits,
    private readonly log: Logger,
    private readonly events: LinkEvents,
    /** The runtime's clock: it times the bad-frame window. */
    private readonly clock: Clock,
  ) {
    this.queue = new OutboundQueue(socket, { ...limits, batchBytes: limits.maxPayloadBytes });
    this.badFrames = new BadFrameWindow(limits.badFramesPerWindow, limits.badFrameWindowMs * 1e6);
    socket.on('message', (data, isBinary) => this.onBatch(data, isBinary));
    socket.on('close', (code, reason) => {
      this.queue.clear();
      this.events.onClose(code, reason.toString());
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === OPEN;
  }

  /** Frames waiting in the outbound queue. */
  get queuedFrames(): number {
    return this.queue.length;
  }

  get queueHighWaterFrames(): number {
    return this.queue.highWaterFrames;
  }

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  /** Websocket messages sent (each a batch of frames). */
  get batchesOut(): number {
    return this.queue.batchesSent;
  }

  /**
   * Queue a message for the peer. A full queue or a closed link is an outcome; so is an invalid
   * or oversize message ('invalid-frame'), which is a bug of the sender, logged as one.
   */
  send(message: Message): LinkSendRefusal | undefined {
    const checked = validateFrame(message);
    if (!checked.ok) return this.refuseOwnFrame(message, checked.reason);
    const frame = encodeFrame(message);
    if (!this.queue.fits(frame.length)) {
      return this.refuseOwnFrame(message, `${frame.length} bytes does not fit a batch within maxPayload ${this.limits.maxPayloadBytes}`);
    }
    const outcome = this.queue.push(frame);
    if (outcome === 'queued') {
      this.stats.framesOut++;
      return undefined;
    }
    if (outcome === 'queue-full') this.stats.queueFullRefusals++;
    return outcome;
  }

  /**
   * Close cleanly; past the grace period the socket is terminated. Resolves once it is closed.
   * What this turn queued goes out first (as far as the watermark allows), as it would have
   * before the close had each frame been its own message.
   */
  close(code: number, reason: string): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.socket.readyState === CLOSED) {
        resolve();
        return;
      }
      this.queue.flush();
      const grace = setTimeout(() => this.socket.terminate(), this.limits.closeGraceMs);
      this.socket.once('close', () => {
        clearTimeout(grace);
        resolve();
      });
      this.socket.close(code, closeReason(reason));
    });
    return this.closed;
  }

  private onBatch(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.closed) return;
    this.stats.batchesIn++;
    if (!isBinary) {
      this.stats.framesIn++;
      this.refuseFrame({ ok: false, code: 'MALFORMED_FRAME', reason: 'text message; frames are binary msgpack', ref: -1 });
      return;
    }
    const batch = decodeBatch(payloadBytes(data), this.limits.batchFrames);
    if (!batch.ok) {
      this.stats.framesIn++;
      this.refuseFrame({ ok: false, code: 'MALFORMED_FRAME', reason: batch.reason, ref: -1 });
      return;
    }
    for (const frame of batch.frames) {
      // Too many bad frames within the window closed the link: the rest of the batch is not handled.
      if (this.closed) return;
      this.onFrame(frame);
    }
  }

  private onFrame(bytes: Uint8Array): void {
    this.stats.framesIn++;
    const decoded = decodeFrame(bytes);
    if (!decoded.ok) {
      this.refuseFrame(decoded);
      return;
    }
    if (!isMessageFrame(decoded.frame)) {
      this.refuseFrame({ ok: false, code: 'NOT_ALLOWED', reason: `${decoded.frame.kind} on a welcomed link`, ref: -1 });
      return;
    }
    if (decoded.frame.kind === 'protocol-error') {
      this.log.warn({ peer: this.peer.identity, code: decoded.frame.code, reason: decoded.frame.reason }, 'peer refused a frame');
    }
    this.events.onMessage(decoded.frame);
  }

  /** Answer a bad frame with a protocol error; too many within the window close the link. */
  private refuseFrame(error: FrameError): void {
    this.stats.badFramesIn++;
    const { badFramesIn } = this.stats;
    if (badFramesIn <= LOGGED_BAD_FRAMES || badFramesIn % 1000 === 0) {
      this.log.warn({ peer: this.peer.identity, code: error.code, reason: error.reason, badFramesIn }, 'bad frame answered');
    }
    const answer: ProtocolErrorMessage = { kind: 'protocol-error', code: error.code, reason: error.reason.slice(0, FIELD_LIMITS.reasonLength), ref: error.ref };
    this.send(answer);
    if (this.badFrames.note(this.clock.nowNs())) {
      const { badFramesPerWindow, badFrameWindowMs } = this.limits;
      this.log.warn({ peer: this.peer.identity, badFramesIn, badFramesPerWindow, badFrameWindowMs }, 'closing link: too many bad frames');
      void this.close(CLOSE_POLICY, `${badFramesPerWindow} bad frames within ${badFrameWindowMs} ms`);
    }
  }

  /**
   * One of this component's own frames failed validation: a bug, but one frame must not take the
   * component down with every link it holds. It is logged, never sent, and the peer is told with
   * a protocol error, since it may be waiting for an answer that will not come.
   */
  private refuseOwnFrame(message: Message, problem: string): 'invalid-frame' {
    this.stats.invalidFramesOut++;
    const reason = `an outbound ${message.kind} failed validation: ${problem}`.slice(0, FIELD_LIMITS.reasonLength);
    this.log.error({ peer: this.peer.identity, kind: message.kind, reason }, 'bug: an invalid frame was not sent');
    if (message.kind !== 'protocol-error') {
      const id = message.kind === 'call' || message.kind === 'return' ? message.id : -1;
      this.send({ kind: 'protocol-error', code: 'INVALID_FIELD', reason, ref: Number.isSafeInteger(id) && id >= 0 ? id : -1 });
    }
    return 'invalid-frame';
  }
}
