import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { type WebSocket, WebSocketServer } from 'ws';
import { decodeBatch } from '../../wire/batch.ts';
import { newSecret } from './credentials.ts';
import { DEFAULT_LINK_LIMITS } from './limits.ts';
import { type FrameSocket, OutboundQueue } from './outbound-queue.ts';
import { serveHandshake } from './test-support/fake-handshake.ts';
import { inProcessNode } from './test-support/in-process-node.ts';

const SINK_KEY = newSecret();

/** A socket whose buffered amount the test controls, and whose send callbacks it releases. */
class FakeSocket implements FrameSocket {
  bufferedAmount = 0;
  readyState = 1;
  readonly sent: Buffer[] = [];
  readonly callbacks: ((error?: Error) => void)[] = [];
  send(data: Buffer, _options: { binary: boolean }, callback: (error?: Error) => void): void {
    this.sent.push(data);
    this.bufferedAmount += data.length;
    this.callbacks.push(callback);
  }
  /** The network took everything: bytes written, callbacks fire. */
  flush(): void {
    this.bufferedAmount = 0;
    for (const callback of this.callbacks.splice(0)) callback();
  }
}

/** The frames of each batch the socket was handed. */
function batchesSent(socket: FakeSocket, batchFrames = 256): Buffer[][] {
  return socket.sent.map((message) => {
    const batch = decodeBatch(message, batchFrames);
    assert.ok(batch.ok, batch.ok ? '' : batch.reason);
    return batch.frames.map((frame) => Buffer.from(frame));
  });
}

const endOfTurn = (): Promise<void> => setImmediate();

/** Frames told apart by their first byte, of `length` bytes each. */
function numbered(count: number, length: (i: number) => number = () => 100): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.alloc(length(i), i % 256));
}

const LIMITS = { queueFrames: 4096, queueBytes: 1 << 20, highWatermarkBytes: 1 << 20, batchFrames: 256, batchBytes: 64 * 1024 };

