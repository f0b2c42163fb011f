/**
 * The GIC's configuration: defaults seen through the runtime (groups of SGIs 8-15, the SRI's
 * priority), and bad configurations refused at create with an error that names the field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { GicConfigError, validateGicConfig } from './config.ts';
import { RIGHTS } from './test-support/configs.ts';
import { awaitPhysical, awaitRefusal, physical, send, sync } from './test-support/frames.ts';
import { deliveries, records, recordsWhere } from './test-support/history.ts';
import { runGicWorld } from './test-support/run.ts';

for (const runtime of RUNTIMES) {
  describe(`gic configuration defaults (${runtime})`, () => {
    it('makes SGIs 8-15 secure unless donated, keeps the SRI non-secure at priority 0xF0', async () => {
      const entries = await runGicWorld(
        {
          // An FVP-like OP-TEE: the SRI is SGI 9 and nothing else is donated.
          gic: { cpus: 2, donatedSgis: [], sriIntid: 9, rights: RIGHTS },
          actors: {
            hypervisor: {
              autoAck: true,
              autoEoi: true,
              steps: [
                send(physical('raise', 8, 0)), // secure here
                awaitRefusal('INVALID_FIELD'),
                send(physical('raise', 9, 0)), // the SRI, at 0xF0
                send(physical('raise', 1, 0)), // 0xA0: delivered first once someone listens
                send(physical('subscribe', 0, 0)),
                awaitPhysical(9, 0),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(
        recordsWhere(entries, 'gic-refused', { intid: 8 }).map((r) => r['reason']),
        ['group-mismatch'],
      );
      assert.deepEqual(
        deliveries(entries, 'hypervisor').map((d) => d.intid),
        [1, 9],
      );
      const start = records(entries, 'gic-start')[0];
      assert.deepEqual([start?.['sriIntid'], start?.['sriPriority'], start?.['donatedSgis']], [9, 0xf0, []]);
    });
  });
}

describe('gic configuration validation', () => {
  const bad: [string, unknown, RegExp][] = [
    ['no cpus', {}, /cpus is missing: add it \(an integer in 1\.\.256\)/],
    ['too many CPUs', { cpus: 1000 }, /cpus must be an integer in 1\.\.256/],
    ['an unknown field', { cpus: 1, colour: 'blue' }, /unknown key 'colour'/],
    ['too many SPIs', { cpus: 1, spis: 989 }, /spis must be an integer in 0\.\.988/],
    ['a donated SGI outside 8..15', { cpus: 1, donatedSgis: [3] }, /donatedSgis\[0\] must be an integer in 8\.\.15/],
    ['an SPI as the SRI', { cpus: 1, sriIntid: 40 }, /sriIntid must be an SGI or a PPI/],
    ['a priority beyond 8 bits', { cpus: 1, defaultPriority: 256 }, /defaultPriority must be an integer in 0\.\.255/],
    ['17 list registers', { cpus: 1, listRegisters: 17 }, /listRegisters must be an integer in 1\.\.16/],
    ['a setting for a CPU that does not exist', { cpus: 2, interrupts: [{ intid: 1, cpu: 2 }] }, /interrupts\[0\]\.cpu must be an integer in 0\.\.1/],
    ['a banked setting with a target CPU', { cpus: 2, interrupts: [{ intid: 1, targetCpu: 1 }] }, /targetCpu applies to SPIs only/],
    ['an SPI setting with a CPU copy', { cpus: 2, interrupts: [{ intid: 33, cpu: 1 }] }, /cpu applies to SGIs and PPIs only/],
    ['rights for a CPU that does not exist', { cpus: 2, rights: { hypervisor: { subscribePhysical: [2] } } }, /rights\.hypervisor\.subscribePhysical\[0\]/],
    ['rights to an SP as a VM', { cpus: 2, rights: { vm1: { raiseVirtual: [0x8001] } } }, /rights\.vm1\.raiseVirtual\[0\]/],
    ['an unknown right', { cpus: 2, rights: { vm1: { fly: true } } }, /rights\.vm1: unknown key 'fly'/],
    ['a world that is not a group', { cpus: 2, rights: { spmc: { world: 'realm' } } }, /rights\.spmc\.world must be 'secure' or 'nonsecure'/],
  ];
  for (const [what, config, message] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(() => validateGicConfig(config), (error: unknown) => error instanceof GicConfigError && message.test(error.message));
    });
  }

  it('fills in the defaults', () => {
    const config = validateGicConfig({ cpus: 4 });
    assert.deepEqual(
      [config.spis, [...config.donatedSgis], config.sriIntid, config.sriPriority, config.defaultPriority, config.listRegisters],
      [32, [8, 9], 8, 0xf0, 0xa0, 4],
    );
    assert.equal(config.rights.size, 0);
  });
});
