/**
 * docker-compose.yml's services as OS processes (compose:local): the default world with four
 * registered guests passes its checkers, every service started at once (as `docker stack deploy`
 * starts them, depends_on ignored); what a holder of the guest credential tries against a
 * running world (docs/threat-model.md) is refused, logged on both sides, and the legitimate
 * guests' run still passes every checker; a guest killed mid-run is reported (its VM destroyed,
 * its bitmaps freed at the SPMC) and the world carries on; a platform service killed mid-run ends
 * the run, its history on disk marked as stopping early; an orchestrator killed mid-run leaves
 * every history on disk; a service without its credentials, or with another role's, is refused
 * and says why. Every process listens on its own 127.7x.y.z address, on loopback only.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { readHistory } from '../shared/runtime/history.ts';
import { findHistories } from '../shared/runtime/history-files.ts';
import { printHistory } from './history.ts';
import { failuresApartFromSpeed } from '../services/orchestrator/scenario/test-support/verdict.ts';
import type { ScenarioResult } from '../services/orchestrator/scenario/types.ts';
import { newSecret } from '../shared/runtime/ws/credentials.ts';
import { serviceCredentials } from '../services/orchestrator/run/service-credentials.ts';
import { interpolate, LocalWorld } from './compose/local-world.ts';
import { claim, holdPreHelloSlots, idleGuest, readCredentialsFile } from './test-support/rogue.ts';

const ROOT = resolve(import.meta.dirname, '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
/** A world of guests (four unless told), always stopped when the test ends, however it ends. */
async function withLocalWorld(
  out: string,
  network: number,
  env: NodeJS.ProcessEnv,
  body: (world: LocalWorld) => Promise<void>,
  guests = 4,
  startOrder: 'depends_on' | 'all-at-once' = 'depends_on',
): Promise<void> {
  const world = new LocalWorld({ file: COMPOSE_FILE, scale: { guest: guests }, out, env: { ...process.env, FFA_LOG_LEVEL: 'info', ...env }, network, startOrder });
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
  it('runs the default world with four registered guests, every service started at once, and every checker holds', { timeout: 240_000 }, async () => {
    const out = mkdtempSync(join(work, 'local-'));
    let code = -1;
    // As on a swarm: no service waits for another to start (guests first, gic last, then the
    // orchestrator, before any is up); each waits for its peers itself, the orchestrator for four guests.
    await withLocalWorld(
      out,
      77,
      { FFA_SEED: '7', FFA_MIN_GUESTS: '4' },
      async (world) => {
        const verdict = world.run('orchestrator');
        // Another world's guest credential: the hypervisor's proof does not check out, so the guest sends nothing and stops.
        const foreign = join(out, 'foreign-guest.json');
        writeFileSync(foreign, JSON.stringify(serviceCredentials(newSecret(), 'guest')), { mode: 0o600 });
        const rogue = world.launchExtra('guest', 9, { FFA_CREDENTIALS: foreign });
        assert.equal(await rogue.exited, 1, 'a guest with another world\'s credential does not join');
        await world.waitForLog('guest', 9, /SERVER_UNPROVEN: .* did not prove it is hypervisor/, 10_000);
        await world.waitForLog('hypervisor', 1, /link refused by the peer during the handshake/, 10_000);
        code = await verdict;
      },
      4,
      'all-at-once',
    );
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
    // guest-leaves.yaml has no latency threshold, so the verdict is the checkers': 0, or 1 only for
    // a bit delivered past no-lost's liveness bound on a loaded machine (a speed figure, above).
    assert.equal(code, summary.passed ? 0 : 1, 'the orchestrator\'s exit code is the verdict');
  });
});

