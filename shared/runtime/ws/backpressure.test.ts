import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type WebSocket, WebSocketServer } from 'ws';
import { encodeFrame } from '../../wire/codec.ts';
import { WIRE_PROTOCOL_VERSION } from '../../wire/frames.ts';
import { type FrameSocket, OutboundQueue } from './outbound-queue.ts';
import { inProcessNode } from './test-support/in-process-node.ts';

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

describe('OutboundQueue', () => {
  it('sends while under the high watermark, queues up to the bound, then answers queue-full', () => {
    const socket = new FakeSocket();
    const queue = new OutboundQueue(socket, { queueFrames: 10, queueBytes: 1 << 20, highWatermarkBytes: 300 });
    const frame = Buffer.alloc(100);
    const outcomes = Array.from({ length: 20 }, () => queue.push(frame));
    assert.equal(socket.sent.length, 3, 'the socket got frames until 300 bytes were buffered');
    assert.equal(queue.length, 10);
    assert.deepEqual(outcomes.slice(0, 13), new Array(13).fill('queued'));
    assert.deepEqual(outcomes.slice(13), new Array(7).fill('queue-full'));
    socket.flush();
    assert.equal(socket.sent.length, 6, 'a send callback drains the next frames');
    for (let i = 0; i < 10; i++) socket.flush();
    assert.equal(queue.length, 0);
    assert.equal(socket.sent.length, 13, 'every queued frame was sent, in order, once');
  });

  it('bounds bytes as well as frames, and refuses once the socket is closed', () => {
    const socket = new FakeSocket();
    socket.bufferedAmount = 1_000; // above the watermark: everything waits
    const queue = new OutboundQueue(socket, { queueFrames: 100, queueBytes: 250, highWatermarkBytes: 10 });
    assert.equal(queue.push(Buffer.alloc(100)), 'queued');
    assert.equal(queue.push(Buffer.alloc(100)), 'queued');
    assert.equal(queue.push(Buffer.alloc(100)), 'queue-full');
    assert.equal(queue.bytes, 200);
    socket.readyState = 3;
    assert.equal(queue.push(Buffer.alloc(1)), 'closed');
    queue.clear();
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
      socket.once('message', () => {
        socket.send(encodeFrame({ kind: 'welcome', protocol: WIRE_PROTOCOL_VERSION, role: 'test', identity: 'sink' }));
        socket.pause();
        peer = socket;
        socket.on('message', () => received++);
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
      accept: {},
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
