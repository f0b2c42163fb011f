/**
 * A sharded sweep: --shard's bounds, the blocks of seeds the shards run (together exactly the
 * unsharded sweep's), the shards' tallies merged (the same as one tally over all the seeds), the
 * results file written and read back (and refused when it is not one), and, as a user runs it,
 * `sweep merge` over three shards giving what the unsharded sweep gives.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readScenarioFile } from '../services/orchestrator/scenario/reader/index.ts';
import { ffaWorld as runCli, workFolder } from './test-support/cli.ts';
import { outcomeOf, parseShard, readShardResults, type Shard, shardResults, shardSeeds, writeShardResults } from './sweep-shard.ts';
import { emptyTally, failureSignatureOf, mergeTallies, recordVerdict, type SeedVerdict, sortedGroups, type Tally, trimFailures } from './sweep-tally.ts';

const { dir: work } = workFolder('ffa-sweep-shard-');
const ffaWorld = (...args: string[]) => runCli(120_000, ...args);
const SCENARIO = join(import.meta.dirname, '..', 'scenarios', 'sweeps', 'sweep-finds-lost.yaml');

describe('--shard I/K', () => {
  it('takes shard I of K with 0 <= I < K <= the seeds, and refuses anything else in one line', () => {
    assert.deepEqual(parseShard('2/4', 10), { index: 2, count: 4 });
    assert.deepEqual(parseShard('0/1', 1), { index: 0, count: 1 });
    for (const [value, reason] of [
      ['4/4', /I must be in 0\.\.3/],
      ['1/0', /K must be in 1\.\.10000/],
      ['0/10001', /K must be in 1\.\.10000/],
      ['0/11', /more shards than --seeds 10/],
      ['3', /must be I\/K/],
      ['-1/4', /must be I\/K/],
      ['1/2/3', /must be I\/K/],
      ['1.5/4', /must be I\/K/],
    ] as const) {
      const refusal = parseShard(value, 10);
      assert.equal(typeof refusal, 'string', value);
      assert.match(String(refusal), reason);
      assert.doesNotMatch(String(refusal), /\n/);
    }
  });

  it('gives the K shards contiguous blocks that together are exactly the seeds, none longer than another by more than one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 200 }), (from, seeds, wanted) => {
        const count = Math.min(wanted, seeds);
        const blocks = Array.from({ length: count }, (_, index) => shardSeeds(from, seeds, { index, count }));
        let next = from;
        for (const block of blocks) {
          assert.equal(block.from, next);
          next += block.seeds;
        }
        assert.equal(next, from + seeds);
        const sizes = blocks.map((b) => b.seeds);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1 && Math.min(...sizes) >= 1);
      }),
    );
  });
});

// ---------------------------------------------------------------- tallies merged

const failing = (seed: number, message: string, nondeterministic: boolean): SeedVerdict => ({
  seed,
  passed: false,
  ended: 'idle',
  failingSteps: [],
  failingChecks: [{ name: message.startsWith('GET') ? 'no-phantom-notification' : 'no-lost-notification', detail: 'failed', firstFailure: message }],
  error: null,
  historyHash: 'ab'.repeat(32),
  replay: `npx ffa-world run f.yaml --runtime sim --seed ${seed}`,
  wallMs: 3,
  threadId: 1,
  second: nondeterministic ? { passed: false, historyHash: 'cd'.repeat(32), threadId: 2 } : null,
  nondeterministic,
});

const passing = (seed: number): SeedVerdict => ({ ...failing(seed, '', false), passed: true, failingChecks: [] });

/** A seed's verdict from a drawn kind: passed, or one of a few ways to fail with drawn particulars. */
const verdictOf = (seed: number, kind: number, particular: number): SeedVerdict => {
  if (kind === 0) return passing(seed);
  const message = [`notification ${particular} for vm${kind} never returned by a GET`, `GET returned bit ${particular} with no SET (kind ${kind})`][kind % 2] as string;
  return failing(seed, message, kind === 3);
};

/** What a reader sees of a tally: everything but the order its maps were filled in. */
function seen(tally: Tally): unknown {
  return {
    ...tally,
    causes: Object.fromEntries([...tally.causes].sort()),
    failures: tally.failures.map((f) => f.seed),
    groups: sortedGroups(tally).map((g) => ({ signature: g.signature, count: g.count, seeds: g.seeds, example: g.example.seed })),
  };
}

