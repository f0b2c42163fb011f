/**
 * A Link over an in-memory socket, with the runtime's clock in the test's hands: an invalid
 * outbound frame is refused as a value (logged, the peer told) and never throws; bad inbound
 * frames close the link once too many fall within the window, however many valid frames the
 * peer slips in between.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { Message } from '../../protocol/messages.ts';
import { REGISTER_COUNT } from '../../protocol/messages.ts';
import { FIELD_LIMITS } from '../../wire/validate.ts';
import { BadFrameWindow } from './bad-frame-window.ts';
import { CLOSE_POLICY, linkLimits } from './limits.ts';
import { Link } from './link.ts';
import { FakeSocket, turnEnd } from './test-support/fake-socket.ts';

/** A msgpack byte no encoder ever writes: a frame that cannot be decoded. */
const UNDECODABLE = Buffer.from([0xc1]);
const VALID: Message = { kind: 'control', op: 'ping', data: null };
const MS = 1e6;

function openLink(overrides: Parameters<typeof linkLimits>[0] = {}) {
  const socket = new FakeSocket();
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const clock = { ns: 0, nowNs: () => clock.ns };
  const received: Message[] = [];
  const link = new Link(socket.asWebSocket(), { identity: 'peer', role: 'guest' }, linkLimits(overrides), log, { onMessage: (m) => received.push(m), onClose: () => {} }, clock);
  return { socket, link, logs, clock, received };
}

describe('Link.send: an invalid outbound frame', () => {
  it('is refused as invalid-frame, logged as a bug, and the peer is told; it never throws', async () => {
    const { socket, link, logs } = openLink();
    const tooLong: Message = { kind: 'control', op: 'register-result', data: { ok: false, reason: 'x'.repeat(FIELD_LIMITS.dataStringLength + 1) } };
    assert.equal(link.send(tooLong), 'invalid-frame');
    assert.equal(link.stats.invalidFramesOut, 1);
    assert.equal(link.stats.framesOut, 1, 'only the protocol error went out');
    await turnEnd();
    const [told] = socket.sent;
    assert.equal(told?.kind, 'protocol-error');
    assert.match(told?.kind === 'protocol-error' ? told.reason : '', /^an outbound control failed validation: control\.data: data\.reason is a string of 4097, too long/);
    assert.ok(logs.some((l) => l['msg'] === 'bug: an invalid frame was not sent' && l['level'] === 50), JSON.stringify(logs));
    assert.equal(link.send(VALID), undefined, 'the link keeps working');
  });

  it('names the call a refused return answers, so the peer can fail it', async () => {
    const { socket, link } = openLink();
    const shortRegs = { kind: 'return', id: 41, regs: new Array(REGISTER_COUNT - 1).fill(0n) } as Message;
    assert.equal(link.send(shortRegs), 'invalid-frame');
    await turnEnd();
    assert.deepEqual(socket.sent.map((f) => (f.kind === 'protocol-error' ? [f.code, f.ref] : f.kind)), [['INVALID_FIELD', 41]]);
  });

  it('refuses an oversize frame the same way', async () => {
    const { socket, link } = openLink({ maxPayloadBytes: 1024 });
    const big: Message = { kind: 'control', op: 'status', data: { text: 'y'.repeat(2048) } };
    assert.equal(link.send(big), 'invalid-frame');
    await turnEnd();
    assert.match(socket.sent[0]?.kind === 'protocol-error' ? socket.sent[0].reason : '', /does not fit a batch within maxPayload 1024/);
  });

  it('does not answer an invalid protocol error with another', async () => {
    const { socket, link } = openLink();
    const bad = { kind: 'protocol-error', code: 'NO_SUCH_CODE', reason: '', ref: -1 } as unknown as Message;
    assert.equal(link.send(bad), 'invalid-frame');
    await turnEnd();
    assert.deepEqual(socket.sent, []);
  });
});

describe('Link: bad inbound frames', () => {
  it('closes after the limit within the window even with a valid frame before each limit-th', async () => {
    const { socket, link, clock, received } = openLink({ badFramesPerWindow: 32, badFrameWindowMs: 10_000 });
    for (let round = 0; round < 2; round++) {
      for (let bad = 0; bad < 31 && socket.closedWith === null; bad++) {
        clock.ns += MS;
        socket.receive(UNDECODABLE);
      }
      socket.receive(VALID);
    }
    assert.equal(received.length, 1, 'the first valid frame got through; the second came after the close');
    assert.equal(socket.closedWith?.code, CLOSE_POLICY);
    assert.equal(socket.closedWith?.reason, '32 bad frames within 10000 ms');
    assert.equal(link.stats.badFramesIn, 32);
  });

  it('keeps a link whose bad frames are spread thinner than the limit per window', async () => {
    const { socket, link, clock } = openLink({ badFramesPerWindow: 32, badFrameWindowMs: 10_000 });
    // 31 bad frames every 10 s, for a minute: never 32 within one window.
    for (let burst = 0; burst < 6; burst++) {
      for (let bad = 0; bad < 31; bad++) socket.receive(UNDECODABLE);
      clock.ns += 10_000 * MS;
    }
    assert.equal(socket.closedWith, null);
    assert.equal(link.stats.badFramesIn, 6 * 31);
    await turnEnd();
    assert.ok(socket.sent.every((f) => f.kind === 'protocol-error'), 'each was answered');
  });
});

describe('BadFrameWindow', () => {
  it('says so at the limit-th bad frame within the window, sliding', async () => {
    const window = new BadFrameWindow(3, 100);
    assert.deepEqual([0, 10, 20].map((t) => window.note(t)), [false, false, true]);
    const sliding = new BadFrameWindow(3, 100);
    // 0, 60, 120: the first has left the window by the third; 60, 120, 150 are within 100.
    assert.deepEqual([0, 60, 120, 150].map((t) => sliding.note(t)), [false, false, false, true]);
  });

  it('refuses a limit or window that could never close a link', async () => {
    assert.throws(() => new BadFrameWindow(0, 100), /positive integer/);
    assert.throws(() => new BadFrameWindow(3, 0), /positive/);
  });
});
