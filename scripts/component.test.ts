/**
 * Process mode: the test world's caller and echo as two OS processes started with
 * scripts/component.ts, on 127.0.0.1. Every call must come back echoed, and both must exit 0 on
 * SIGTERM. A bad environment must be refused with exit code 2.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { type HistoryEntry, readHistory } from '../shared/runtime/history.ts';
import { PROJECT_ROOT } from '../shared/runtime/component-modules.ts';
import { testWorldSpec } from '../shared/runtime/test-world/index.ts';
import { runStartNs } from '../shared/runtime/ws/clock.ts';
import { type Credentials, linkKey, newSecret } from '../shared/runtime/ws/credentials.ts';

const WAIT_MS = 30_000;
const folder = mkdtempSync(join(tmpdir(), 'ffa-component-'));
const children: ChildProcess[] = [];

after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(folder, { recursive: true, force: true });
});

/** The environment of the test process, minus the test runner's own variables. */
function baseEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  for (const key of Object.keys(env)) if (key.startsWith('FFA_')) delete env[key];
  return env;
}

/** A credentials file in the test's folder, readable by its owner only, as the compose maker writes them. */
function credentialsFile(name: string, credentials: Credentials): string {
  const path = join(folder, `${name}.credentials.json`);
  writeFileSync(path, JSON.stringify(credentials), { mode: 0o600 });
  return path;
}

function startComponent(vars: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/component.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...baseEnvironment(), ...vars },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

/** The first stdout JSON line with this event, bounded. */
function announcement(child: ChildProcess, event: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" line within ${WAIT_MS} ms`)), WAIT_MS);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed['event'] !== event) return;
      clearTimeout(timer);
      lines.close();
      resolve(parsed);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before "${event}"`)));
  });
}

function exited(child: ChildProcess, timeoutMs: number): Promise<number | string | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

/** Reads a history file that is still being written (a partial last line is read again later). */
function historyOf(path: string): HistoryEntry[] {
  try {
    return readHistory(path);
  } catch {
    return [];
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const giveUp = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > giveUp) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

function stderrOf(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

describe('scripts/component.ts: one component per OS process', () => {
  it('runs caller and echo as two processes: every call echoed, both exit 0 on SIGTERM', async () => {
    const spec = testWorldSpec({ seed: 9, vcpus: 2, callsPerVcpu: 20 });
    const [callerSpec, echoSpec] = spec.components;
    assert.ok(callerSpec && echoSpec);
    const common = { FFA_SEED: '9', FFA_START_NS: runStartNs(), FFA_LOG_LEVEL: 'error', FFA_LISTEN: '127.0.0.1:0', FFA_WORLD: '["caller","echo"]' };
    const key = linkKey(newSecret(), 'caller', 'echo');
    const echoHistory = join(folder, 'echo.jsonl');
    const callerHistory = join(folder, 'caller.jsonl');

    const echo = startComponent({
      ...common,
      FFA_NAME: 'echo',
      FFA_ROLE: echoSpec.role,
      FFA_MODULE: echoSpec.module,
      FFA_CONFIG: JSON.stringify(echoSpec.config),
      FFA_CREDENTIALS: credentialsFile('echo', { accept: { caller: { key, role: callerSpec.role } }, dial: {} }),
      FFA_HISTORY: echoHistory,
    });
    const echoStderr = stderrOf(echo);
    const listening = await announcement(echo, 'listening');
    assert.match(String(listening['url']), /^ws:\/\/127\.0\.0\.1:\d+$/);

    const caller = startComponent({
      ...common,
      FFA_NAME: 'caller',
      FFA_ROLE: callerSpec.role,
      FFA_MODULE: callerSpec.module,
      FFA_CONFIG: JSON.stringify(callerSpec.config),
      FFA_CREDENTIALS: credentialsFile('caller', { accept: {}, dial: { echo: key } }),
      FFA_PEERS: JSON.stringify([{ name: 'echo', url: listening['url'] }]),
      FFA_HISTORY: callerHistory,
    });
    const callerStderr = stderrOf(caller);

    const records = (event: string): Record<string, unknown>[] =>
      historyOf(callerHistory).flatMap((e) => (e.event.type === 'record' && e.event.data['event'] === event ? [e.event.data] : []));
    const done = await until(() => records('caller-done').length === 2, WAIT_MS);
    assert.ok(done, `caller did not finish; stderr: ${callerStderr()} ${echoStderr()}`);
    const returns = records('caller-return');
    assert.equal(returns.length, 40);
    assert.ok(returns.every((r) => r['ok'] === true && r['echoed'] === true), 'every call echoed bit-identically');

    caller.kill('SIGTERM');
    echo.kill('SIGTERM');
    assert.deepEqual(await Promise.all([exited(caller, 10_000), exited(echo, 10_000)]), [0, 0]);
    for (const [name, path] of [['caller', callerHistory], ['echo', echoHistory]] as const) {
      const events = readHistory(path).map((e) => e.event);
      assert.ok(events.some((e) => e.type === 'component' && e.component === name && e.event === 'stop'), `${name} recorded its stop`);
    }
    const echoed = readHistory(echoHistory).filter((e) => e.event.type === 'record' && e.event.data['event'] === 'echo');
    assert.equal(echoed.length, 40);
  });

  it('refuses a bad environment with exit code 2 and names what is wrong', async () => {
    const peers = JSON.stringify([{ name: 'echo', url: 'ws://127.0.0.1:70000' }]);
    const child = startComponent({ FFA_NAME: 'x', FFA_ROLE: 'wizard', FFA_SEED: '-1', FFA_LISTEN: 'nowhere:65536', FFA_PEERS: peers });
    const stderr = stderrOf(child);
    assert.equal(await exited(child, WAIT_MS), 2);
    for (const name of ['FFA_ROLE', 'FFA_SEED', 'FFA_LISTEN', 'FFA_PEERS', 'FFA_MODULE', 'FFA_CREDENTIALS', 'FFA_HISTORY']) {
      assert.match(stderr(), new RegExp(name));
    }
    assert.match(stderr(), /FFA_LISTEN="nowhere:65536" must be host:port \(port 0\.\.65535\)/);
    assert.match(stderr(), /FFA_PEERS must be a JSON array of .*\(port 0\.\.65535\)/);
  });

  it('refuses a credentials file that is not one, naming each problem', async () => {
    const bad = join(folder, 'bad.credentials.json');
    writeFileSync(bad, JSON.stringify({ accept: { caller: { key: 'short', role: 'root' } }, dial: {}, tokens: {} }));
    const child = startComponent({ FFA_NAME: 'x', FFA_ROLE: 'test', FFA_SEED: '1', FFA_LISTEN: '127.0.0.1:0', FFA_MODULE: 'm', FFA_HISTORY: 'h', FFA_CREDENTIALS: bad });
    const stderr = stderrOf(child);
    assert.equal(await exited(child, WAIT_MS), 2);
    assert.match(stderr(), /FFA_CREDENTIALS: .*bad\.credentials\.json: accept\.caller\.key: must be a key/);
    assert.match(stderr(), /accept\.caller\.role/);
    assert.match(stderr(), /Unrecognized key.*tokens/);
  });
});
