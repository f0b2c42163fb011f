/**
 * THE FUZZ TEST: 10,000 malformed frames against a ws component, from welcomed and unwelcomed
 * connections (on a welcomed one, half of them inside a batch). Each must be answered with a
 * protocol-error frame or end its socket with a policy close code (1008, or 1009 for oversize),
 * the component must neither crash nor hang, and a well-formed client on another connection
 * keeps getting its calls echoed throughout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeFrame } from '../../wire/codec.ts';
import { REGISTER_COUNT } from '../../protocol/messages.ts';
import { randomStream } from '../random.ts';
import { newSecret } from './credentials.ts';
import { CLOSE_POLICY, CLOSE_TOO_BIG, DEFAULT_LINK_LIMITS } from './limits.ts';
import { type FuzzCategory, FuzzFrames } from './test-support/fuzz-frames.ts';
import { type InProcessNode, inProcessNode } from './test-support/in-process-node.ts';
import { RawClient } from './test-support/raw-client.ts';

const FRAMES = 10_000;
/** One frame in this many is sent on a connection that never said hello. */
const UNWELCOMED_ONE_IN = 8;
const WAIT_MS = 10_000;
const BAD_FRAMES_PER_WINDOW = DEFAULT_LINK_LIMITS.badFramesPerWindow;
/** The node's clock stands still: every bad frame falls in one window, however slow the machine. */
const STOPPED_CLOCK = { nowNs: () => 0 };

const CALLER = { identity: 'caller', role: 'test' as const, key: newSecret() };
const FUZZER = { identity: 'fuzzer', role: 'test' as const, key: newSecret() };

let echo: InProcessNode;

before(async () => {
  echo = await inProcessNode({
    component: { name: 'echo', role: 'test', module: 'shared/runtime/test-world/echo.ts', config: { recordCalls: false } },
    worldNames: ['caller', 'echo', 'fuzzer'],
    credentials: { accept: { caller: { key: CALLER.key }, fuzzer: { key: FUZZER.key } }, dial: {} },
    clock: STOPPED_CLOCK,
  });
  echo.node.start();
});

after(() => echo.node.stop('fuzz over'));

/** The well-formed client: one call at a time, each return checked bit for bit, until told to stop. */
async function callUntil(done: () => boolean): Promise<{ returned: number; failures: string[] }> {
  const client = await RawClient.welcomed(echo.node.url, CALLER);
  const failures: string[] = [];
  let returned = 0;
  for (let id = 1; !done() || returned === 0; id++) {
    const regs = Array.from({ length: REGISTER_COUNT }, (_, i) => BigInt.asUintN(64, (0xfedc_ba98_7654_3210n << BigInt(i)) ^ BigInt(id)));
    client.sendBatch(encodeFrame({ kind: 'call', id, conduit: 'smc', endpoint: 1, vcpu: 0, cpu: 0, regs, memory: null }));
    const answer = await client.next(WAIT_MS);
    const ok =
      answer.type === 'frame' &&
      answer.result.ok &&
      answer.result.frame.kind === 'return' &&
      answer.result.frame.id === id &&
      answer.result.frame.regs.slice(1).every((r, i) => r === regs[i + 1]);
    if (!ok) {
      failures.push(`call ${id}: ${JSON.stringify(answer, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)).slice(0, 200)}`);
      break;
    }
    returned++;
  }
  client.terminate();
  return { returned, failures };
}

interface Tally {
  answered: number;
  /** Bad frames sent inside a batch. */
  batched: number;
  closedPolicy: number;
  closedTooBig: number;
  unanswered: string[];
  byCategory: Map<FuzzCategory, number>;
}

