/**
 * The part of a ws WebSocket a Link uses, in memory: what the link sends is kept (decoded), and
 * a test hands it frames as if the peer had sent them. No network; the link sends what a turn
 * queued at the end of the turn, so a test awaits `turnEnd()` before it reads `sent`.
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { decodeBatch, encodeBatch } from '../../../wire/batch.ts';
import { decodeFrame, encodeFrame } from '../../../wire/codec.ts';
import type { WireFrame } from '../../../wire/frames.ts';

const OPEN = 1;
const CLOSED = 3;

export class FakeSocket extends EventEmitter {
  readyState = OPEN;
  readonly bufferedAmount = 0;
  /** Every frame the link sent, decoded. */
  readonly sent: WireFrame[] = [];
  /** The close the link asked for, if any. */
  closedWith: { code: number; reason: string } | null = null;

  /** A batch the link sent (wire/batch.ts): each of its frames, decoded. */
  send(data: Buffer, _options: { binary: boolean }, callback: (error?: Error) => void): void {
    const batch = decodeBatch(data, Number.MAX_SAFE_INTEGER);
    if (!batch.ok) throw new Error(`the link sent a message that is not a batch: ${batch.reason}`);
    for (const bytes of batch.frames) {
      const decoded = decodeFrame(bytes);
      if (!decoded.ok) throw new Error(`the link sent an undecodable frame: ${decoded.reason}`);
      this.sent.push(decoded.frame);
    }
    callback();
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.readyState = CLOSED;
    this.emit('close', code, Buffer.from(reason));
  }

  terminate(): void {
    this.close(1006, 'terminated');
  }

  /** The peer sends a frame in a batch of its own (as the wire carries it), or raw bytes as one frame of a batch. */
  receive(frame: WireFrame | Buffer): void {
    this.emit('message', encodeBatch([Buffer.isBuffer(frame) ? frame : encodeFrame(frame)]), true);
  }

  asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }
}

/** The end of the current event-loop turn: the link has sent what it queued. */
export function turnEnd(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
