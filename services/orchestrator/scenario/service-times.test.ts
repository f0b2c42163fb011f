import assert from 'node:assert/strict';
import { test } from 'node:test';
import { orchestratorConfig } from '../run/runner.ts';
import { buildWorldSpec } from '../run/world-builder.ts';
import { readScenarioText, ScenarioError } from './reader/index.ts';
import { SERVICE_TIME_NAMES, serviceTimeTable } from './service-times.ts';

const scenario = (serviceTimes: string) => `name: timed
world:
  cpus: 2
  serviceTimes: ${serviceTimes}
  vms: [{ name: vm1, vcpus: 2 }]
steps: [{ await: idle }]
`;

test('world.serviceTimes names a table, reaches the world spec with each vCPU\'s CPU, and is off by default', () => {
  const timed = readScenarioText(scenario('cortex-a57-estimate'), 'timed.yaml');
  assert.equal(timed.world.serviceTimes, 'cortex-a57-estimate');
  const spec = buildWorldSpec(timed, 1, orchestratorConfig(timed, 'sim', 1));
  assert.deepEqual(spec.serviceTimes?.vcpuPlacement, { vm1: [0, 1] });
  assert.equal(spec.serviceTimes?.table, serviceTimeTable('cortex-a57-estimate'));
  const plain = readScenarioText(scenario('none'), 'plain.yaml');
  assert.equal(buildWorldSpec(plain, 1, orchestratorConfig(plain, 'sim', 1)).serviceTimes, undefined);
});

test('an unknown table is refused at its line, naming the tables there are', () => {
  assert.throws(() => readScenarioText(scenario('fastest'), 'bad.yaml'), (error: unknown) => {
    assert.ok(error instanceof ScenarioError);
    assert.match(error.message, /bad\.yaml:4/);
    for (const name of SERVICE_TIME_NAMES) assert.ok(error.message.includes(name), error.message);
    return true;
  });
});