describe('fuzz: 10,000 malformed frames', () => {
  it('answers or closes on every one, never crashes or hangs, and keeps serving a good client', async (t) => {
    const frames = new FuzzFrames(randomStream(20240301, 'fuzz'), DEFAULT_LINK_LIMITS.maxPayloadBytes);
    const chooser = randomStream(20240301, 'fuzz-connections');
    const tally: Tally = { answered: 0, batched: 0, closedPolicy: 0, closedTooBig: 0, unanswered: [], byCategory: new Map() };
    let fuzzing = true;
    const goodClient = callUntil(() => !fuzzing);
    const started = performance.now();

    let welcomed: RawClient | undefined;
    let errorsOnWelcomed = 0;
    try {
      for (let n = 0; n < FRAMES; n++) {
        const frame = frames.next();
        tally.byCategory.set(frame.category, (tally.byCategory.get(frame.category) ?? 0) + 1);
        const unwelcomed = chooser.intBelow(UNWELCOMED_ONE_IN) === 0;
        if (!unwelcomed && (!welcomed || !welcomed.isOpen)) {
          welcomed = await RawClient.welcomed(echo.node.url, FUZZER);
          errorsOnWelcomed = 0;
        }
        const client = unwelcomed ? await RawClient.connect(echo.node.url) : welcomed;
        assert.ok(client);
        // On a welcomed link, half the bad frames come inside a batch (each frame of a batch is
        // validated alone), half as the whole message (which then is not a batch).
        if (!unwelcomed && typeof frame.data !== 'string' && frame.category !== 'oversize' && chooser.intBelow(2) === 0) {
          tally.batched++;
          client.sendBatch(frame.data);
        } else {
          client.send(frame.data);
        }
        const event = await client.next(WAIT_MS);
        if (event.type === 'frame' && event.result.ok && event.result.frame.kind === 'protocol-error' && !unwelcomed) {
          tally.answered++;
          // The server closes a link after this many bad frames within its window: wait for that close.
          if (++errorsOnWelcomed >= BAD_FRAMES_PER_WINDOW) assert.equal(await client.closed(WAIT_MS), CLOSE_POLICY);
        } else if (event.type === 'frame' && event.result.ok && event.result.frame.kind === 'challenge' && unwelcomed && frame.category === 'hello-again') {
          // A well-formed hello on a fresh connection is the handshake's first step: challenged, then bounded by the hello timeout.
          tally.answered++;
        } else if (event.type === 'close' && event.code === CLOSE_POLICY) {
          tally.closedPolicy++;
        } else if (event.type === 'close' && event.code === CLOSE_TOO_BIG && frame.category === 'oversize') {
          tally.closedTooBig++;
        } else {
          tally.unanswered.push(`#${n} ${frame.category} ${unwelcomed ? 'unwelcomed' : 'welcomed'}: ${JSON.stringify(event).slice(0, 160)}`);
        }
        if (unwelcomed) client.terminate();
      }
    } finally {
      fuzzing = false;
      welcomed?.terminate();
    }
    const good = await goodClient;
    const elapsedMs = Math.round(performance.now() - started);

    assert.deepEqual(tally.unanswered.slice(0, 5), [], `${tally.unanswered.length} frames neither answered nor closed`);
    assert.equal(tally.answered + tally.closedPolicy + tally.closedTooBig, FRAMES);
    assert.ok(tally.answered > 0 && tally.batched > 0 && tally.closedPolicy > 0 && tally.closedTooBig > 0, JSON.stringify(tally));
    assert.deepEqual(good.failures, []);
    assert.ok(good.returned > 0, 'the good client was served while the fuzz ran');

    // Still alive and serving after the storm.
    const after = await callUntil(() => true);
    assert.deepEqual(after.failures, []);
    assert.equal(after.returned, 1);

    const categories = Object.fromEntries(tally.byCategory);
    t.diagnostic(
      `fuzz: ${FRAMES} frames (${tally.batched} inside a batch) in ${elapsedMs} ms; answered ${tally.answered}, closed 1008 ${tally.closedPolicy}, ` +
        `closed 1009 ${tally.closedTooBig}; good client calls returned ${good.returned}; ${JSON.stringify(categories)}`,
    );
  });
});
