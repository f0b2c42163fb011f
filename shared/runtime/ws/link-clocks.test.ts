/**
 * Each link's view of its peer's clock (link-clocks.ts): two nodes on loopback, one reading a
 * clock skewed as another machine's would be, find the skew within the estimate's uncertainty;
 * two nodes of one boot know their clocks are the same; the exchange never reaches a component;
 * a reply that is not to the outstanding probe, or without its timestamps, is not used.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { SentControlMessage } from '../../protocol/control.ts';
import { newSecret } from './credentials.ts';
import { LINK_CLOCK_OPS, LinkClocks, type NodeClockSource, type PeerClock } from './link-clocks.ts';
import { inProcessNode } from './test-support/in-process-node.ts';

const KEY = newSecret();
/** Another machine's monotonic clock: counting from a boot 3.7 days earlier. */
const SKEW_NS = 321_234_567_891_011n;

const skewed = (bootId: string, skewNs: bigint): NodeClockSource => ({ now: () => process.hrtime.bigint() + skewNs, bootId });

async function pair(callerClock: NodeClockSource, echoClock: NodeClockSource, echoProbes = true) {
  const worldNames = ['echo', 'one-call'];
  const echo = await inProcessNode({
    component: { name: 'echo', role: 'test', module: 'shared/runtime/test-world/echo.ts', config: { recordCalls: true } },
    worldNames,
    credentials: { accept: { 'one-call': { key: KEY, role: 'test' } }, dial: {} },
    linkClocks: { probe: echoProbes, source: echoClock },
  });
  const caller = await inProcessNode({
    component: { name: 'one-call', role: 'test', module: 'shared/runtime/ws/test-support/one-call.ts', config: { target: 'echo' } },
    worldNames,
    credentials: { accept: {}, dial: { echo: KEY } },
    linkClocks: { probe: true, source: callerClock },
  });
  await caller.node.connect([{ name: 'echo', url: echo.node.url }], 5_000);
  await echo.node.waitForInbound(['one-call'], 5_000);
  return { caller, echo, stop: () => Promise.all([caller.node.stop('test over'), echo.node.stop('test over')]) };
}

/** The peer clock once `enough` holds of it (bounded: the burst answers within milliseconds). */
async function peerClockWhen(read: () => PeerClock | null, enough: (clock: PeerClock) => boolean): Promise<PeerClock> {
  for (let tries = 0; tries < 1000; tries++) {
    const clock = read();
    if (clock && enough(clock)) return clock;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`no peer clock: ${JSON.stringify(read(), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
}

const abs = (n: bigint): bigint => (n < 0n ? -n : n);

describe('link clocks', () => {
  it('find a peer\'s skewed clock within the estimate\'s uncertainty, at both ends, and no component sees the exchange', async () => {
    const { caller, echo, stop } = await pair(skewed('this-machine', 0n), skewed('another-machine', SKEW_NS));
    try {
      const ofEcho = await peerClockWhen(() => caller.node.peerClock('echo'), (c) => !c.sameClock && c.samples >= 4);
      assert.ok(!ofEcho.sameClock && abs(ofEcho.offsetNs - SKEW_NS) <= BigInt(Math.ceil(ofEcho.uncertaintyNs)), `echo's clock off by ${ofEcho.sameClock ? 0 : ofEcho.offsetNs - SKEW_NS}`);
      const ofCaller = await peerClockWhen(() => echo.node.peerClock('one-call'), (c) => !c.sameClock && c.samples >= 1);
      assert.ok(!ofCaller.sameClock && abs(ofCaller.offsetNs + SKEW_NS) <= BigInt(Math.ceil(ofCaller.uncertaintyNs)));
      const seen = [...caller.history, ...echo.history].filter((e) => JSON.stringify(e.event, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).includes('link.clock'));
      assert.deepEqual(seen, [], 'the exchange is the nodes\', not the components\'');
    } finally {
      await stop();
    }
  });

  it('know two ends of one boot share their clock exactly, and a node that does not probe still answers', async () => {
    const { caller, echo, stop } = await pair(skewed('one-boot', 0n), skewed('one-boot', 0n), false);
    try {
      assert.deepEqual(await peerClockWhen(() => caller.node.peerClock('echo'), () => true), { sameClock: true });
      assert.equal(echo.node.peerClock('one-call'), null, 'echo does not probe');
    } finally {
      await stop();
    }
  });
});

describe('a link clock\'s replies', () => {
  it('are used only when they answer the outstanding probe with both timestamps', () => {
    let now = 1_000_000n;
    const sent: { to: string; message: SentControlMessage }[] = [];
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const clocks = new LinkClocks({ source: { now: () => now, bootId: 'here' }, probe: true, send: (to, message) => sent.push({ to, message }), log });
    try {
      clocks.linked('peer');
      const probe = sent[0]?.message;
      assert.ok(probe?.op === LINK_CLOCK_OPS.probe);
      const t1 = probe.data.t1;
      const reply = (data: Record<string, unknown>) => clocks.handle('peer', { kind: 'control', op: LINK_CLOCK_OPS.reply, data: data as never });
      now += 500n;
      assert.equal(reply({ t1: '42', t2: '5000000', t3: '5000010', boot: 'there' }), true, 'consumed');
      assert.equal(clocks.peerClock('peer'), null, 'an answer to another probe is not used');
      assert.equal(reply({ t1, t2: 'soon', boot: 'there' }), true);
      assert.equal(clocks.peerClock('peer'), null, 'nor one without its timestamps');
      assert.equal(warnings.length, 1);
      assert.equal(reply({ t1, t2: '5000200', t3: '5000210', boot: 'there' }), true);
      const estimate = clocks.peerClock('peer');
      // Sent at 1,000,000 and answered at 1,000,500, held 10 ns by the peer: offset 3,999,955 ± (490 + 1) / 2.
      assert.deepEqual(estimate, { sameClock: false, offsetNs: 3_999_955n, uncertaintyNs: 245.5, roundTripNs: 490, samples: 1 });

      assert.equal(clocks.handle('other', { kind: 'control', op: LINK_CLOCK_OPS.probe, data: { t1: '77', boot: 'there' } }), true);
      assert.deepEqual(sent.at(-1), { to: 'other', message: { kind: 'control', op: LINK_CLOCK_OPS.reply, data: { t1: '77', t2: String(now), t3: String(now), boot: 'here' } } });
      assert.equal(clocks.handle('other', { kind: 'control', op: 'world.subscribe', data: {} }), false, 'not a clock frame');
    } finally {
      clocks.stop();
    }
  });
});
