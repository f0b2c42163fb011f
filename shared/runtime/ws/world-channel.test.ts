import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { encodeFrame } from '../../wire/codec.ts';
import type { ComponentHost } from '../component-host.ts';
import type { HistoryEvent } from '../history.ts';
import type { FaultRule } from '../interceptor.ts';
import type { ControlMessage } from '../../protocol/messages.ts';
import { decodeJson, encodeJson, TEXT_PART_CHARS, WORLD_OPS, WorldChannelServer } from './world-channel.ts';
import { WorldChannelClient } from './world-client.ts';

const log = pino({ level: 'silent' });
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
/** Waits (bounded) until `done` holds: flushes run on a timer. */
async function until(done: () => boolean, ms = 2_000): Promise<void> {
  for (let waited = 0; !done() && waited < ms; waited += 5) await tick();
}
/** A record event's data field. */
const dataOf = (event: HistoryEvent | undefined): Record<string, unknown> => (event?.type === 'record' ? event.data : {});

function record(component: string, i: number, extra = ''): HistoryEvent {
  return { type: 'record', component, data: { event: 'driver-log', i, extra } };
}

/** A fake host: the ops the channel may apply to a component. */
function fakeHost(): ComponentHost & { ops: string[] } {
  const ops: string[] = [];
  return { ops, crash: (d: string) => ops.push(`crash ${d}`), restart: (d: string) => ops.push(`restart ${d}`), stall: () => ops.push('stall'), resume: () => ops.push('resume') } as unknown as ComponentHost & { ops: string[] };
}

/** A server and a client joined by a pretend link (every frame is checked against the wire codec's bounds). */
function channel(options: { backlog?: { lines: number; chars: number }; refuseEvery?: number; baseNs?: bigint } = {}) {
  const host = fakeHost();
  const faults: { install: readonly FaultRule[]; remove: readonly string[] }[] = [];
  const events: { t: number; event: HistoryEvent }[] = [];
  let sends = 0;
  const client: WorldChannelClient = new WorldChannelClient({
    send: (_to, message) => queueMicrotask(() => server.handle('orchestrator', 'orchestrator', message)),
    changeOwnFaults: () => {},
    onEvent: (_peer, t, event) => events.push({ t, event }),
    log,
  });
  const server = new WorldChannelServer({
    name: 'spmc',
    baseNs: options.baseNs ?? 1_000n,
    host,
    send: (_to, message: ControlMessage) => {
      sends++;
      if (options.refuseEvery && sends % options.refuseEvery === 0) return 'queue-full';
      encodeFrame(message); // throws past the codec's bounds
      assert.ok(encodeFrame(message).length <= 64 * 1024, 'a frame fits maxPayload');
      queueMicrotask(() => client.handle('spmc', message));
      return undefined;
    },
    changeFaults: (install, remove) => faults.push({ install, remove }),
    log,
    ...(options.backlog ? { backlog: options.backlog } : {}),
  });
  return { server, client, host, faults, events };
}

describe('world channel: text and JSON payloads', () => {
  it('cuts text into parts the wire accepts and keeps bigints exact', () => {
    const rules = [{ id: 'r', match: { fid: 0xffff_ffff_ffff_ffffn, kind: 'call' }, then: { action: 'drop' } }];
    const parts = encodeJson(rules);
    assert.ok(parts.every((p) => p.length <= TEXT_PART_CHARS));
    assert.deepEqual(decodeJson(parts), rules);
    const long = encodeJson({ text: 'x'.repeat(10_000) });
    assert.equal(long.length, 3);
    assert.throws(() => decodeJson([1]), /strings/);
  });
});

