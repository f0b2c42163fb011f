import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import type { HistoryEntry } from '../history.ts';
import { MemoryHistorySink } from '../history.ts';
import { runSimWorld } from '../sim/run-world.ts';
import { testWorldSpec } from '../test-world/index.ts';
import { startWsWorld } from './supervisor.ts';
import type { WsWorld } from './ws-world.ts';
import type { RecordEvent } from '../../../shared/protocol/records.ts';

const VCPUS = 2;
const CALLS_PER_VCPU = 20;

function records(sink: MemoryHistorySink, event: RecordEvent): Record<string, unknown>[] {
  return sink.entries
    .map((e: HistoryEntry) => e.event)
    .filter((e) => e.type === 'record' && e.data['event'] === event)
    .map((e) => (e.type === 'record' ? e.data : {}));
}

const worlds: WsWorld[] = [];
after(async () => {
  await Promise.all(worlds.map((w) => w.stop(2_000)));
});

describe('ws runtime: the test world, one worker per component', () => {
  it('echoes every call bit-identically and stops cleanly', async () => {
    const sink = new MemoryHistorySink();
    const world = startWsWorld(testWorldSpec({ seed: 1, vcpus: VCPUS, callsPerVcpu: CALLS_PER_VCPU }), {
      history: sink,
      workerLogLevel: 'silent',
    });
    worlds.push(world);
    await world.ready;
    // The echo worker posts its history on its own: its last records may arrive after the caller's done.
    const outcome = await world.waitFor(() => records(sink, 'caller-done').length === VCPUS && records(sink, 'echo').length === VCPUS * CALLS_PER_VCPU, 30_000);
    assert.equal(outcome, 'met');
    const returns = records(sink, 'caller-return');
    assert.equal(returns.length, VCPUS * CALLS_PER_VCPU);
    assert.ok(returns.every((r) => r['ok'] === true && r['echoed'] === true), 'a call was not echoed bit-identically');
    assert.equal(records(sink, 'echo').length, VCPUS * CALLS_PER_VCPU);

    const report = await world.stop();
    // Each call and each return is one frame, counted once by its sender's link and once by its receiver's.
    const frames = 2 * VCPUS * CALLS_PER_VCPU;
    assert.deepEqual(report, { ok: true, crashed: [], terminated: [], frames: { sent: frames, received: frames } });
    const lifecycle = sink.entries.flatMap((e) => (e.event.type === 'component' ? [`${e.event.component}:${e.event.event}`] : []));
    assert.deepEqual(lifecycle.filter((l) => l.endsWith(':start')).sort(), ['caller:start', 'echo:start']);
    assert.deepEqual(lifecycle.filter((l) => l.endsWith(':stop')).sort(), ['caller:stop', 'echo:stop']);
    assert.deepEqual(
      sink.entries.map((e) => e.seq),
      sink.entries.map((_, i) => i),
      'seq numbers are assigned in arrival order without gaps',
    );
  });
});

