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
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, CI: 'true' } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

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
