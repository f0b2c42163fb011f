/**
 * Settings beside a scenario file (`--set KEY=VALUE`): written into the document before the
 * reader's passes, so a set value is judged as the file's own, and a refusal names the setting.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readScenarioText, ScenarioError } from './index.ts';
import { parseSetting } from './settings.ts';

const FILE = [
  'name: settings-under-test',
  'world:',
  '  cpus: 2',
  '  spmc: { profile: optee }',
  '  hypervisor: { profile: xen }',
  '  vms: [{ name: vm1, driver: raw }]',
  'steps:',
  '  - { from: vm1, call: FFA_VERSION, args: { version: "1.2" }, expect: { version: "1.2" } }',
].join('\n');

const read = (...settings: [string, string][]) => readScenarioText(FILE, 'under-test.yaml', settings.map(([key, value]) => ({ key, value })));

/** The refusal's message; fails when the scenario reads. */
function refusal(...settings: [string, string][]): string {
  try {
    read(...settings);
  } catch (error) {
    assert.ok(error instanceof ScenarioError, String(error));
    return error.message;
  }
  assert.fail(`read with ${JSON.stringify(settings)}`);
}

describe('scenario settings', () => {
  it('replace the file\'s values, make the mappings a file leaves out, and are kept on the scenario', () => {
    const scenario = read(['spmc.profile', 'hafnium'], ['world.cpus', '4'], ['hypervisor.policies.guestInterrupts', 'npi-only'], ['vms.0.vcpus', '3']);
    assert.equal(scenario.world.spmc.profile, 'hafnium');
    assert.equal(scenario.world.cpus, 4);
    assert.deepEqual(scenario.world.hypervisor.policies, { guestInterrupts: 'npi-only' });
    assert.equal(scenario.world.vms[0]?.vcpus, 3);
    assert.deepEqual(scenario.settings?.map((s) => s.key), ['spmc.profile', 'world.cpus', 'hypervisor.policies.guestInterrupts', 'vms.0.vcpus']);
    assert.equal(read().settings, undefined);
  });

  it('read a value as the file would: a version as written, hex as an integer', () => {
    assert.equal(read(['spmc.ffaVersion', '1.10']).world.spmc.ffaVersion, '1.10');
    assert.equal(read(['cpus', '0x3']).world.cpus, 3);
  });

  it('refuse an unknown key with the keys the mapping takes, naming the setting', () => {
    assert.equal(
      refusal(['spmc.profle', 'hafnium']),
      "under-test.yaml: --set spmc.profle=hafnium: world.spmc: unknown key 'profle': did you mean 'profile'? world.spmc takes profile, ffaVersion, policies, vmSlots, partitions",
    );
  });

  it('refuse a value the world does not take, as the file\'s own would be', () => {
    assert.match(refusal(['spmc.profile', 'tfa']), /--set spmc\.profile=tfa: world\.spmc\.profile: must be one of optee, hafnium, got "tfa"/);
    assert.match(refusal(['cpus', '99']), /--set cpus=99: world\.cpus: must be an integer in 1\.\.64, got 99/);
    assert.match(refusal(['cpus', '{ a: 1 }']), /--set cpus=\{ a: 1 \}: world\.cpus: must be one YAML value/);
  });

  it('refuse a policy the component does not have, or a value it does not take (the component\'s own check)', () => {
    assert.match(refusal(['hypervisor.policies.guestInterrupts', 'bogus']), /--set hypervisor\.policies\.guestInterrupts=bogus: .*"bogus" is not one of "npi-and-sri", "npi-only"/);
    assert.match(refusal(['spmc.policies.noSuchPolicy', '1']), /--set spmc\.policies\.noSuchPolicy=1: .*is not a policy of the SPMC/);
    assert.match(refusal(['vms.0.policies.maxIdsQuirk', 'maybe']), /--set vms\.0\.policies\.maxIdsQuirk=maybe: .*must be true or false/);
  });

  it('refuse a path the file\'s lists and values cannot have', () => {
    assert.match(refusal(['vms.3.driver', 'raw']), /--set vms\.3\.driver=raw: world\.vms: is a list of 1: it has no item 3/);
    assert.match(refusal(['vms.vm1.driver', 'raw']), /world\.vms: is a list: name an item by its index \(0\.\.0\), not 'vm1'/);
    assert.match(refusal(['cpus.max', '1']), /--set cpus\.max=1: world\.cpus: is a value \(2\), not a mapping or a list/);
    assert.match(refusal(['spmc.partitions.0.id', '0x8001']), /world\.spmc\.partitions: is not in the file, so it has no item 0/);
  });

  it('parse KEY=VALUE and refuse a malformed key or an empty value', () => {
    assert.deepEqual(parseSetting('spmc.profile=hafnium'), { key: 'spmc.profile', value: 'hafnium' });
    assert.deepEqual(parseSetting('vms.0.policies.workJitterNs=0'), { key: 'vms.0.policies.workJitterNs', value: '0' });
    assert.match(String(parseSetting('spmc.profile')), /is not KEY=VALUE/);
    assert.match(String(parseSetting('spmc.profile=')), /has no value/);
    assert.match(String(parseSetting('spmc..profile=x')), /neither a key .* nor a list index/);
    assert.match(String(parseSetting('world=x')), /names the whole world/);
  });
});