describe('ws runtime: faults', () => {
  it('a dropped call times out at the caller, and the history shows the fault', async () => {
    const sink = new MemoryHistorySink();
    const world = startWsWorld(testWorldSpec({ seed: 2, vcpus: 1, callsPerVcpu: 3 }), {
      history: sink,
      workerLogLevel: 'silent',
      faults: [{ id: 'drop-first-call', match: { kind: 'call', from: 'caller', to: 'echo' }, then: { action: 'drop' }, count: 1 }],
      hostLimits: { callTimeoutNs: 400_000_000 },
    });
    worlds.push(world);
    await world.ready;
    assert.equal(await world.waitFor(() => records(sink, 'caller-done').length === 1, 30_000), 'met');
    await world.stop();

    const faults = sink.entries.flatMap((e) => (e.event.type === 'fault' ? [e.event] : []));
    assert.equal(faults.length, 1);
    const [fault] = faults;
    assert.ok(fault && fault.rule === 'drop-first-call' && fault.action === 'drop' && fault.message.kind === 'call');
    const droppedId = fault.message.kind === 'call' ? fault.message.id : -1;
    const failed = sink.entries.flatMap((e) => (e.event.type === 'call-failed' ? [e.event] : []));
    assert.ok(failed.some((f) => f.component === 'caller' && f.id === droppedId && f.reason === 'timeout'));
    const first = records(sink, 'caller-return').find((r) => r['n'] === 0);
    assert.deepEqual(first && [first['ok'], first['echoed']], [false, false]);
    assert.ok(!sink.entries.some((e) => e.event.type === 'deliver' && e.event.to === 'echo' && e.event.message.kind === 'call' && e.event.message.id === droppedId));
  });

  it('a delayed call is held back, then delivered and echoed', async () => {
    const sink = new MemoryHistorySink();
    const world = startWsWorld(testWorldSpec({ seed: 3, vcpus: 1, callsPerVcpu: 2 }), {
      history: sink,
      workerLogLevel: 'silent',
      faults: [{ id: 'delay-one', match: { kind: 'call' }, then: { action: 'delay', byNs: 20_000_000 }, count: 1 }],
    });
    worlds.push(world);
    await world.ready;
    assert.equal(await world.waitFor(() => records(sink, 'caller-done').length === 1, 30_000), 'met');
    await world.stop();
    assert.equal(sink.entries.filter((e) => e.event.type === 'fault' && e.event.action === 'delay').length, 1);
    assert.ok(records(sink, 'caller-return').every((r) => r['ok'] === true && r['echoed'] === true));
  });
});

describe('ws runtime: a component that throws', () => {
  const crasherWorld = (when: 'start' | 'timer') => ({
    seed: 4,
    components: [{ name: 'crasher', role: 'test' as const, module: 'shared/runtime/ws/test-support/crasher.ts', config: { when } }],
    links: [],
  });

  it('crashes its worker loudly: the crash is recorded, nothing posted before it is lost, the run fails', async () => {
    const sink = new MemoryHistorySink();
    const world = startWsWorld(crasherWorld('timer'), { history: sink, workerLogLevel: 'silent' });
    worlds.push(world);
    await world.ready;
    assert.equal(await world.waitFor(() => false, 20_000), 'crashed');
    const report = await world.stop();
    assert.deepEqual(report, { ok: false, crashed: ['crasher'], terminated: [], frames: { sent: 0, received: 0 } });
    assert.equal(world.failed, true);
    const crash = sink.entries.find((e) => e.event.type === 'component' && e.event.event === 'crash');
    assert.ok(crash && crash.event.type === 'component' && /deliberate bug/.test(crash.event.detail));
    // Bundle (its source map) or tsx: either way the stack names the TypeScript source.
    assert.match(crash.event.detail, /\n\s+at crash \(.*shared\/runtime\/ws\/test-support\/crasher\.ts:\d+:\d+\)/);
    const recorded = sink.entries.findIndex((e) => e.event.type === 'record' && e.event.data['event'] === 'about-to-crash');
    assert.ok(recorded >= 0 && recorded < sink.entries.indexOf(crash), 'the event recorded before the throw is in the history');
  });

  it('a throw in onStart fails ready instead of hanging', async () => {
    const sink = new MemoryHistorySink();
    const world = startWsWorld(crasherWorld('start'), { history: sink, workerLogLevel: 'silent' });
    worlds.push(world);
    await assert.rejects(world.ready, /STARTUP_FAILED: crasher crashed/);
    const report = await world.stop();
    assert.deepEqual(report.crashed, ['crasher']);
  });

  it('a module that does not exist fails ready with the reason', async () => {
    const world = startWsWorld(
      { seed: 5, components: [{ name: 'ghost', role: 'test', module: 'shared/runtime/ws/test-support/missing.ts', config: {} }], links: [] },
      { history: new MemoryHistorySink(), workerLogLevel: 'silent' },
    );
    worlds.push(world);
    await assert.rejects(world.ready, /STARTUP_FAILED: ghost/);
    const report = await world.stop(2_000);
    assert.deepEqual(report.crashed, []);
  });
});

