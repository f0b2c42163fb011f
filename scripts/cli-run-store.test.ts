/**
 * `ffa-world run` without --out: a folder per run, out/NAME/TIMESTAMP-SEED, and out/NAME/latest
 * linked to the newest, as Jepsen's store lays runs out; the paths printed are the real ones.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ffaWorldIn, workFolder } from './test-support/cli.ts';

const { dir: work } = workFolder('ffa-cli-store-');
const EXAMPLE = resolve('scenarios/examples/guest-gets-sp-notification.yaml');

describe('ffa-world run: the run store', () => {
  it('gives every run its own folder out/NAME/TIMESTAMP-SEED, with out/NAME/latest linked to the newest', () => {
    const cwd = join(work, 'store');
    mkdirSync(cwd, { recursive: true });
    const first = ffaWorldIn(cwd, 120_000, 'run', EXAMPLE, '--seed', '1');
    const second = ffaWorldIn(cwd, 120_000, 'run', EXAMPLE, '--seed', '2');
    assert.equal(first.status, 0, first.stderr);
    assert.equal(second.status, 0, second.stderr);
    const store = join(cwd, 'out', 'guest-gets-sp-notification');
    const runs = readdirSync(store).filter((name) => name !== 'latest').sort();
    assert.equal(runs.length, 2, 'the second run did not overwrite the first');
    assert.match(runs[0] ?? '', /^\d{8}T\d{6}\.\d{3}Z-1$/);
    assert.match(runs[1] ?? '', /-2$/);
    assert.equal(readlinkSync(join(store, 'latest')), runs.find((r) => r.endsWith('-2')));
    const printed = /^ {2}report (\S+) \(also (\S+)\)$/m.exec(second.stdout);
    assert.ok(printed, second.stdout);
    assert.ok(existsSync(join(cwd, printed[1] as string)), 'the printed report path exists');
    assert.equal(printed[2], 'out/guest-gets-sp-notification/latest/report.html');
    assert.ok(existsSync(join(cwd, printed[2] as string)));
  });

});
