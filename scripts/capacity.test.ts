import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capacityReplay, parseCapacityOptions, runCapacity, type CapacityCommand } from './capacity.ts';
import { parseLoadOptions } from './load.ts';

const OPTIONS = { rates: '1000,4000', guests: '4', spmc: 'optee,hafnium', count: '60', seed: '21' };

function parsed(options: Record<string, unknown>): CapacityCommand {
  const command = parseCapacityOptions(options);
  if (typeof command === 'string') assert.fail(command);
  return command;
}

test('capacity curves under sim are the same for one seed, run after run', async () => {
  const command = parsed(OPTIONS);
  const first = await runCapacity(command);
  const second = await runCapacity(command);
  assert.equal(first.points.length, 4);
  assert.deepEqual(second, first);
  assert.ok(first.points.every((p) => p.passed && p.callbacksPerSecond > 0));
  assert.equal(first.serviceTimes, 'cortex-a57-estimate');
});

test('capacity options: sim only, --rate or --rates, lists bounded, one seed for the grid, and a replay that says it all', () => {
  assert.match(String(parseCapacityOptions({ ...OPTIONS, runtime: 'ws' })), /--runtime sim only/);
  assert.match(String(parseCapacityOptions({ ...OPTIONS, rate: '100/s' })), /not both/);
  assert.match(String(parseCapacityOptions({ ...OPTIONS, rates: Array.from({ length: 21 }, (_, i) => i + 1).join(',') })), /1\.\.20/);
  assert.match(String(parseCapacityOptions({ ...OPTIONS, guests: '4,x' })), /--guests/);
  const { seed: _seed, ...unseeded } = OPTIONS;
  const command = parsed(unseeded);
  assert.equal(typeof command.base.seed, 'number');
  assert.equal(
    capacityReplay(parsed(OPTIONS)),
    'npx ffa-world load --runtime sim --rates 1000,4000 --guests 4 --spmc optee,hafnium --vcpus 2 --cpus 4 --count 60 --service-times cortex-a57-estimate --seed 21',
  );
});

test('a load under sim takes the default service times; ws takes none and refuses a table', () => {
  const sim = parseLoadOptions({ runtime: 'sim', seed: '1' }, false);
  assert.equal(typeof sim === 'string' ? sim : sim.serviceTimes, 'cortex-a57-estimate');
  const none = parseLoadOptions({ runtime: 'sim', seed: '1', serviceTimes: 'none' }, false);
  assert.equal(typeof none === 'string' ? none : none.serviceTimes, null);
  const ws = parseLoadOptions({ runtime: 'ws', seed: '1' }, false);
  assert.equal(typeof ws === 'string' ? ws : ws.serviceTimes, null);
  assert.match(String(parseLoadOptions({ runtime: 'ws', serviceTimes: 'cortex-a57-estimate' }, false)), /for --runtime sim/);
  assert.match(String(parseLoadOptions({ runtime: 'sim', serviceTimes: 'fast' }, false)), /must be one of none, cortex-a57-estimate/);
});