describe('OutboundQueue', () => {
  it('sends the turn\'s first frame at once, then the rest of the turn as one batch, in order', async () => {
    const socket = new FakeSocket();
    const queue = new OutboundQueue(socket, LIMITS);
    const frames = numbered(5, (i) => 10 + i);
    for (const frame of frames) assert.equal(queue.push(frame), 'queued');
    assert.deepEqual(batchesSent(socket), [frames.slice(0, 1)], 'the first frame does not wait; the others wait for the end of the turn');
    await endOfTurn();
    assert.deepEqual(batchesSent(socket), [frames.slice(0, 1), frames.slice(1)]);
    assert.equal(queue.batchesSent, 2);
    assert.equal(queue.length, 0);
  });

  it('a lone frame in each turn goes at once, every turn (an idle link pays no wait)', async () => {
    const socket = new FakeSocket();
    const queue = new OutboundQueue(socket, LIMITS);
    const frames = numbered(3);
    for (const frame of frames) {
      queue.push(frame);
      assert.equal(socket.sent.length, frames.indexOf(frame) + 1, 'sent within the turn that pushed it');
      await endOfTurn();
      socket.flush();
    }
    assert.deepEqual(batchesSent(socket), frames.map((frame) => [frame]));
  });

  it('after a busy turn a turn\'s frames all wait for its end, one write; a quiet turn makes the next first frame go at once again', async () => {
    const socket = new FakeSocket();
    const queue = new OutboundQueue(socket, LIMITS);
    const [a, b, c, d, e, f, g] = numbered(7);
    queue.push(a as Buffer);
    queue.push(b as Buffer);
    await endOfTurn(); // a at once, b at the end: a busy turn
    queue.push(c as Buffer);
    queue.push(d as Buffer);
    assert.equal(socket.sent.length, 2, 'after a busy turn the first frame waits too');
    await endOfTurn();
    assert.deepEqual(batchesSent(socket), [[a], [b], [c, d]], 'one write for the busy turn');
    queue.push(e as Buffer);
    await endOfTurn(); // still after a busy turn: e waits, and its turn pushed one frame
    queue.push(f as Buffer);
    assert.equal(socket.sent.length, 5, 'after a quiet turn the first frame goes at once');
    queue.push(g as Buffer);
    await endOfTurn();
    assert.deepEqual(batchesSent(socket), [[a], [b], [c, d], [e], [f], [g]]);
  });

  it('a frame pushed while earlier frames wait goes behind them, never ahead', async () => {
    const socket = new FakeSocket();
    socket.bufferedAmount = 1_000; // above the watermark: the first frame must wait too
    const queue = new OutboundQueue(socket, { ...LIMITS, highWatermarkBytes: 10 });
    const frames = numbered(3);
    queue.push(frames[0] as Buffer);
    assert.equal(socket.sent.length, 0);
    socket.bufferedAmount = 0;
    queue.push(frames[1] as Buffer);
    queue.push(frames[2] as Buffer);
    assert.equal(socket.sent.length, 0, 'the queue is not empty, so nothing jumps it');
    await endOfTurn();
    assert.deepEqual(batchesSent(socket).flat(), frames);
  });

  it('splits a turn of frames into batches within batchFrames and batchBytes, keeping their order', async () => {
    const socket = new FakeSocket();
    const queue = new OutboundQueue(socket, { ...LIMITS, batchFrames: 16, batchBytes: 1024 });
    const frames = numbered(300, (i) => 1 + ((i * 37) % 300));
    for (const frame of frames) assert.equal(queue.push(frame), 'queued');
    await endOfTurn();
    const batches = batchesSent(socket);
    assert.ok(batches.length > 300 / 16, `${batches.length} batches`);
    for (const [i, message] of socket.sent.entries()) {
      assert.ok(message.length <= 1024, `batch ${i} is ${message.length} bytes`);
      assert.ok((batches[i]?.length ?? 0) <= 16, `batch ${i} holds ${batches[i]?.length} frames`);
    }
    assert.deepEqual(batches.flat(), frames, 'every frame once, in the order pushed');
  });

  it('refuses a frame that cannot fit a batch on its own (a bug of the sender)', () => {
    const queue = new OutboundQueue(new FakeSocket(), { ...LIMITS, batchBytes: 1024 });
    assert.equal(queue.fits(1024 - 5 - 3), true);
    assert.equal(queue.fits(1024 - 5 - 2), false);
    assert.throws(() => queue.push(Buffer.alloc(1024)), RangeError);
  });

  it('sends batches while under the high watermark, queues up to the bound, then answers queue-full', async () => {
    const socket = new FakeSocket();
    // Two 100-byte frames fill a batch of 250 bytes; the socket takes batches until 400 bytes are
    // buffered (the first frame alone, about 110 bytes, then two batches of about 210).
    const queue = new OutboundQueue(socket, { ...LIMITS, queueFrames: 10, highWatermarkBytes: 400, batchBytes: 250 });
    const frames = numbered(21);
    const outcomes = frames.map((frame) => queue.push(frame));
    // The first frame goes at once; ten more wait.
    assert.deepEqual(outcomes, [...new Array(11).fill('queued'), ...new Array(10).fill('queue-full')]);
    await endOfTurn();
    assert.deepEqual(batchesSent(socket).map((b) => b.length), [1, 2, 2], 'the first frame, two batches, then the watermark');
    assert.equal(queue.length, 6);
    socket.flush();
    assert.equal(socket.sent.length, 3, 'what waits goes out at the end of the turn');
    await endOfTurn();
    assert.equal(socket.sent.length, 5, 'a send callback drains the next batches, up to the watermark');
    for (let i = 0; i < 5; i++) {
      socket.flush();
      await endOfTurn();
    }
    assert.equal(queue.length, 0);
    assert.deepEqual(batchesSent(socket).flat(), frames.slice(0, 11), 'every queued frame was sent, in order, once');
  });

  it('bounds bytes as well as frames, and refuses once the socket is closed', () => {
    const socket = new FakeSocket();
    socket.bufferedAmount = 1_000; // above the watermark: everything waits
    const queue = new OutboundQueue(socket, { ...LIMITS, queueFrames: 100, queueBytes: 250, highWatermarkBytes: 10 });
    assert.equal(queue.push(Buffer.alloc(100)), 'queued');
    assert.equal(queue.push(Buffer.alloc(100)), 'queued');
    assert.equal(queue.push(Buffer.alloc(100)), 'queue-full');
    assert.equal(queue.bytes, 200);
    socket.readyState = 3;
    assert.equal(queue.push(Buffer.alloc(1)), 'closed');
    queue.clear();
  });

  it('flush() hands the socket what is queued at once (a closing link), and the end of the turn then has nothing left', async () => {
    const socket = new FakeSocket();
    const queue = new OutboundQueue(socket, LIMITS);
    const frames = numbered(3);
    for (const frame of frames) queue.push(frame);
    queue.flush();
    assert.deepEqual(batchesSent(socket), [frames.slice(0, 1), frames.slice(1)]);
    await endOfTurn();
    assert.equal(socket.sent.length, 2);
  });
});

