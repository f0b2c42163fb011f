/**
 * driver → spmd → the real SPMC (services/spmc).
 * Only what the reference fixes about the pair is checked: the SPMD's VERSION exchange gets a v1.x
 * answer no newer than 1.2 (OP-TEE spmc_exchange_version caps at 1.2, docs/ffa-reference.md §7), a forwarded
 * FEATURES comes back as an FF-A result, and the SPMD's own answers do not depend on the SPMC.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeResult, FFA_FIDS, FFA_VERSION_1_2, ffaError, ffaFeatures, ffaSuccess32, ffaVersion, isValidVersion, registers, versionMajor, w } from '../../shared/ffa/index.ts';
import type { WorldSpec } from '../../shared/runtime/component.ts';
import { RUNTIMES, runWorldInMemory } from '../../shared/runtime/run-world.ts';
import { driverResults } from '../../shared/runtime/test-world/driver.ts';
import { nwdCall, recordsOf, swdCall } from './test-support/world.ts';

const REAL_SPMC_MODULE = 'services/spmc/spmc.ts';

function realSpmcWorld(): WorldSpec {
  return {
    seed: 1,
    components: [
      {
        name: 'nwd',
        role: 'test',
        module: 'shared/runtime/test-world/driver.ts',
        config: {
          steps: [
            nwdCall('version', ffaVersion.encodeCall({ version: FFA_VERSION_1_2 })),
            nwdCall('features sri', ffaFeatures.encodeCall({ id: 2 })),
            nwdCall('id get', registers(FFA_FIDS.FFA_ID_GET)),
          ],
        },
      },
      { name: 'swd', role: 'test', module: 'shared/runtime/test-world/driver.ts', config: { steps: [swdCall('bitmap create', registers(FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE, 1, 1))] } },
      { name: 'spmd', role: 'spmd', module: 'services/spmd/spmd.ts', config: { spmc: 'spmc', secureSide: ['spmc', 'swd'] } },
      { name: 'spmc', role: 'spmc', module: REAL_SPMC_MODULE, config: { spmd: 'spmd', gic: null } },
    ],
    links: [
      ['nwd', 'spmd'],
      ['swd', 'spmd'],
      ['spmd', 'spmc'],
    ],
    finishers: ['nwd', 'swd'],
  };
}

for (const runtime of RUNTIMES) {
  test(`with the real SPMC behind it, VERSION, FEATURES and the SPMD's own answers work [${runtime}]`, async () => {
    const { entries } = await runWorldInMemory(realSpmcWorld(), { runtime, timeoutMs: 30_000 });
    const nwd = new Map(driverResults(entries, 'nwd').map((result) => [result.label, result.regs]));
    const version = w(nwd.get('version') ?? [], 0);
    assert.ok(isValidVersion(version) && versionMajor(version) === 1 && version <= FFA_VERSION_1_2, `VERSION answered 0x${version.toString(16)}`);
    assert.notEqual(decodeResult(nwd.get('features sri') ?? []).kind, 'other', 'FEATURES comes back as FFA_SUCCESS or FFA_ERROR');
    assert.deepEqual(nwd.get('id get'), ffaSuccess32(0, 0));
    const swd = new Map(driverResults(entries, 'swd').map((result) => [result.label, result.regs]));
    assert.deepEqual(swd.get('bitmap create'), ffaError('NOT_SUPPORTED'));
    assert.ok(recordsOf(entries, 'spmd', 'spmd-forward').some((r) => r['abi'] === 'FFA_FEATURES' && r['to'] === 'spmc'));
  });
}
