import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildTrace, writeRunOutputs } from './index.ts';
import { summaryJson } from './write.ts';
import type { ScenarioResult } from '../scenario/types.ts';
import { defaultWorldHistory, failingResult } from '../test-support/report-runs.ts';

describe('writeRunOutputs', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('writes summary.json, trace.json and report.html into a new folder', async () => {
    const base = await mkdtemp(join(tmpdir(), 'ffa-report-'));
    dirs.push(base);
    const dir = join(base, 'out', 'run');
    const entries = await defaultWorldHistory();
    const result = failingResult(entries);
    const paths = await writeRunOutputs(dir, { result, entries });
    assert.deepEqual(paths, { summary: join(dir, 'summary.json'), trace: join(dir, 'trace.json'), report: join(dir, 'report.html') });

    assert.deepEqual(JSON.parse(await readFile(paths.summary, 'utf8')), JSON.parse(JSON.stringify(result)));
    const trace = JSON.parse(await readFile(paths.trace, 'utf8')) as unknown;
    assert.deepEqual(trace, JSON.parse(JSON.stringify(buildTrace(entries))), 'trace.json is buildTrace, one event a line');
    const report = await readFile(paths.report, 'utf8');
    assert.match(report, /^<!doctype html>/);
    assert.match(report, /<h1>FAIL<\/h1>/);
  });

  it('writes 64-bit values in summary.json as hex', async () => {
    // A result with registers in it (a runner may add them): they must not throw or lose bits.
    const result = { ...failingResult(await defaultWorldHistory()), extra: { x0: 0x8400_0061n, max: (1n << 64n) - 1n } } as ScenarioResult;
    const text = summaryJson(result);
    assert.match(text, /"x0": "0x84000061"/);
    assert.match(text, /"max": "0xffffffffffffffff"/);
  });
});
