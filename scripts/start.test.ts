/**
 * `npm start` as a process group: however the npm process ends (SIGTERM, or SIGKILL, which it
 * cannot pass on), nothing it started (node, its worker threads, tsx's esbuild service) runs on;
 * nor do the service processes of `npm run compose:local`.
 * Each run gets its own process group, so its descendants are found in /proc even after they
 * were reparented; the wait for them to go is bounded and polled. What tells a run that was
 * stopped from one that ran on to its end is no timing but its output: a run left running
 * prints its verdict on the pipe it inherited, a stopped one never does.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../shared/runtime/component-modules.ts';

const START_WAIT_MS = 120_000;
const GONE_WAIT_MS = 30_000;
const POLL_MS = 200;

interface Member {
  pid: number;
  command: string;
}

const started: number[] = [];

/** The live (not zombie) processes of a process group, from /proc. */
function groupMembers(pgid: number): Member[] {
  const members: Member[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command's closing parenthesis: state, ppid, pgrp (proc(5)).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) !== pgid || state === 'Z') continue;
      members.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() });
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}

async function until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  for (const deadline = performance.now() + timeoutMs; performance.now() < deadline; ) {
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return probe();
}

/** `npm <args>` in a process group of its own, once `isUp` says its whole tree is up. */
async function startNpm(args: string[], isUp: (stdout: string) => boolean): Promise<{ npm: ChildProcess; members: Member[]; stdout: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  delete env['NODE_TEST_CONTEXT'];
  const npm = spawn('npm', args, { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = npm.pid as number;
  started.push(pid);
  let stdout = '';
  npm.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  npm.stderr?.resume();
  const running = await until(() => (isUp(stdout) ? true : undefined), START_WAIT_MS);
  assert.ok(running, `npm ${args.join(' ')} was not up within ${START_WAIT_MS} ms: ${stdout.slice(0, 500)}`);
  return { npm, members: groupMembers(pid), stdout: () => stdout };
}

/** Bounded: the members of the group still running once none are, or after the wait. */
async function survivorsOf(pgid: number): Promise<Member[]> {
  return (await until(() => {
    const alive = groupMembers(pgid);
    return alive.length === 0 ? alive : undefined;
  }, GONE_WAIT_MS)) ?? groupMembers(pgid);
}

after(() => {
  // Whatever a failed test left: only the processes of the groups this file started.
  for (const pgid of started) for (const { pid } of groupMembers(pgid)) process.kill(pid, 'SIGKILL');
});

describe('npm start ends with its npm process', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`leaves no descendant running after ${signal} to npm alone`, { timeout: START_WAIT_MS + GONE_WAIT_MS + 30_000 }, async () => {
      // The seed is printed once the scenario is read: the run's node and tsx's esbuild are up.
      const { npm, members, stdout } = await startNpm(['start'], (out) => /^seed \d+/m.test(out));
      assert.ok(members.some((m) => /scripts\/start\.ts/.test(m.command)), `the run's node is up: ${JSON.stringify(members)}`);
      npm.kill(signal);
      assert.deepEqual(await survivorsOf(npm.pid as number), [], `still running ${GONE_WAIT_MS} ms after ${signal} to npm`);
      assert.doesNotMatch(stdout(), /^(PASS|FAIL) default-world/m, 'the run was stopped, not left to finish');
    });
  }
});

describe('npm run compose:local ends with its npm process', () => {
  it('leaves no service running after SIGKILL to npm alone, and the run does not finish', { timeout: START_WAIT_MS + GONE_WAIT_MS + 30_000 }, async (t) => {
    const out = mkdtempSync(join(tmpdir(), 'ffa-compose-parent-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    // The orchestrator's log appears when it is launched: every other service has started by then.
    const { npm, members } = await startNpm(['run', 'compose:local', '--', '--scale', 'guest=1', '--out', out], () => existsSync(join(out, 'logs', 'orchestrator-1.log')));
    assert.ok(members.length >= 6, `compose-local and its services are up: ${JSON.stringify(members)}`);
    npm.kill('SIGKILL');
    assert.deepEqual(await survivorsOf(npm.pid as number), [], `still running ${GONE_WAIT_MS} ms after SIGKILL to npm`);
    assert.equal(existsSync(join(out, 'summary.json')), false, 'the orchestrator was stopped, not left to finish');
  });
});
