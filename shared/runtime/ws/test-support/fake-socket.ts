/**
 * The part of a ws WebSocket a Link uses, in memory: what the link sends is kept (decoded), and
 * a test hands it frames as if the peer had sent them. No network, no timers.
 */
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
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

  send(data: Buffer, _options: { binary: boolean }, callback: (error?: Error) => void): void {
    const decoded = decodeFrame(data);
    if (!decoded.ok) throw new Error(`the link sent an undecodable frame: ${decoded.reason}`);
    this.sent.push(decoded.frame);
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

  /** The peer sends a frame (encoded as the wire would carry it), or raw bytes. */
  receive(frame: WireFrame | Buffer): void {
    this.emit('message', Buffer.isBuffer(frame) ? frame : encodeFrame(frame), true);
  }

  asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }
}
