/**
 * `npm start` as a process group: however the npm process ends (SIGTERM, or SIGKILL, which it
 * cannot pass on), nothing it started (node, its worker threads, tsx's esbuild service) runs on.
 * Each run gets its own process group, so its descendants are found in /proc even after they
 * were reparented; the wait for them to go is bounded and polled. What tells a run that was
 * stopped from one that ran on to its end is no timing but its output: a run left running
 * prints its verdict on the pipe it inherited, a stopped one never does.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/** npm start in a process group of its own, once the run has printed its seed (its whole tree is up). */
async function startNpm(): Promise<{ npm: ChildProcess; members: Member[]; stdout: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  delete env['NODE_TEST_CONTEXT'];
  const npm = spawn('npm', ['start'], { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = npm.pid as number;
  started.push(pid);
  let stdout = '';
  npm.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  npm.stderr?.resume();
  const running = await until(() => (/^seed \d+/m.test(stdout) ? true : undefined), START_WAIT_MS);
  assert.ok(running, `npm start printed no seed within ${START_WAIT_MS} ms: ${stdout.slice(0, 500)}`);
  return { npm, members: groupMembers(pid), stdout: () => stdout };
}

after(() => {
  // Whatever a failed test left: only the processes of the groups this file started.
  for (const pgid of started) for (const { pid } of groupMembers(pgid)) process.kill(pid, 'SIGKILL');
});

describe('npm start ends with its npm process', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`leaves no descendant running after ${signal} to npm alone`, { timeout: START_WAIT_MS + GONE_WAIT_MS + 30_000 }, async () => {
      const { npm, members, stdout } = await startNpm();
      const pgid = npm.pid as number;
      assert.ok(members.some((m) => /scripts\/start\.ts/.test(m.command)), `the run's node is up: ${JSON.stringify(members)}`);
      npm.kill(signal);
      const left = await until(() => {
        const alive = groupMembers(pgid);
        return alive.length === 0 ? alive : undefined;
      }, GONE_WAIT_MS);
      assert.deepEqual(left, [], `still running ${GONE_WAIT_MS} ms after ${signal} to npm: ${JSON.stringify(groupMembers(pgid))}`);
      assert.doesNotMatch(stdout(), /^(PASS|FAIL) default-world/m, 'the run was stopped, not left to finish');
    });
  }
});
