/**
 * Bad input to `ffa-world`, as a user meets it: each is refused with exit 2 and one line that
 * names the input and says what is wrong, no stack trace, and nothing run. Process mode: several
 * of these once killed the process (std::bad_alloc reading /dev/zero) or never ended (making a
 * folder under /proc); spawnSync's timeout turns a hang into a failure.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type CliRun, ffaWorld as runCli, workFolder } from './test-support/cli.ts';

const { dir: work, scenarioFile } = workFolder('ffa-bad-input-');
const ffaWorld = (...args: string[]) => runCli(60_000, ...args);

/**
 * Exit 2, a single "ffa-world: …" line on stderr matching `message`, nothing on stdout unless
 * `printedBefore` (a streamed command prints the good lines that came before the bad one).
 */
function assertRefused(run: CliRun, message: RegExp, printedBefore = ''): void {
  assert.equal(run.status, 2, `exit status (stderr: ${run.stderr.slice(0, 500)})`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${run.stderr.slice(0, 500)}`);
  assert.match(lines[0] ?? '', message);
  assert.equal(run.stdout, printedBefore);
}

const WORLD = `world:
  hypervisor: { profile: xen }
  vms: [{ name: vm, count: 2, vcpus: 1, driver: raw }]
`;

describe('ffa-world refuses bad input with exit 2 and one line', () => {
  it('a scenario or history that never ends (/dev/zero) is refused at its bound, not read until the process dies', () => {
    assertRefused(ffaWorld('run', '/dev/zero'), /^ffa-world: invalid scenario: \/dev\/zero:1:1: the file is larger than 4 MiB/);
    assertRefused(ffaWorld('history', '/dev/zero'), /^ffa-world: \/dev\/zero: not a file/);
  });

  it('an output folder that cannot be made (/proc) is an error at once', () => {
    assertRefused(ffaWorld('world', '--out', '/proc/ffa-world-out'), /^ffa-world: --out \/proc\/ffa-world-out: cannot make the folder/);
  });

  it('a corrupt history line names the file and the line', () => {
    const history = join(work, 'corrupt.jsonl');
    const goodLine = '{"seq":0,"t":0,"event":{"type":"record","component":"a","data":{}}}\n';
    writeFileSync(history, `${goodLine}{"seq":1,"t\n`);
    assertRefused(ffaWorld('history', history), new RegExp(`^ffa-world: ${history.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: not a history event: not JSON \\(`), goodLine);
  });

  it('a negative number is a range error, not an unknown option', () => {
    assertRefused(ffaWorld('world', '--seed', '-1'), /^ffa-world: --seed must be an integer in 0\.\.4294967295, not -1$/);
    assertRefused(ffaWorld('world', '--vcpus', '-2'), /^ffa-world: --vcpus must be an integer in 1\.\.256, not -2$/);
  });

  it('a register value with a bad digit, or a number beyond any float, is named as written with what is wrong', () => {
    const badDigit = scenarioFile('bad-digit.yaml', `name: bad-digit\n${WORLD}steps:\n  - { from: vm1, call: FFA_VERSION, regs: [0xZZ] }\n`);
    assertRefused(ffaWorld('run', badDigit), /steps\[0\]\.regs\[0\]: must be an unsigned 64-bit integer \(decimal or 0x hex\), got 0xZZ \("Z" is not a hex digit, which are 0-9 and a-f\)$/);
    const overflowSeed = scenarioFile('overflow-seed.yaml', `name: overflow\nseed: 1e400\n${WORLD}steps:\n  - { from: vm1, call: FFA_ID_GET }\n`);
    assertRefused(ffaWorld('run', overflowSeed), /seed: must be a seed in 0\.\.4294967295, got 1e400 \(too large for any number: it overflows to infinity\)$/);
    const overflowRegister = scenarioFile('overflow-register.yaml', `name: overflow\n${WORLD}steps:\n  - { from: vm1, call: FFA_VERSION, regs: [1, 1e400] }\n`);
    assertRefused(ffaWorld('run', overflowRegister), /steps\[0\]\.regs\[1\]: must be an unsigned 64-bit integer \(decimal or 0x hex\), got 1e400 \(too large for any number: it overflows to infinity\)$/);
  });
});
