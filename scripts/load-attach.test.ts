/**
 * `ffa-world load --attach` as a user runs it, against a world of services already running as OS
 * processes (compose:local's LocalWorld, every process on its own 127.86.x.y address, loopback
 * only). Two guests listen and register at two addresses, 127.86.5.1 and 127.86.5.2, which stand
 * for two hosts; a third says which host it runs on (FFA_HOST_LABEL), as a swarm node's guest
 * would. Their clocks and the SPMC's read as other machines' would (FFA_TEST_CLOCK_SKEW_NS), so
 * every figure carries a clock bound. The load passes its checks, each host's figures add up to
 * the world's, and the clock bounds are reported beside the figures. A
 * second load on the same world is refused its figures (the first one's history is in the
 * components' backlog); no credentials, or a world that is not there, is one line and exit 2; a
 * platform service that dies during the load ends it at once, exit 1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeWorldCredentials } from './compose/credentials.ts';
import { LocalWorld } from './compose/local-world.ts';
import type { AttachedLoadResult } from './load-attach.ts';
import { FFA_WORLD_BIN, workFolder } from './test-support/cli.ts';

const COMPOSE_FILE = join(resolve(import.meta.dirname, '..'), 'docker-compose.yml');
const NETWORK = 86;
const { dir: work } = workFolder('ffa-load-attach-');
/** Other machines' clocks, booted days earlier (compose-local-clocks.test.ts): estimated over each link. */
const SKEWS = { spmc: { FFA_TEST_CLOCK_SKEW_NS: '321234567891011' }, guest: { FFA_TEST_CLOCK_SKEW_NS: '7777777777777' } };

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The command as a separate process, awaited without blocking this one: the world's processes
 * write their logs through this process's pipes, which must keep flowing.
 */
function ffaWorld(env: Record<string, string>, timeoutMs: number, ...args: string[]): Promise<CliRun> {
  return ffaWorldWatched(env, timeoutMs, () => {}, ...args);
}

