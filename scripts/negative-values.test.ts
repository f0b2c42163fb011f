import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cac } from 'cac';
import { joinNegativeValues, valueOptionsOf } from './negative-values.ts';

test('`--opt -N` becomes `--opt=-N` for options that take a value, and only for those', () => {
  const cli = cac('x');
  cli.command('run [...files]').option('--seed <n>', 'seed').option('--rate [r]', 'rate').option('--json', 'json');
  const options = valueOptionsOf(cli);
  assert.deepEqual([...options].sort(), ['--rate', '--seed']);
  assert.deepEqual(joinNegativeValues(['run', '--seed', '-1', '--rate', '-5/s', '--json', '-2', 'f.yaml'], options), ['run', '--seed=-1', '--rate=-5/s', '--json', '-2', 'f.yaml']);
  assert.deepEqual(joinNegativeValues(['--seed', '-.5', '--seed', '-x', '--', '--seed', '-1'], options), ['--seed=-.5', '--seed', '-x', '--', '--seed', '-1']);
});
