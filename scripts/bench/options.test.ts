import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchPlan, isPlan, SECTIONS } from './options.ts';

describe('bench options', () => {
  it('no arguments: every section, the full runs', () => {
    const plan = benchPlan([]);
    assert.ok(isPlan(plan));
    assert.deepEqual([...plan.sections], [...SECTIONS]);
    assert.equal(plan.quick, false);
    assert.equal(plan.withinP99, true);
    assert.equal(plan.onePlatformWorker, true);
  });

  it('--quick: shorter runs, without the thousand guests unless named', () => {
    const plan = benchPlan(['--quick']);
    assert.ok(isPlan(plan));
    assert.equal(plan.sections.has('thousand'), false);
    assert.ok(plan.worldDurationMs < 2_000 && plan.withinP99 === false && plan.onePlatformWorker === false);
    const named = benchPlan(['--quick', '--only', 'thousand,chain']);
    assert.ok(isPlan(named));
    assert.deepEqual([...named.sections].sort(), ['chain', 'thousand']);
  });

  it('refuses an unknown section, an empty list and an unknown flag, with the usage', () => {
    for (const args of [['--only', 'chain,warp'], ['--only', ' , '], ['--fast']]) {
      const plan = benchPlan(args);
      assert.ok(!isPlan(plan), args.join(' '));
      assert.equal(plan.exitCode, 2);
      assert.match(plan.message, /usage: npm run bench/);
    }
    const unknown = benchPlan(['--only', 'chain,warp']);
    assert.ok(!isPlan(unknown) && /not warp/.test(unknown.message));
  });

  it('--help: the usage, exit 0', () => {
    const help = benchPlan(['--help']);
    assert.ok(!isPlan(help));
    assert.equal(help.exitCode, 0);
  });
});
