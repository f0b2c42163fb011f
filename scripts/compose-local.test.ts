/**
 * docker-compose.yml's services as OS processes (compose:local): the default world with four
 * registered guests passes its checkers; a guest killed mid-run is reported (its VM destroyed,
 * its bitmaps freed at the SPMC) and the world carries on; a platform service killed mid-run
 * ends the run, its history on disk marked as stopping early; an orchestrator killed mid-run
 * leaves every history on disk; a service without its token, or with a wrong one, is refused and
 * says why. Every process listens on its own 127.77.x.y address (127.78.x.y and on for the kill
 * tests), on loopback only.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { readHistory } from '../shared/runtime/history.ts';
import { findHistories } from '../shared/runtime/history-files.ts';
import { printHistory } from './history.ts';
import { failuresApartFromSpeed } from '../services/orchestrator/scenario/test-support/verdict.ts';
import type { ScenarioResult } from '../services/orchestrator/scenario/types.ts';
import { interpolate, LocalWorld } from './compose/local-world.ts';

const ROOT = resolve(import.meta.dirname, '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
/** A world of guests (four unless told), always stopped when the test ends, however it ends. */
async function withLocalWorld(out: string, network: number, env: NodeJS.ProcessEnv, body: (world: LocalWorld) => Promise<void>, guests = 4): Promise<void> {
  const world = new LocalWorld({ file: COMPOSE_FILE, scale: { guest: guests }, out, env: { ...process.env, FFA_LOG_LEVEL: 'info', ...env }, network });
  try {
    await world.startServices(['orchestrator']);
    await body(world);
  } finally {
    await world.stop();
  }
}

type Summary = ScenarioResult;

/** Every run's output folder goes in here, removed after the file's tests. */
const work = mkdtempSync(join(tmpdir(), 'ffa-compose-local-'));
after(() => rmSync(work, { recursive: true, force: true }));

const summaryOf = (out: string): Summary => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;