/** The same, with its stderr so far handed to `watch` as it comes. */
function ffaWorldWatched(env: Record<string, string>, timeoutMs: number, watch: (stderr: string) => void, ...args: string[]): Promise<CliRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [FFA_WORLD_BIN, ...args], { env: { ...process.env, CI: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      watch(stderr);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}

const LOAD = ['load', '--attach', '--min-guests', '3', '--settle', '300ms', '--rate', '40/s', '--duration', '1500ms', '--drain', '5s'];

describe('ffa-world load --attach: a world of services on two hosts', () => {
  const world = new LocalWorld({ file: COMPOSE_FILE, scale: { guest: 2 }, out: join(work, 'world'), env: { ...process.env, FFA_LOG_LEVEL: 'info' }, network: NETWORK, serviceEnv: SKEWS });
  let attach: Record<string, string>;
  let first: CliRun;
  let load: AttachedLoadResult;

  before(async () => {
    await world.startServices(['orchestrator']);
    await world.waitStarted('guest');
    // The third guest registers with a host label; the load waits for all three (--min-guests 3).
    world.launchExtra('guest', 3, { FFA_HOST_LABEL: 'node-b' });
    attach = world.attachEnvironment();
    const out = mkdtempSync(join(work, 'load-'));
    first = await ffaWorld(attach, 60_000, ...LOAD, '--seed', '7', '--out', out);
    load = JSON.parse(readFileSync(join(out, 'load.json'), 'utf8')) as AttachedLoadResult;
  });
  after(() => world.stop());

  it('runs the load over the registered guests and judges it as a load: no-lost, no-phantom, the drain', { timeout: 90_000 }, () => {
    assert.equal(first.status, 0, `${first.stdout}\n${first.stderr.slice(-2000)}`);
    assert.equal(load.verdict, 'passed');
    assert.deepEqual(load.checks.map((c) => [c.name, c.passed]), [['no-lost-notification', true], ['no-phantom-notification', true]]);
    assert.equal(load.ended, 'done');
    assert.equal(load.world.guests, 3);
    assert.equal(load.stats.notifications.madePending, load.stats.workload.arrivals);
    assert.equal(load.stats.throughput.deliveredSends.count, load.stats.workload.arrivals, 'every send delivered');
    assert.ok(load.stats.workload.drain?.quiet, 'the drain ended with the world quiet');
    assert.match(load.replay, /^npx ffa-world load --attach --min-guests 3 --rate 40\/s --duration 1500ms --seed 7 --drain 5s$/);
  });

  it('reports each host\'s figures, one host per registered address or host label, adding up to the world\'s', () => {
    const addresses = world.containers.filter((c) => c.service === 'guest').map((c) => c.address).sort();
    assert.deepEqual(addresses, [`127.${NETWORK}.5.1`, `127.${NETWORK}.5.2`, `127.${NETWORK}.5.3`]);
    const guests = load.attached.guests.map((g) => [g.name, g.label, g.host]).sort();
    assert.deepEqual(guests, [['guest-1', null, addresses[0]], ['guest-2', null, addresses[1]], ['guest-3', 'node-b', 'node-b']]);
    const hosts = load.attached.perHost;
    assert.deepEqual(hosts.map((h) => [h.host, h.guests]), [[addresses[0], ['guest-1']], [addresses[1], ['guest-2']], ['node-b', ['guest-3']]]);
    assert.equal(hosts.reduce((sum, h) => sum + h.sent, 0), load.stats.workload.arrivals);
    for (const h of hosts) {
      assert.ok(h.sent > 0 && h.delivered === h.sent, `${h.host}: ${h.delivered} of ${h.sent}`);
      assert.equal(h.corrected.count, h.delivered);
    }
    assert.match(first.stdout, new RegExp(`per host \\(each guest's registered host label, else its URL's host part\\), 3 hosts:\\n +127\\.${NETWORK}\\.5\\.1 +guest-1: \\d+ sent, \\d+ delivered; clock estimated`));
  });

  it('puts each clock\'s bound beside every latency figure: the world\'s, each host\'s, and each component\'s clock', () => {
    const { clocks } = load.attached;
    assert.deepEqual([clocks['gic']?.clock, clocks['spmd']?.clock, clocks['hypervisor']?.clock], ['same', 'same', 'same']);
    for (const other of ['spmc', 'guest-1', 'guest-2', 'guest-3']) assert.equal(clocks[other]?.clock, 'estimated', `${other}: ${JSON.stringify(clocks[other])}`);
    const bound = load.stats.latency.clockUncertaintyNs;
    const spmc = clocks['spmc']?.uncertaintyNs ?? 0;
    assert.ok((bound.corrected ?? 0) > 0, `corrected ± ${bound.corrected}: the guests' clocks`);
    assert.ok((bound.uncorrected ?? 0) >= (bound.corrected ?? 0) + spmc - 1, `uncorrected ± ${bound.uncorrected}: the SPMC's and a guest's`);
    assert.equal(bound.arrivalToSet, Math.ceil(spmc));
    for (const h of load.attached.perHost) assert.ok((h.clockUncertaintyNs.corrected ?? 0) > 0 && (h.clockUncertaintyNs.uncorrected ?? 0) > 0, JSON.stringify(h));
    assert.match(first.stdout, /end to end, corrected +p50 .* ± \d+\.\d{3} ms \(clocks\)/);
    assert.match(first.stdout, /corrected p50 .*, p99 .* ± \d+\.\d{3} ms \(clocks\); uncorrected p50 .* ± \d+\.\d{3} ms \(clocks\)/);
    assert.match(first.stdout, /clocks \(each component's, onto this one's\): .*spmc estimated \+321234\.\d{9} s ± /);
  });

  it('refuses a second load\'s figures on the same world: the first one\'s arrivals are in its history (exit 1)', { timeout: 90_000 }, async () => {
    const second = await ffaWorld(attach, 60_000, ...LOAD, '--seed', '8', '--json');
    assert.equal(second.status, 1, second.stderr.slice(-2000));
    const again = JSON.parse(second.stdout) as AttachedLoadResult;
    assert.equal(again.verdict, 'failed');
    assert.match(again.attached.problems.join('\n'), /^the world had carried \d+ workload arrivals before this load started/);
  });

  it('refuses to start without the orchestrator\'s credentials: one line, exit 2', { timeout: 60_000 }, async () => {
    const run = await ffaWorld({ ...attach, FFA_CREDENTIALS: world.credentialsOf('guest') }, 30_000, ...LOAD);
    assert.equal(run.status, 2);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^ffa-world: FFA_CREDENTIALS: no key for the link to the gic \("dial\.gic"\): is this the orchestrator's credentials file\?/);
  });

  it('ends at once, exit 1, when a platform service dies during the run, saying which link dropped', { timeout: 60_000 }, async () => {
    let killed = false;
    const killSpmdOnceStarted = (stderr: string): void => {
      if (killed || !stderr.includes('attached: the scenario starts')) return;
      killed = true;
      world.containers.find((c) => c.service === 'spmd')?.process.kill('SIGKILL');
    };
    const run = await ffaWorldWatched(attach, 45_000, killSpmdOnceStarted, ...LOAD.map((arg) => (arg === '1500ms' ? '5s' : arg)), '--json', '--log-level', 'info');
    assert.ok(killed, 'the load started');
    assert.equal(run.status, 1, run.stderr.slice(-2000));
    const result = JSON.parse(run.stdout) as AttachedLoadResult;
    assert.match(result.ended, /^world-lost: the link to spmd dropped/);
    // On other machines' clocks the world channel's history is judged: the SPMD's stops at the drop.
    assert.ok(result.attached.missingTails.some((tail) => /^spmd's history stops at .*its link to the orchestrator dropped/.test(tail)), JSON.stringify(result.attached.missingTails));
  });
});

describe('ffa-world load --attach: a world that is not there', () => {
  it('says it could not attach, in one line, exit 2', { timeout: 60_000 }, async () => {
    const credentials = join(work, 'credentials');
    writeWorldCredentials(credentials);
    const nowhere = Object.fromEntries(['GIC', 'SPMD', 'SPMC', 'HYPERVISOR'].map((role, i) => [`FFA_${role}`, `127.${NETWORK}.9.${i + 1}:9`]));
    const run = await ffaWorld({ ...nowhere, FFA_CREDENTIALS: join(credentials, 'ffa-orchestrator.json') }, 30_000, ...LOAD, '--attach-timeout', '1s');
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^ffa-world: load --attach: the world could not be attached: CONNECT_FAILED: ws:\/\/127\.86\.9\.\d:9 /);
  });
});