describe('ws runtime: how workers load their code', () => {
  it('bundle: false loads the TypeScript sources through tsx, and a crash still names them', async () => {
    const sink = new MemoryHistorySink();
    const world = startWsWorld(
      { seed: 8, components: [{ name: 'crasher', role: 'test', module: 'shared/runtime/ws/test-support/crasher.ts', config: { when: 'start' } }], links: [] },
      { history: sink, workerLogLevel: 'silent', bundle: false },
    );
    worlds.push(world);
    await assert.rejects(world.ready, /STARTUP_FAILED: crasher crashed/);
    await world.stop();
    const crash = sink.entries.find((e) => e.event.type === 'component' && e.event.event === 'crash');
    assert.ok(crash && crash.event.type === 'component');
    assert.match(crash.event.detail, /\n\s+at crash \(.*shared\/runtime\/ws\/test-support\/crasher\.ts:\d+:\d+\)/);
  });

  it('a world stopped while its bundle is built ends its workers and runs nothing', async () => {
    const sink = new MemoryHistorySink();
    const world = startWsWorld(testWorldSpec({ seed: 10, vcpus: 1, callsPerVcpu: 1 }), { history: sink, workerLogLevel: 'silent' });
    worlds.push(world);
    const report = await world.stop();
    assert.deepEqual(report, { ok: true, crashed: [], terminated: [], frames: { sent: 0, received: 0 } });
    await assert.rejects(world.ready, /STARTUP_FAILED: the world was stopped/);
    assert.deepEqual(sink.entries, []);
  });

  it('falls back to tsx, with a warning that says why, when the bundle cannot be built', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const sink = new MemoryHistorySink();
    const world = startWsWorld(
      { seed: 9, components: [{ name: 'odd', role: 'test', module: 'shared/runtime/ws/test-support/unbundlable.ts', config: { loadMissing: false } }], links: [] },
      { history: sink, workerLogLevel: 'silent', log, bundle: true },
    );
    worlds.push(world);
    await world.ready;
    assert.equal(await world.waitFor(() => records(sink, 'unbundlable-started').length === 1, 20_000), 'met');
    assert.deepEqual(await world.stop(), { ok: true, crashed: [], terminated: [], frames: { sent: 0, received: 0 } });
    const warnings = lines.map((l) => JSON.parse(l) as { msg: string; reason?: string });
    const warning = warnings.find((w) => /could not build the worker bundle/.test(w.msg));
    assert.ok(warning, `no fallback warning in ${JSON.stringify(warnings)}`);
    assert.match(warning.reason ?? '', /missing-on-purpose\.ts/);
  });
});

describe('ws runtime: random streams', () => {
  it('gives each component the same stream as the sim runtime does', async () => {
    const spec = {
      seed: 77,
      components: ['b', 'a', 'c'].map((name) => ({
        name,
        role: 'test' as const,
        module: 'shared/runtime/ws/test-support/random-reporter.ts',
        config: {},
      })),
      links: [['a', 'b'] as [string, string]],
    };
    const draws = (sink: MemoryHistorySink): Record<string, unknown> =>
      Object.fromEntries(
        sink.entries.flatMap((e) => (e.event.type === 'record' && e.event.data['event'] === 'draws' ? [[e.event.component, e.event.data['values']]] : [])),
      );
    const simSink = new MemoryHistorySink();
    await runSimWorld(spec, { history: simSink });
    const wsSink = new MemoryHistorySink();
    const world = startWsWorld(spec, { history: wsSink, workerLogLevel: 'silent' });
    worlds.push(world);
    await world.ready;
    assert.equal(await world.waitFor(() => Object.keys(draws(wsSink)).length === 3, 20_000), 'met');
    await world.stop();
    assert.deepEqual(draws(wsSink), draws(simSink));
  });
});

describe('ws runtime: bad worlds', () => {
  it('refuses a spec with unknown or duplicate links before starting anything', () => {
    const spec = testWorldSpec({ seed: 6, vcpus: 1, callsPerVcpu: 1 });
    const options = { history: new MemoryHistorySink(), workerLogLevel: 'silent' as const };
    assert.throws(() => startWsWorld({ ...spec, links: [['caller', 'nobody']] }, options), /BAD_WORLD/);
    assert.throws(() => startWsWorld({ ...spec, links: [['caller', 'echo'], ['echo', 'caller']] }, options), /BAD_WORLD/);
    assert.throws(() => startWsWorld({ ...spec, components: [...spec.components, ...spec.components] }, options), /BAD_WORLD/);
  });
});
