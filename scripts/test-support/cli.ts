/**
 * The `ffa-world` command as a user runs it, for the scripts' tests: a separate process (CI set,
 * so no progress bars), its exit status and output; and a temp folder removed after the file's tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const BIN = join(import.meta.dirname, '..', 'ffa-world.mjs');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function ffaWorld(timeoutMs: number, ...args: string[]): CliRun {
  return ffaWorldIn(process.cwd(), timeoutMs, ...args);
}

/** The same, run from another folder (where out/ goes by default). */
export function ffaWorldIn(cwd: string, timeoutMs: number, ...args: string[]): CliRun {
  const run = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, CI: 'true' } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/**
 * `ffa-world ARGS | head -c 1`, as a shell runs it: the reader goes away after one byte. Gives
 * ffa-world's own exit status (PIPESTATUS) and its stderr.
 */
export function ffaWorldIntoClosedPipe(timeoutMs: number, ...args: string[]): { status: number; stderr: string } {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const run = spawnSync('bash', ['-c', `${quoted} 2>&3 | head -c 1 >/dev/null; exit \${PIPESTATUS[0]}`], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  return { status: run.status ?? -1, stderr: String(run.output[3] ?? '') };
}

export { BIN as FFA_WORLD_BIN };

/** A temp folder for this test file, and a way to write scenario files into it. */
export function workFolder(prefix: string): { dir: string; scenarioFile(name: string, text: string): string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    scenarioFile(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
  };
}