describe('world channel: history streams', () => {
  it('sends the backlog then each new event, on the world base', async () => {
    const { server, client, events } = channel({ baseNs: 5_000n });
    for (let i = 0; i < 3; i++) server.record(100 * i, record('spmc', i));
    const bases = await client.subscribe(['spmc'], 1_000);
    assert.equal(bases.get('spmc'), 5_000n);
    client.setWorldBase(4_000n);
    assert.equal(await client.caughtUp(2_000), true, 'the three lines held at subscription arrive');
    assert.equal(events.length, 3);
    server.record(300, record('spmc', 3));
    await until(() => events.length === 4);
    assert.deepEqual(
      events.map((e) => [e.t, dataOf(e.event)['i']]),
      [
        [1_000, 0],
        [1_100, 1],
        [1_200, 2],
        [1_300, 3],
      ],
    );
  });

  it('joins a line longer than a frame from its slices, and bulk backlogs across frames', async () => {
    const { server, client, events } = channel();
    server.record(1, record('spmc', 0, 'é'.repeat(100_000)));
    for (let i = 1; i <= 2_000; i++) server.record(i, record('spmc', i, 'y'.repeat(200)));
    await client.subscribe(['spmc'], 1_000);
    client.setWorldBase(1_000n);
    await until(() => events.length >= 2_001);
    assert.equal(events.length, 2_001);
    assert.equal(String(dataOf(events[0]?.event)['extra']).length, 100_000);
  });

  it('waits when the link pushes back and loses nothing', async () => {
    const { server, client, events } = channel({ refuseEvery: 3 });
    for (let i = 0; i < 1_000; i++) server.record(i, record('spmc', i, 'z'.repeat(400)));
    await client.subscribe(['spmc'], 1_000);
    client.setWorldBase(1_000n);
    await until(() => events.length >= 1_000);
    assert.deepEqual(
      events.map((e) => dataOf(e.event)['i']),
      Array.from({ length: 1_000 }, (_, i) => i),
    );
    assert.deepEqual(client.lostLines(), {});
  });

  it('counts what the backlog bound dropped instead of hiding it', async () => {
    const { server, client, events } = channel({ backlog: { lines: 10, chars: 1 << 20 } });
    for (let i = 0; i < 25; i++) server.record(i, record('spmc', i));
    await client.subscribe(['spmc'], 1_000);
    client.setWorldBase(1_000n);
    await until(() => events.length >= 10);
    await tick();
    assert.equal(events.length, 10);
    assert.deepEqual(client.lostLines(), { spmc: 15 });
  });

  it('times out a subscription nobody answers', async () => {
    const client = new WorldChannelClient({ send: () => {}, changeOwnFaults: () => {}, onEvent: () => {}, log });
    await assert.rejects(client.subscribe(['gic'], 20), /no world.clock answer from gic/);
  });
});

describe('world channel: the experimenter over links', () => {
  it('installs faults and runs component ops, each acknowledged', async () => {
    const { server, client, host, faults } = channel();
    await client.subscribe(['spmc'], 1_000);
    const world = client.control();
    const rule: FaultRule = { id: 'drop-sri', match: { kind: 'irq', fid: 0x8400_0060n } as FaultRule['match'], then: { action: 'drop' } as FaultRule['then'] };
    await new Promise<void>((done) => world.installFaults([rule], done));
    assert.equal(faults.length, 1);
    assert.equal((faults[0]?.install[0]?.match as { fid: bigint }).fid, 0x8400_0060n);
    await new Promise<void>((done) => world.removeFaults(['drop-sri'], done));
    assert.deepEqual(faults[1]?.remove, ['drop-sri']);
    await new Promise<void>((done) => world.crash('spmc', 'fault crash', done));
    await new Promise<void>((done) => world.stall('spmc', done));
    assert.deepEqual(host.ops, ['crash fault crash', 'stall']);
    server.stop();
  });

  it('refuses world ops from a peer that is not an orchestrator', () => {
    const { server, host } = channel();
    const sent: ControlMessage[] = [];
    const lone = new WorldChannelServer({ name: 'gic', baseNs: 0n, host, send: (_to, m) => void sent.push(m), changeFaults: () => assert.fail('must not apply'), log });
    lone.handle('guest-1', 'guest', { kind: 'control', op: WORLD_OPS.component, data: { ref: 7, op: 'crash', detail: '' } });
    assert.deepEqual(sent[0]?.data, { ref: 7, ok: false, reason: 'world.component refused: guest-1 is not an orchestrator' });
    assert.deepEqual(host.ops, []);
    server.stop();
  });

  it('answers a bad op or bad rules with a refusal, not a crash', () => {
    const sent: ControlMessage[] = [];
    const lone = new WorldChannelServer({ name: 'gic', baseNs: 0n, host: fakeHost(), send: (_to, m) => void sent.push(m), changeFaults: () => {}, log });
    lone.handle('orchestrator', 'orchestrator', { kind: 'control', op: 'world.nonsense', data: { ref: 1 } });
    lone.handle('orchestrator', 'orchestrator', { kind: 'control', op: WORLD_OPS.faults, data: { ref: 2, rules: ['{not json'], remove: [] } });
    lone.handle('orchestrator', 'orchestrator', { kind: 'control', op: WORLD_OPS.component, data: { ref: 3, op: 'explode' } });
    assert.deepEqual(
      sent.map((m) => (m.data as { ok: boolean }).ok),
      [false, false, false],
    );
    assert.match(String((sent[1]?.data as { reason: string }).reason), /bad fault rules/);
  });
});