describe('compose:local: a holder of the guest credential attacks a running world', () => {
  it('is refused each time, on both sides\' logs; the rogue guests are left out of the run, named; the four guests pass every checker', { timeout: 300_000 }, async () => {
    const out = mkdtempSync(join(work, 'attack-'));
    let code = -1;
    const rogues: Awaited<ReturnType<typeof idleGuest>>[] = [];
    const held: { terminate(): void }[] = [];
    try {
      await withLocalWorld(out, 93, { FFA_SEED: '17', FFA_GUEST_ANSWER_MS: '5000' }, async (world) => {
        await world.waitStarted('guest');
        const guest = readCredentialsFile(world.credentialsOf('guest'));
        const [hypervisor, gic, spmd, guest1] = [world.urlOf('hypervisor'), world.urlOf('gic'), world.urlOf('spmd'), world.urlOf('guest', 1)];
        const from = '127.93.9.9';
        // Names taken, and platform identities claimed, with the guest credential only.
        const claims = {
          guest2AtHypervisor: await claim(hypervisor, 'hypervisor', 'guest-2', 'guest', guest, from),
          guest2AtGic: await claim(gic, 'gic', 'guest-2', 'guest', guest, from),
          spmdAsGuestAtHypervisor: await claim(hypervisor, 'hypervisor', 'spmd', 'guest', guest, from),
          spmdAtHypervisor: await claim(hypervisor, 'hypervisor', 'spmd', 'spmd', guest, from),
          gicAtHypervisor: await claim(hypervisor, 'hypervisor', 'gic', 'gic', guest, from),
          gicAtGic: await claim(gic, 'gic', 'gic', 'guest', guest, from),
          hypervisorAtSpmd: await claim(spmd, 'spmd', 'hypervisor', 'hypervisor', guest, from),
          orchestratorAtGuest1: await claim(guest1, 'guest-1', 'orchestrator', 'orchestrator', guest, from),
        };
        assert.match(claims.guest2AtHypervisor, /NO_CREDENTIAL: .*asks for this guest's own key/, `guest-2 is bound: only its own key opens it; got ${claims.guest2AtHypervisor}`);
        assert.match(claims.guest2AtGic, /NO_CREDENTIAL: .*asks for this guest's own key/);
        assert.match(claims.spmdAsGuestAtHypervisor, /HELLO_REFUSED: .*identity spmd: spmd is a platform component's name/);
        assert.match(claims.spmdAtHypervisor, /HELLO_REFUSED: .*only role guest links under a name not listed/);
        assert.match(claims.gicAtHypervisor, /HELLO_REFUSED: .*only role guest/);
        assert.match(claims.gicAtGic, /HELLO_REFUSED: .*identity gic: gic is this component's own name/);
        assert.match(claims.hypervisorAtSpmd, /NO_CREDENTIAL/);
        assert.match(claims.orchestratorAtGuest1, /NO_CREDENTIAL/, 'a guest credential cannot pass for the orchestrator at a guest');
        await world.waitForLog('hypervisor', 1, /spmd is a platform component's name.*"msg":"link refused"/, 10_000);
        await world.waitForLog('gic', 1, /gic is this component's own name.*"msg":"link refused"/, 10_000);
        // One address binds one guest name: a second enrollment is refused; the first registers a VM that never probes.
        rogues.push(await idleGuest('guest-idle', hypervisor, guest, from, null));
        assert.match(await claim(hypervisor, 'hypervisor', 'guest-idle-2', 'guest', guest, from), /HELLO_REFUSED: .*enrollment refused: 127\.93\.9\.9 bound 1 guest name/);
        // From another address, a guest that advertises a URL where nothing listens.
        rogues.push(await idleGuest('guest-dead', hypervisor, guest, '127.93.9.10', 'ws://127.93.9.10:9'));
        // One client's pre-hello sockets hold no more than its address's share of the hypervisor's slots.
        const flood = await holdPreHelloSlots(hypervisor, 64, '127.93.9.11');
        held.push(...flood.held);
        assert.ok(flood.busy >= 64 - 8, `${flood.busy} of 64 pre-hello sockets turned away (1013)`);
        await world.waitForLog('hypervisor', 1, /maxUnauthenticatedPerAddress/, 10_000);
        code = await world.run('orchestrator');
      });
    } finally {
      for (const socket of held) socket.terminate();
      await Promise.all(rogues.map((rogue) => rogue.stop('test over')));
    }
    const summary = summaryOf(out);
    assert.equal(summary.ended, 'done');
    assert.deepEqual(failuresApartFromSpeed(summary), [], 'every correctness checker held for the four guests');
    assert.ok(code === 0 || code === 1, `the orchestrator's exit code is a verdict: ${code}`);
    assert.match(String(summary.checks.find((c) => c.name === 'no-leak')?.detail), /4 guests/);
    const absent = summary.absent ?? [];
    assert.equal(absent.length, 2, JSON.stringify(absent));
    assert.ok(absent.some((a) => /^guest-idle \(ws:\/\/127\.93\.9\.9:\d+\): its driver did not finish probing/.test(a)), JSON.stringify(absent));
    assert.ok(absent.some((a) => /^guest-dead \(ws:\/\/127\.93\.9\.10:9\): no link or no history within 5000 ms/.test(a)), JSON.stringify(absent));
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
  const credentials = (role: Parameters<typeof serviceCredentials>[1]): string => {
    const file = join(work, `${role}-${process.hrtime.bigint()}.json`);
    writeFileSync(file, JSON.stringify(serviceCredentials(newSecret(), role)), { mode: 0o600 });
    return file;
  };

  it('a service without its credentials file is refused and says which', () => {
    const run = service({ FFA_ROLE: 'hypervisor' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /FFA_CREDENTIALS: \/run\/secrets\/ffa-hypervisor: cannot read \(no such file\): the keys of the hypervisor's own links/);
  });

  it('a credentials file made for another role is refused, naming what it lacks', () => {
    const run = service({ FFA_ROLE: 'hypervisor', FFA_CREDENTIALS: credentials('guest') });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /FFA_CREDENTIALS: no key for the orchestrator's link \("accept\.orchestrator"\): is this the hypervisor's credentials file\?/);
    assert.match(run.stderr, /an enrollment credential of its own \("enrolling"\): only a guest enrolls/);
  });

  it('an unknown role, a bad address and a bad scenario are refused', () => {
    assert.match(service({ FFA_ROLE: 'el2' }).stderr, /FFA_ROLE="el2" must be one of gic, spmd, spmc, hypervisor, guest, orchestrator/);
    const bad = service({ FFA_ROLE: 'gic', FFA_CREDENTIALS: credentials('gic'), FFA_SPMD: 'spmd', FFA_SCENARIO: 'scenarios/nope.yaml' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /FFA_SPMD="spmd" must be host:port/);
    assert.match(bad.stderr, /FFA_SCENARIO: scenarios\/nope.yaml:1:1: cannot read the scenario file \(no such file\)/);
  });

  it('a guest\'s FFA_HOST_LABEL that is not a host\'s name is refused, in one line', () => {
    const bad = service({ FFA_ROLE: 'guest', FFA_CREDENTIALS: credentials('guest'), FFA_HOST_LABEL: 'node a/b' });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /^ {2}- FFA_HOST_LABEL="node a\/b" must be a host's name \(letters, digits, \. _ -; at most 63\)$/m);
  });

  it('FFA_HOSTS that is not an object, a port past 65535, and a scenario that never ends are refused, each in one line', () => {
    const bad = service({ FFA_ROLE: 'gic', FFA_CREDENTIALS: credentials('gic'), FFA_HOSTS: 'null', FFA_SPMD: 'spmd:70000', FFA_PORT: '65536', FFA_SCENARIO: '/dev/zero' });
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