describe('compose:local', () => {
  it('runs the default world with four registered guests, and every checker holds', { timeout: 240_000 }, async () => {
    const out = mkdtempSync(join(work, 'local-'));
    let code = -1;
    await withLocalWorld(out, 77, { FFA_SEED: '7' }, async (world) => {
      const rogue = world.launchExtra('guest', 9, { FFA_TOKEN_GUEST: 'not-the-guest-token-0123456789' });
      assert.equal(await rogue.exited, 1, 'a guest with a wrong token does not join');
      await world.waitForLog('guest', 9, /refused the hello: HELLO_REFUSED: identity guest-9: not accepted, or wrong token/, 10_000);
      code = await world.run('orchestrator');
    });
    const summary = summaryOf(out);
    assert.equal(summary.ended, 'done');
    assert.deepEqual(failuresApartFromSpeed(summary), [], 'every correctness checker held');
    assert.ok(code === 0 || code === 1, `the orchestrator's exit code is a verdict: ${code}`);
    assert.equal(code === 0, summary.passed);
    const leak = summary.checks.find((c) => c.name === 'no-leak');
    assert.match(String(leak?.detail), /4 guests/);
    const registered = readHistory(join(out, 'history.jsonl')).filter((e) => e.event.type === 'record' && e.event.data['event'] === 'guest-registered' && e.event.component === 'hypervisor');
    assert.equal(registered.length, 4, 'each guest registered with the hypervisor');
  });

  it('reports a guest killed mid-run (VM destroyed, bitmaps freed) and the world carries on', { timeout: 240_000 }, async () => {
    const out = mkdtempSync(join(work, 'kill-'));
    let code = -1;
    await withLocalWorld(out, 78, { FFA_SCENARIO: 'scenarios/compose/guest-leaves.yaml', FFA_SEED: '11' }, async (world) => {
      const verdict = world.run('orchestrator');
      await world.waitForLog('orchestrator', 1, /attached: the scenario starts/, 120_000);
      await new Promise((r) => setTimeout(r, 1_000));
      const victim = world.containers.find((c) => c.service === 'guest' && c.replica === 2);
      assert.ok(victim);
      victim.process.kill('SIGKILL');
      code = await verdict;
    });
    const history = readHistory(join(out, 'history.jsonl'));
    const records = (component: string, event: string) => history.filter((e) => e.event.type === 'record' && e.event.component === component && e.event.data['event'] === event);
    const lost = records('hypervisor', 'guest-link-lost');
    assert.equal(lost.length, 1, 'the hypervisor saw the guest go');
    assert.equal(lost[0]?.event.type === 'record' && lost[0].event.data['component'], 'guest-2');
    const destroyed = records('hypervisor', 'vm-destroyed');
    assert.equal(destroyed.length, 1, 'its VM was destroyed');
    const freed = history.filter((e) => e.event.type === 'record' && e.event.component === 'hypervisor' && e.event.data['abi'] === 'FFA_NOTIFICATION_BITMAP_DESTROY');
    assert.equal(freed.length, 1, 'BITMAP_DESTROY was called at the SPMC');
    const killedAt = lost[0]?.t ?? 0;
    for (const survivor of ['guest-1', 'guest-3', 'guest-4']) {
      assert.ok(records(survivor, 'notification-callback').some((e) => e.t > killedAt), `${survivor} still took notifications after the kill`);
    }
    const summary = summaryOf(out);
    assert.equal(summary.ended, 'done', 'the run reached its end');
    assert.equal(summary.departures?.length, 1, 'the result reports the guest that went away');
    // BITMAP_DESTROY is answered DENIED while a bit is still bound (OP-TEE), and the line says so.
    assert.match(String(summary.departures?.[0]), /^guest-2 went away \(link lost\): VM \d+ destroyed, its bitmaps (freed at the SPMC \(BITMAP_DESTROY succeeded\)|NOT freed at the SPMC \(BITMAP_DESTROY answered \w+)/);
    assert.deepEqual(failuresApartFromSpeed(summary), [], 'no checker failed: the killed guest\'s notifications went with its VM');
    assert.equal(code, 0, 'guest-leaves.yaml has no latency threshold: the verdict is the checkers\'');
  });
});

describe('compose:local: the platform goes away', () => {
  it('ends the attached run at once, saying which link dropped, when a platform service dies', { timeout: 240_000 }, async () => {
    const out = mkdtempSync(join(work, 'spmd-'));
    let code = -1;
    await withLocalWorld(
      out,
      79,
      { FFA_SCENARIO: 'scenarios/compose/guest-leaves.yaml', FFA_SEED: '13' },
      async (world) => {
        const verdict = world.run('orchestrator');
        await world.waitForLog('orchestrator', 1, /attached: the scenario starts/, 120_000);
        world.containers.find((c) => c.service === 'spmd')?.process.kill('SIGKILL');
        code = await verdict;
      },
      1,
    );
    assert.equal(code, 1);
    const summary = summaryOf(out);
    assert.match(summary.ended, /^world-lost: the link to spmd dropped/);
    // Its own history is on disk without its end, and the merged one says where it stops.
    const spmd = findHistories(join(out, 'histories')).filter((h) => h.meta?.component === 'spmd');
    assert.equal(spmd.length, 1, 'spmd wrote its history as it ran');
    assert.equal(spmd[0]?.meta?.complete, false, 'killed outright: no end written');
    const cut = readHistory(join(out, 'history.jsonl')).filter((e) => e.event.type === 'component' && e.event.event === 'tail-missing');
    assert.deepEqual(cut.map((e) => e.event.type === 'component' && e.event.component), ['spmd']);
    assert.deepEqual(summary.missingTails?.map((t) => t.split("'")[0]), ['spmd'], String(summary.missingTails));
    assert.match(String(summary.missingTails?.[0]), /^spmd's history stops at [\d.]+ ms: its history file has no end: its process was killed before it wrote it$/);
  });

  it('leaves every history on disk when the orchestrator is killed mid-run, for ffa-world history to read', { timeout: 240_000 }, async () => {
    const out = mkdtempSync(join(work, 'orchestrator-'));
    await withLocalWorld(
      out,
      80,
      { FFA_SCENARIO: 'scenarios/compose/guest-leaves.yaml', FFA_SEED: '17' },
      async (world) => {
        const verdict = world.run('orchestrator');
        await world.waitForLog('orchestrator', 1, /attached: the scenario starts/, 120_000);
        await new Promise((r) => setTimeout(r, 1_000));
        world.containers.find((c) => c.service === 'orchestrator')?.process.kill('SIGKILL');
        await verdict;
      },
      1,
    );
    const histories = findHistories(join(out, 'histories'));
    assert.deepEqual(histories.map((h) => h.meta?.component).sort(), ['gic', 'guest-1', 'hypervisor', 'orchestrator', 'spmc', 'spmd']);
    // The world was stopped as it should be: every service wrote its end; the orchestrator could not.
    assert.deepEqual(histories.filter((h) => h.meta?.complete !== true).map((h) => h.meta?.component), ['orchestrator']);
    const lines: string[] = [];
    await printHistory(join(out, 'histories'), {}, (line) => lines.push(line));
    const events = lines.map((line) => JSON.parse(line) as { event: { type: string; component?: string; from?: string; event?: string } });
    const components = new Set(events.flatMap(({ event }) => [event.component ?? event.from ?? '']));
    for (const name of ['gic', 'spmc', 'spmd', 'hypervisor', 'guest-1', 'orchestrator']) assert.ok(components.has(name), `${name}'s events are in the merged histories`);
    assert.deepEqual(events.filter(({ event }) => event.event === 'tail-missing').map(({ event }) => event.component), ['orchestrator']);
    assert.ok(events.some(({ event }) => event.type === 'record' && event.component === 'orchestrator'), 'the orchestrator wrote its own records before it was killed');
  });
});

describe('services refuse a bad start', () => {
  const service = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'service.ts')], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', FFA_STATUS_FILE: join(tmpdir(), `ffa-status-${process.pid}.json`), ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('a service without its token is refused and says which variable is missing', () => {
    const run = service({ FFA_ROLE: 'hypervisor', FFA_TOKEN_SPMD: 'x'.repeat(32) });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /FFA_TOKEN_HYPERVISOR is not set: the hypervisor's own token/);
    assert.match(run.stderr, /FFA_TOKEN_GUEST is not set: the token guests present when they link to the hypervisor/);
    assert.match(run.stderr, /FFA_TOKEN_ORCHESTRATOR is not set/);
  });

  it('an unknown role, a bad address and a bad scenario are refused', () => {
    assert.match(service({ FFA_ROLE: 'el2' }).stderr, /FFA_ROLE="el2" must be one of gic, spmd, spmc, hypervisor, guest, orchestrator/);
    const tokens = { FFA_TOKEN_GIC: 'g'.repeat(32), FFA_TOKEN_SPMC: 's'.repeat(32), FFA_TOKEN_HYPERVISOR: 'h'.repeat(32), FFA_TOKEN_GUEST: 'u'.repeat(32), FFA_TOKEN_ORCHESTRATOR: 'o'.repeat(32) };
    const bad = service({ FFA_ROLE: 'gic', ...tokens, FFA_SPMD: 'spmd', FFA_SCENARIO: 'scenarios/nope.yaml' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /FFA_SPMD="spmd" must be host:port/);
    assert.match(bad.stderr, /FFA_SCENARIO: scenarios\/nope.yaml:1:1: cannot read the scenario file \(no such file\)/);
  });

  it('FFA_HOSTS that is not an object, a port past 65535, and a scenario that never ends are refused, each in one line', () => {
    const tokens = { FFA_TOKEN_GIC: 'g'.repeat(32), FFA_TOKEN_SPMC: 's'.repeat(32), FFA_TOKEN_HYPERVISOR: 'h'.repeat(32), FFA_TOKEN_GUEST: 'u'.repeat(32), FFA_TOKEN_ORCHESTRATOR: 'o'.repeat(32) };
    const bad = service({ FFA_ROLE: 'gic', ...tokens, FFA_HOSTS: 'null', FFA_SPMD: 'spmd:70000', FFA_PORT: '65536', FFA_SCENARIO: '/dev/zero' });
    assert.equal(bad.status, 2, bad.stderr);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
    assert.match(bad.stderr, /^ {2}- FFA_HOSTS must be a JSON object \{"name": "address"\}/m);
    assert.match(bad.stderr, /^ {2}- FFA_SPMD="spmd:70000" must be host:port \(port 1\.\.65535\)$/m);
    assert.match(bad.stderr, /^ {2}- FFA_PORT="65536" must be an integer in 0\.\.65535$/m);
    assert.match(bad.stderr, /^ {2}- FFA_SCENARIO: \/dev\/zero:1:1: the file is larger than 4 MiB/m);
  });
});

describe('compose interpolation', () => {
  it('follows compose: defaults, required values and $$', () => {
    const env = { SET: 'a', EMPTY: '' };
    assert.equal(interpolate('${SET}-${UNSET:-d}-${EMPTY:-e}-${EMPTY-f}-$$x', env), 'a-d-e--$x');
    assert.throws(() => interpolate('${UNSET:?set it}', env), /UNSET is required: set it/);
  });
});