describe('backpressure on a real link', () => {
  let server: WebSocketServer | undefined;
  after(() => server?.close());

  it('a peer that stops reading makes sends refused with queue-full; nothing is buffered without bound or lost', async (t) => {
    // A peer that welcomes the flooder, then stops reading its socket.
    let peer: WebSocket | undefined;
    let received = 0;
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 * 1024 });
    server.on('connection', (socket) => {
      serveHandshake(socket, { identity: 'sink', role: 'test', key: SINK_KEY }, () => {
        socket.pause();
        peer = socket;
        socket.on('message', (data: Buffer) => {
          const batch = decodeBatch(data, DEFAULT_LINK_LIMITS.batchFrames);
          received += batch.ok ? batch.frames.length : 0;
        });
      });
    });
    await new Promise((resolve) => server?.once('listening', resolve));
    const address = server.address();
    assert.ok(address && typeof address === 'object');

    const COUNT = 10_000; // about 40 MB: more than the kernel's socket buffers hold
    const QUEUE_FRAMES = 256;
    const flooder = await inProcessNode({
      component: { name: 'flooder', role: 'test', module: 'shared/runtime/ws/test-support/flooder.ts', config: { target: 'sink', count: COUNT } },
      worldNames: ['flooder', 'sink'],
      credentials: { accept: {}, dial: { sink: SINK_KEY } },
      linkLimits: { queueFrames: QUEUE_FRAMES, highWatermarkBytes: 256 * 1024 },
    });
    try {
      await flooder.node.connect([{ name: 'sink', url: `ws://127.0.0.1:${address.port}` }], 5_000);
      flooder.node.start();
      const link = flooder.node.link('sink');
      assert.ok(link);

      const refused = flooder.history.filter((e) => e.event.type === 'refused' && e.event.reason === 'queue-full');
      assert.ok(refused.length > 0, 'queue-full is reported');
      assert.equal(link.queueHighWaterFrames, QUEUE_FRAMES, 'the queue filled to its bound and no further');
      assert.ok(link.bufferedBytes < 256 * 1024 + 64 * 1024, `socket buffer ${link.bufferedBytes} stayed near the watermark`);
      const accepted = COUNT + 1 - refused.length;

      // The peer reads again: every accepted frame arrives, the queue empties.
      peer?.resume();
      const giveUp = performance.now() + 30_000;
      while (received < accepted && performance.now() < giveUp) await new Promise((r) => setTimeout(r, 20));
      assert.equal(received, accepted, 'every frame the queue accepted arrived');
      assert.equal(link.queuedFrames, 0);
      const call = flooder.history.find((e) => e.event.type === 'call-failed');
      assert.ok(call?.event.type === 'call-failed' && call.event.reason === 'busy', 'a refused call is busy');
      const record = flooder.history.find((e) => e.event.type === 'record' && e.event.data['event'] === 'flood-call');
      assert.ok(record?.event.type === 'record' && record.event.data['reason'] === 'busy');
      t.diagnostic(`backpressure: ${COUNT} frames of ~4 KiB to a paused peer: ${accepted - 1} taken, ${refused.length} refused queue-full`);
    } finally {
      await flooder.node.stop('test over');
    }
  });
});
