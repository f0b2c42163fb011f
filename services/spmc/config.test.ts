/**
 * The SPMC's configuration: profiles as bundles of policy values, single-policy overrides, the
 * defaults of docs/scenarios.md, and a clear error at create for a bad config (a world with one
 * fails to start under both runtimes, naming the field).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPTEE_SP_ID, OPTEE_UUID, SPMC_ID } from '../../shared/ffa/index.ts';
import type { WorldSpec } from '../../shared/runtime/component.ts';
import { RUNTIMES, runWorldInMemory } from '../../shared/runtime/run-world.ts';
import { resolveSpmcConfig, SpmcConfigError } from './config.ts';
import { POLICY_NAMES } from './policies.ts';
import { PROFILES } from './profiles.ts';

describe('SPMC config', () => {
  it('defaults to the optee profile with OP-TEE\'s logical SP 0x8001 on every CPU', () => {
    const config = resolveSpmcConfig({ cpus: 2 });
    assert.equal(config.profile, 'optee');
    assert.equal(config.spmcId, SPMC_ID);
    assert.equal(config.vmSlots, 2); // CFG_VIRT_GUEST_COUNT
    assert.equal(config.spmd, 'spmd');
    assert.deepEqual(config.relayFrom, []);
    assert.equal(config.gic, null);
    assert.deepEqual(config.partitions, [
      { id: OPTEE_SP_ID, name: 'optee', uuid: OPTEE_UUID, vcpus: 2, ffaVersion: 0x1_0002, notifications: false, messaging: ['direct', 'vm-created', 'vm-destroyed'], behaviour: 'optee' },
    ]);
  });

  it('gives every policy a value in both profiles, and overrides one at a time', () => {
    for (const profile of Object.values(PROFILES)) assert.deepEqual(Object.keys(profile.policies).sort(), [...POLICY_NAMES].sort());
    const config = resolveSpmcConfig({ profile: 'hafnium', policies: { sriIntid: 9, infoGetDestructiveness: 'none' } });
    assert.equal(config.policies.sriIntid, 9);
    assert.equal(config.policies.infoGetDestructiveness, 'none');
    assert.equal(config.policies.bindingModel, 'sender-per-bit');
    assert.equal(config.vmSlots, 16);
  });

  const BAD: [string, unknown, RegExp][] = [
    ['an unknown key', { profiles: 'optee' }, /\(root\): unknown key 'profiles': did you mean 'profile'\?/],
    ['an unknown profile', { profile: 'tf-a' }, /profile: must be one of optee, hafnium/],
    ['an unknown policy', { policies: { fastPath: true } }, /policies\.fastPath: is not a policy/],
    ['a bad policy value', { policies: { sriTiming: 'later' } }, /policies\.sriTiming: .*"later" is not one of/],
    ['an INTID out of range', { policies: { sriIntid: 5000 } }, /policies\.sriIntid/],
    ['a non-secure partition ID', { partitions: [{ id: 0x0042 }] }, /partitions\[0\]\.id: 0x42 is not a secure partition ID/],
    ['the SPMC\'s own ID', { partitions: [{ id: SPMC_ID }] }, /partitions\[0\]\.id: 0x8000 is the SPMC's own ID/],
    ['an SPMD logical partition ID', { partitions: [{ id: 0xffc1 }] }, /SPMD logical partition range/],
    ['a duplicate partition ID', { partitions: [{ id: 0x8001 }, { id: 0x8001 }] }, /partitions\[1\]\.id: 0x8001 is used twice/],
    ['two OP-TEE partitions', { partitions: [{ id: 0x8001, behaviour: 'optee' }, { id: 0x8002, behaviour: 'optee' }] }, /at most one partition may have behaviour optee/],
    ['a bad UUID', { partitions: [{ id: 0x8001, uuid: 'not-a-uuid' }] }, /partitions\[0\]\.uuid: must be a UUID/],
    ['a bad behaviour', { partitions: [{ id: 0x8001, behaviour: 'chatty' }] }, /partitions\[0\]\.behaviour/],
    ['a bad messaging method', { partitions: [{ id: 0x8001, messaging: ['carrier-pigeon'] }] }, /partitions\[0\]\.messaging/],
    ['too many vCPUs', { partitions: [{ id: 0x8001, vcpus: 65 }] }, /partitions\[0\]\.vcpus: must be an integer in 1\.\.64/],
    ['an FF-A 2.x version', { ffaVersion: '2.0' }, /ffaVersion: must be an FF-A 1\.x version/],
    ['no VM slots', { vmSlots: 0 }, /vmSlots: must be an integer in 1\.\.1024/],
    ['a bad CPU count', { cpus: 0 }, /cpus: must be an integer in 1\.\.64/],
    ['a non-secure SPMC ID', { spmcId: 0x10 }, /spmcId/],
    ['a bad relay list', { relayFrom: 'driver' }, /relayFrom: must be a list/],
  ];
  for (const [what, config, message] of BAD) {
    it(`refuses ${what}`, () => {
      assert.throws(() => resolveSpmcConfig(config), (error: unknown) => error instanceof SpmcConfigError && message.test(error.message));
    });
  }

  for (const runtime of RUNTIMES) {
    it(`a world with a bad SPMC config does not start, and says why (${runtime})`, async () => {
      const spec: WorldSpec = {
        seed: 1,
        components: [
          { name: 'driver', role: 'test', module: 'shared/runtime/test-world/driver.ts', config: { steps: [] } },
          { name: 'spmc', role: 'spmc', module: 'services/spmc/spmc.ts', config: { profile: 'optee', policies: { sriTiming: 'later' } } },
        ],
        links: [['driver', 'spmc']],
        finishers: ['driver'],
      };
      await assert.rejects(runWorldInMemory(spec, { runtime, timeoutMs: 20_000 }), /spmc config: policies\.sriTiming/);
    });
  }
});
