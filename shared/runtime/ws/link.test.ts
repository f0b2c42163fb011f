/**
 * A welcomed link carries batches (wire/batch.ts): the frames of a batch are handled in order,
 * each validated alone; a bad one is refused and counted without taking the others with it; a
 * message that is not a batch, or a batch past the bound, is one bad frame; the frames a turn
 * queued go out as one batch, in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Packr } from 'msgpackr';
import { encodeFrame } from '../../wire/codec.ts';
import { WIRE_PROTOCOL_VERSION } from '../../wire/frames.ts';
import { type CallMessage, REGISTER_COUNT } from '../../protocol/messages.ts';
import { newSecret } from './credentials.ts';
import { CLOSE_POLICY } from './limits.ts';
import { type InProcessNode, inProcessNode } from './test-support/in-process-node.ts';
import { type RawEvent, RawClient, type TestClaim } from './test-support/raw-client.ts';

const HELLO: TestClaim = { identity: 'caller', role: 'test', key: newSecret() };
const WAIT_MS = 5_000;

function call(id: number): Buffer {
  const regs = Array.from({ length: REGISTER_COUNT }, (_, i) => BigInt(id * 100 + i));
  const message: CallMessage = { kind: 'call', id, conduit: 'smc', endpoint: 1, vcpu: id % 4, cpu: 0, regs, memory: null };
  return encodeFrame(message);
}

/** What an event is, in a word: `return <id>`, `error <code>`, `close <code>`, or `timeout`. */
function describeEvent(event: RawEvent): string {
  if (event.type === 'close') return `close ${event.code}`;
  if (event.type === 'timeout') return 'timeout';
  if (!event.result.ok) return `undecodable ${event.result.reason}`;
  const { frame } = event.result;
  if (frame.kind === 'return') return `return ${frame.id}`;
  if (frame.kind === 'protocol-error') return `error ${frame.code}`;
  return frame.kind;
}

async function nextEvents(client: RawClient, count: number): Promise<string[]> {
  const events: string[] = [];
  for (let i = 0; i < count; i++) events.push(describeEvent(await client.next(WAIT_MS)));
  return events;
}

async function echoNode(linkLimits: { batchFrames?: number; badFramesPerWindow?: number } = {}): Promise<InProcessNode> {
  const echo = await inProcessNode({
    component: { name: 'echo', role: 'test', module: 'shared/runtime/test-world/echo.ts', config: { recordCalls: false } },
    worldNames: ['caller', 'echo'],
    credentials: { accept: { caller: { key: HELLO.key, role: 'test' } }, dial: {} },
    linkLimits,
  });
  echo.node.start();
  return echo;
}

describe('a link of batches (default limits)', () => {
  let echo: InProcessNode;
  let client: RawClient;
  before(async () => {
    echo = await echoNode();
  });
  after(() => echo.node.stop('test over'));

  it('handles a batch of calls in order, and sends the returns the turn made in order: the first at once, the rest as one batch', async () => {
    client = await RawClient.welcomed(echo.node.url, HELLO);
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    client.sendBatch(...ids.map(call));
    assert.deepEqual(await nextEvents(client, ids.length), ids.map((id) => `return ${id}`));
    assert.equal(client.messages, 4, 'the challenge, the welcome, the first return, then one batch of 99 returns');
    const link = echo.node.link('caller');
    assert.equal(link?.stats.batchesIn, 1);
    assert.equal(link?.stats.framesIn, 100);
    assert.equal(link?.batchesOut, 2);
    client.terminate();
  });

  it('refuses a bad frame inside a batch alone: the frames around it are handled, in order, and it is counted', async () => {
    client = await RawClient.welcomed(echo.node.url, HELLO);
    const notAFrame = Buffer.from([0xc1, 0xff]);
    const unknownKind = new Packr({ useRecords: false }).pack({ kind: 'teleport', id: 3 });
    const helloAgain = encodeFrame({ kind: 'hello', protocol: WIRE_PROTOCOL_VERSION, identity: HELLO.identity, role: HELLO.role, nonce: newSecret() });
    client.sendBatch(call(1), notAFrame, call(2), unknownKind, helloAgain, call(3));
    assert.deepEqual(await nextEvents(client, 6), [
      'return 1',
      'error MALFORMED_FRAME',
      'return 2',
      'error UNKNOWN_KIND',
      'error NOT_ALLOWED',
      'return 3',
    ]);
    const link = echo.node.link('caller');
    assert.equal(link?.stats.badFramesIn, 3);
    assert.equal(link?.stats.framesIn, 6);
    assert.ok(link?.isOpen);
    client.terminate();
  });

  it('refuses a message that is not a batch (wire protocol 1 framing) as one bad frame, and keeps the link', async () => {
    client = await RawClient.welcomed(echo.node.url, HELLO);
    client.send(call(1));
    const refusal = await client.next(WAIT_MS);
    assert.ok(refusal.type === 'frame' && refusal.result.ok && refusal.result.frame.kind === 'protocol-error', describeEvent(refusal));
    assert.equal(refusal.result.frame.code, 'MALFORMED_FRAME');
    assert.match(refusal.result.frame.reason, /not a batch/);
    client.sendBatch(call(2));
    assert.deepEqual(await nextEvents(client, 1), ['return 2']);
    assert.equal(echo.node.link('caller')?.stats.badFramesIn, 1);
    client.terminate();
  });
});

describe('a link of batches (at most 4 frames a batch, 2 bad frames in a row)', () => {
  let echo: InProcessNode;
  before(async () => {
    echo = await echoNode({ batchFrames: 4, badFramesPerWindow: 2 });
  });
  after(() => echo.node.stop('test over'));

  it('refuses a batch of more frames than the bound whole: none of its frames is handled', async () => {
    const client = await RawClient.welcomed(echo.node.url, HELLO);
    client.sendBatch(call(1), call(2), call(3), call(4), call(5));
    client.sendBatch(call(6), call(7), call(8), call(9));
    const refusal = await client.next(WAIT_MS);
    assert.ok(refusal.type === 'frame' && refusal.result.ok && refusal.result.frame.kind === 'protocol-error', describeEvent(refusal));
    assert.equal(refusal.result.frame.reason, 'a batch of 5 frames, want 1..4');
    assert.deepEqual(await nextEvents(client, 4), ['return 6', 'return 7', 'return 8', 'return 9']);
    client.terminate();
  });

  it('closes the link when a batch holds too many bad frames in a row: each is answered first, the rest is not handled', async () => {
    const client = await RawClient.welcomed(echo.node.url, HELLO);
    const bad = Buffer.from([0xc1]);
    client.sendBatch(call(1), bad, bad, call(2));
    assert.deepEqual(await nextEvents(client, 4), ['return 1', 'error MALFORMED_FRAME', 'error MALFORMED_FRAME', `close ${CLOSE_POLICY}`]);
  });
});
