/**
 * A raw websocket client for tests: sends arbitrary bytes or text (no validation, no hello unless
 * told), and reads back decoded frames and the close code, each wait bounded. Once welcomed, each
 * message it gets is a batch (wire/batch.ts): its frames are read back one by one, in order.
 */
import { WebSocket } from 'ws';
import { DEFAULT_LINK_LIMITS } from '../limits.ts';
import { decodeBatch, encodeBatch } from '../../../wire/batch.ts';
import { decodeFrame, encodeFrame } from '../../../wire/codec.ts';
import { type HelloFrame, WIRE_PROTOCOL_VERSION } from '../../../wire/frames.ts';
import type { FrameResult } from '../../../wire/validate.ts';
import type { Role } from '../../../protocol/roles.ts';
import { type KeyText, newSecret, proofOf, type Transcript } from '../credentials.ts';
import { payloadBytes } from '../handshake.ts';

/** What a test client claims, and the key it proves the claim with. */
export interface TestClaim {
  identity: string;
  role: Role;
  key: KeyText;
}

export type RawEvent =
  | { type: 'frame'; result: FrameResult }
  | { type: 'close'; code: number; reason: string }
  | { type: 'timeout' };

export class RawClient {
  private readonly events: RawEvent[] = [];
  private wake: (() => void) | undefined;
  closeCode: number | undefined;
  /** Messages received (a batch counts once). */
  messages = 0;
  private welcomed = false;

  private constructor(readonly socket: WebSocket) {
    socket.on('error', () => {}); // a refused socket errors; the close event says how
    socket.on('message', (data, isBinary) => {
      this.messages++;
      if (!isBinary) return this.push({ type: 'frame', result: { ok: false, code: 'MALFORMED_FRAME', reason: 'text', ref: -1 } });
      if (!this.welcomed) return this.onGreeting(decodeFrame(payloadBytes(data)));
      const batch = decodeBatch(payloadBytes(data), DEFAULT_LINK_LIMITS.batchFrames);
      if (!batch.ok) return this.push({ type: 'frame', result: { ok: false, code: 'MALFORMED_FRAME', reason: batch.reason, ref: -1 } });
      for (const frame of batch.frames) this.push({ type: 'frame', result: decodeFrame(frame) });
    });
    socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.push({ type: 'close', code, reason: reason.toString() });
    });
  }

  /** `localAddress`: the loopback address to connect from (127.0.0.x), for bounds per source address. */
  static connect(url: string, timeoutMs = 5_000, localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs, ...(localAddress ? { localAddress } : {}) });
      const client = new RawClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('close', (code) => reject(new Error(`raw client could not connect to ${url} (close ${code})`)));
    });
  }

  /** Connect and run the handshake with `claim` (the server's proof is not checked); resolves once the welcome arrived. */
  static async welcomed(url: string, claim: TestClaim): Promise<RawClient> {
    const client = await RawClient.connect(url);
    const challenge = await client.hello(claim);
    client.send(encodeFrame({ kind: 'proof', proof: proofOf(claim.key, 'client', challenge.transcript) }));
    const answer = await client.next(5_000);
    if (answer.type !== 'frame' || !answer.result.ok || answer.result.frame.kind !== 'welcome') {
      throw new Error(`no welcome: ${JSON.stringify(answer)}`);
    }
    return client;
  }

  /** Send a hello for `claim`; resolves with the server's challenge and the transcript the proofs are over. */
  async hello(claim: Omit<TestClaim, 'key'>): Promise<{ transcript: Transcript; serverProof: string }> {
    const hello: HelloFrame = { kind: 'hello', protocol: WIRE_PROTOCOL_VERSION, role: claim.role, identity: claim.identity, nonce: newSecret() };
    this.send(encodeFrame(hello));
    const answer = await this.next(5_000);
    if (answer.type !== 'frame' || !answer.result.ok || answer.result.frame.kind !== 'challenge') throw new Error(`no challenge: ${JSON.stringify(answer)}`);
    const challenge = answer.result.frame;
    return {
      serverProof: challenge.proof,
      transcript: {
        protocol: WIRE_PROTOCOL_VERSION,
        credential: challenge.credential,
        client: { role: hello.role, identity: hello.identity, nonce: hello.nonce },
        server: { role: challenge.role, identity: challenge.identity, nonce: challenge.nonce },
      },
    };
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(data: Buffer | string): void {
    this.socket.send(data, { binary: typeof data !== 'string' });
  }

  /** Send frames (encoded, or any bytes) as one batch: one websocket message. */
  sendBatch(...frames: Buffer[]): void {
    this.send(encodeBatch(frames));
  }

  /** The next frame or close, or 'timeout'. */
  async next(timeoutMs: number): Promise<RawEvent> {
    const event = this.events.shift();
    if (event) return event;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
    this.wake = undefined;
    return this.events.shift() ?? { type: 'timeout' };
  }

  /** Wait (bounded) for the close; returns its code, or undefined on timeout. */
  async closed(timeoutMs: number): Promise<number | undefined> {
    const giveUp = performance.now() + timeoutMs;
    while (this.closeCode === undefined && performance.now() < giveUp) await this.next(giveUp - performance.now());
    return this.closeCode;
  }

  terminate(): void {
    this.socket.terminate();
  }

  /** The first message from the server: a welcome, after which messages are batches. */
  private onGreeting(result: FrameResult): void {
    if (result.ok && result.frame.kind === 'welcome') this.welcomed = true;
    this.push({ type: 'frame', result });
  }

  private push(event: RawEvent): void {
    this.events.push(event);
    this.wake?.();
  }
}
