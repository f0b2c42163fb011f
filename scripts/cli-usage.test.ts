/**
 * The `ffa-world` command line's manners, as a user of git, npm or k6 expects them: a command's
 * own help, the version, a mistyped command or option named with the nearest right one (exit 2),
 * and `history` on a file that is missing or is not a history (exit 2, naming the file and line).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ffaWorld as runCli, workFolder } from './test-support/cli.ts';

const { dir: work, scenarioFile } = workFolder('ffa-cli-usage-');
const ffaWorld = (...args: string[]) => runCli(60_000, ...args);

const EXAMPLE = resolve('scenarios/examples/guest-gets-sp-notification.yaml');
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

describe('ffa-world help, version and mistakes', () => {
  it('prints a command\'s own help once for `COMMAND --help`, exit 0', () => {
    for (const command of ['run', 'load']) {
      const run = ffaWorld(command, '--help');
      assert.equal(run.status, 0, command);
      assert.equal((run.stdout.match(/^Usage:/gm) ?? []).length, 1, `${command}: one help`);
      assert.match(run.stdout, new RegExp(`\\$ ffa-world ${command}\\b`));
      assert.doesNotMatch(run.stdout, /^Commands:/m, `${command}: not the global help`);
    }
  });

  it('prints the version with --version and -v', () => {
    for (const flag of ['--version', '-v']) {
      const run = ffaWorld(flag);
      assert.equal(run.status, 0);
      assert.match(run.stdout, new RegExp(`^ffa-world/${version.replace(/\./g, '\\.')} `));
    }
  });

  it('says which command is unknown, with the nearest one, exit 2', () => {
    const run = ffaWorld('rn', 'x.yaml');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^ffa-world: unknown command 'rn'; did you mean 'run'\?/);
    assert.equal(run.stdout, '', 'no help printed over it');
  });

  it('says which option is unknown, with the nearest one, exit 2, running nothing', () => {
    const run = ffaWorld('run', EXAMPLE, '--runtme', 'sim');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /unknown option '--runtme' for 'run'; did you mean '--runtime'\?/);
    assert.equal(run.stdout, '');
  });

  it('checks --log-level', () => {
    const run = ffaWorld('run', EXAMPLE, '--log-level', 'warm');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--log-level must be one of fatal, error, warn, info, debug, trace, silent, not warm; did you mean 'warn'\?/);
  });
});

describe('ffa-world history', () => {
  it('exits 2 naming a file that is not there', () => {
    const missing = join(work, 'no-such-history.jsonl');
    const run = ffaWorld('history', missing);
    assert.equal(run.status, 2);
    assert.equal(run.stderr, `ffa-world: ${missing}: no such file\n`);
  });

  it('exits 2 at the first line that is not a history event, naming the file and the line', () => {
    const good = '{"seq":0,"t":0,"event":{"type":"component","component":"spmc","event":"start","detail":""}}';
    const file = scenarioFile('corrupt.jsonl', `${good}\n{"seq":1,"t":5,"event":{"type":"telegram"}}\n`);
    const run = ffaWorld('history', file);
    assert.equal(run.status, 2);
    assert.match(run.stderr, new RegExp(`^ffa-world: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: not a history event: "event.type" is "telegram"`));
    assert.equal(run.stdout, `${good}\n`, 'the lines before it were printed');
    const notHistory = ffaWorld('history', 'package.json');
    assert.equal(notHistory.status, 2);
    assert.match(notHistory.stderr, /^ffa-world: package\.json:1: not a history event: not JSON/);
  });

  it('prints the events that pass the filter', () => {
    const lines = [
      '{"seq":0,"t":0,"event":{"type":"component","component":"spmc","event":"start","detail":""}}',
      '{"seq":1,"t":3,"event":{"type":"record","component":"vm1","data":{"event":"x"}}}',
    ];
    const file = scenarioFile('two.jsonl', `${lines.join('\n')}\n`);
    const run = ffaWorld('history', file, '--component', 'vm1');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `${lines[1]}\n`);
  });
});