describe('the shards\' tallies merged', () => {
  it('are the tally of all the seeds counted at once: totals, causes, lowest failing seeds and failure groups', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 99 })), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 12 }),
        (drawn, wanted, keep) => {
          const from = 5;
          const verdicts = drawn.map(([kind, particular], i) => verdictOf(from + i, kind > 3 ? 0 : kind, particular));
          const whole = emptyTally();
          // In an order other than the seeds': a sweep counts seeds as they finish.
          for (const verdict of [...verdicts].reverse()) recordVerdict(whole, verdict, keep);
          const count = Math.min(wanted, verdicts.length);
          const shards = Array.from({ length: count }, (_, index) => {
            const block = shardSeeds(from, verdicts.length, { index, count });
            const tally = emptyTally();
            for (const verdict of verdicts.slice(block.from - from, block.from - from + block.seeds)) recordVerdict(tally, verdict, keep);
            trimFailures(tally, keep);
            return tally;
          });
          const merged = mergeTallies(shards, keep);
          trimFailures(whole, keep);
          assert.deepEqual(seen(merged), seen(whole));
        },
      ),
    );
  });
});

// ---------------------------------------------------------------- the results file

describe('a shard\'s results file', () => {
  const scenario = readScenarioFile(SCENARIO);
  const sweep = { from: 1, seeds: 7, checkDeterminism: true };
  const shard: Shard = { index: 1, count: 2 };
  const verdicts = [passing(5), failing(6, 'GET returned bit 3 with no SET (kind 2)', true), passing(7)];
  const tally = emptyTally();
  for (const verdict of verdicts) recordVerdict(tally, verdict, 1000);
  const results = shardResults({ version: '0.1.0', scenario, file: SCENARIO, sweep, shard, jobs: 2, tally, outcomes: verdicts.map(outcomeOf).join(''), interrupted: false, wallMs: 10 });

  it('names the scenario, the sweep, the shard\'s block, each seed\'s outcome and the determinism counts, and reads back whole', () => {
    assert.deepEqual(results.shard, { index: 1, count: 2, from: 5, seeds: 3 });
    assert.equal(results.outcomes, '.N.');
    const path = writeShardResults(join(work, 'results'), results);
    assert.equal(path, join(work, 'results', 'sweep-shard-1-of-2.json'));
    assert.deepEqual(readShardResults(path), results);
    assert.match(results.scenario.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(results.determinism, { checked: true, nondeterministicSeeds: 1, sameWorkerPairs: 0 });
    assert.equal(results.failureGroups[0]?.signature, failureSignatureOf(verdicts[1] as SeedVerdict));
  });

  it('refuses, with the file and one line of why, what is not a results file or contradicts itself', () => {
    const refusals: [unknown, RegExp][] = [
      [{ ...results, outcomes: '.N..' }, /4 outcomes for a shard of 3 seeds/],
      [{ ...results, outcomes: '...' }, /do not add up to the totals/],
      [{ ...results, outcomes: '.-.' }, /do not add up/],
      [{ ...results, shard: { ...results.shard, from: 4 } }, /runs 5\.\. \(3\), not 4\.\./],
      [{ ...results, failures: [passing(5)] }, /seed 5 is listed as failing but is not/],
      [{ ...results, formatVersion: 2 }, /results format version 2; this ffa-world reads version 1/],
      [{ ...results, totals: { ...results.totals, done: -1 } }, /totals\.done: /],
      [{ format: 'something else' }, /not a sweep shard's results file/],
    ];
    for (const [json, reason] of refusals) {
      const path = join(work, 'bad.json');
      writeFileSync(path, JSON.stringify(json));
      assert.throws(() => readShardResults(path), (error: Error) => error.name === 'ResultsFileError' && reason.test(error.message) && error.message.startsWith(path) && !error.message.includes('\n'));
    }
    writeFileSync(join(work, 'cut.json'), JSON.stringify(results).slice(0, 100));
    assert.throws(() => readShardResults(join(work, 'cut.json')), /cut\.json: cannot read it as JSON/);
  });
});

// ---------------------------------------------------------------- as a user runs it

type Summary = Record<string, unknown> & { failures: Record<string, unknown>[] };

/** What must not depend on how the seeds were split: everything but times, workers and threads. */
function verdictOfSweep(summary: Summary): unknown {
  const { wallMs: _w, runMs: _r, seedsPerSecond: _s, jobs: _j, sameWorkerPairs: _p, shards: _k, failures, ...rest } = summary;
  return { ...rest, failures: failures.map(({ wallMs: _fw, threadId: _t, second, ...f }) => ({ ...f, second: second === null ? null : { ...(second as object), threadId: 0 } })) };
}

describe('ffa-world sweep --shard and sweep merge', () => {
  const seeds = ['--seeds', '9', '--check-determinism'];
  const out = join(work, 'shards');

  it('merges three shards into exactly the unsharded sweep: the same failing seeds, groups, determinism and totals', () => {
    const whole = ffaWorld('sweep', SCENARIO, ...seeds, '--jobs', '2', '--json');
    assert.equal(whole.status, 1, whole.stdout + whole.stderr);
    for (const index of [0, 1, 2]) {
      // One worker a shard: three shards side by side on a small machine.
      const shard = ffaWorld('sweep', SCENARIO, ...seeds, '--jobs', '1', '--shard', `${index}/3`, '--out', out);
      assert.match(shard.stdout, new RegExp(`^sweep sweep-finds-lost .*: shard ${index}/3, seeds ${1 + 3 * index}\\.\\.${3 + 3 * index} \\(3\\) of 1\\.\\.9,`));
      assert.ok(shard.status === 0 || shard.status === 1, shard.stdout + shard.stderr);
    }
    const merged = ffaWorld('sweep', 'merge', out, '--json');
    assert.equal(merged.status, whole.status, merged.stdout + merged.stderr);
    const expected = JSON.parse(whole.stdout) as Summary;
    const got = JSON.parse(merged.stdout) as Summary;
    assert.ok(Number(expected['failedSeeds']) > 0, 'the scenario fails some of seeds 1..9');
    assert.deepEqual(verdictOfSweep(got), verdictOfSweep(expected));
    assert.deepEqual(got['shards'], { count: 3, merged: [0, 1, 2], missing: [], interrupted: [] });

    const text = ffaWorld('sweep', 'merge', out);
    assert.match(text.stdout, /^sweep merge sweep-finds-lost .*: seeds 1\.\.9 \(9\), runtime sim, 3 of 3 shards, 3 workers in all$/m);
    assert.match(text.stdout, /^ {2}determinism: 9\/9 seeds gave the same history twice/m);
    assert.match(text.stdout, /^ {4}replay: npx ffa-world run .*sweep-finds-lost\.yaml --runtime sim --seed \d+$/m);
  });

  it('says which shards are missing (exit 1) and refuses shards of different sweeps (exit 2)', () => {
    const kept = readFileSync(join(out, 'sweep-shard-1-of-3.json'), 'utf8');
    rmSync(join(out, 'sweep-shard-1-of-3.json'));
    const missing = ffaWorld('sweep', 'merge', out);
    assert.equal(missing.status, 1, missing.stdout + missing.stderr);
    assert.match(missing.stdout, /^ {2}missing shards: 1 of 0\.\.2: their seeds were not run \(ffa-world sweep .* --seeds 9 --from 1 --shard 1\/3 --out DIR runs the first\)$/m);
    assert.match(missing.stdout, /^FAIL .* of 6 seeds .*, incomplete: 1 of 3 shards missing$/m);

    const other = JSON.parse(kept) as { scenario: { sha256: string } };
    other.scenario.sha256 = '0'.repeat(64);
    writeFileSync(join(out, 'sweep-shard-1-of-3.json'), JSON.stringify(other));
    const mixed = ffaWorld('sweep', 'merge', out);
    assert.equal(mixed.status, 2, mixed.stdout + mixed.stderr);
    assert.match(mixed.stderr, /^ffa-world: .*sweep-shard-0-of-3\.json and .*sweep-shard-1-of-3\.json are shards of different sweeps:$/m);
    assert.equal(mixed.stdout, '');
  });

  it('refuses a bad --shard and a merge with no results with exit 2, running nothing', () => {
    const bad = ffaWorld('sweep', SCENARIO, '--seeds', '4', '--shard', '4/4', '--out', join(work, 'never'));
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'ffa-world: --shard 4/4: I must be in 0..3\n');
    assert.equal(bad.stdout, '');
    const empty = ffaWorld('sweep', 'merge', work);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /no shard results in it/);
  });
});
