/**
 * The SPMD as a component: its config, that it stays a relay while forwards are pending, a world
 * with no SPMC in it, and what it writes into the history.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FFA_FIDS, FFA_VERSION_1_2, ffaError, ffaFeatures, ffaSuccess32, ffaVersion, registers } from '../../shared/ffa/index.ts';
import { RUNTIMES, runWorldInMemory } from '../../shared/runtime/run-world.ts';
import { SpmdConfigError, validateSpmdConfig } from './config.ts';
import { patterned, withRegister } from './test-support/patterns.ts';
import { HOLD_MARKER, RELEASE_MARKER } from './test-support/fake-spmc.ts';
import { callsReceived, nwdCall, recordsOf, resultsByLabel, returned, runSpmdWorld, spmdWorldSpec, swdCall } from './test-support/world.ts';

const SUCCESS_64 = BigInt(FFA_FIDS.FFA_SUCCESS_64);

test('validateSpmdConfig fills in the defaults', () => {
  assert.deepEqual(validateSpmdConfig({}), {
    spmc: 'spmc',
    secureSide: new Set(['spmc']),
    spmcId: 0x8000,
    spmcVersion: 0x1_0002,
    spmdVersion: 0x1_0003,
    normalWorld: null,
    spmcReadiness: 'at-start',
    maxPendingForwards: 256,
  });
  assert.equal(validateSpmdConfig(undefined).spmc, 'spmc');
  assert.deepEqual(validateSpmdConfig({ spmc: 'optee', secureSide: ['optee', 'sp-driver'], normalWorld: 'xen' }).secureSide, new Set(['optee', 'sp-driver']));
});

test('validateSpmdConfig refuses a bad config with an error that names the field', () => {
  const bad: [unknown, RegExp][] = [
    [{ spmcId: 0x1234 }, /spmcId must be a 16-bit ID with bit 15 set/],
    [{ spmcId: 0x1_8000 }, /spmcId/],
    [{ spmcVersion: '2.0' }, /spmcVersion 2\.0 is not supported by an SPMD at 1\.3/],
    [{ spmcVersion: '1.4' }, /spmcVersion 1\.4 is not supported/],
    [{ spmcVersion: 'v1.2' }, /spmcVersion must be "MAJOR\.MINOR"/],
    [{ spmdVersion: 12 }, /spmdVersion must be "MAJOR\.MINOR"/],
    [{ secureSide: ['sp'] }, /secureSide must include the SPMC "spmc"/],
    [{ secureSide: 'spmc' }, /secureSide must be an array/],
    [{ spmc: '' }, /spmc must be a non-empty component name/],
    [{ normalWorld: 'spmc' }, /normalWorld "spmc" is listed in secureSide/],
    [{ spmcReadiness: 'later' }, /spmcReadiness must be one of at-start, on-first-msg-wait/],
    [{ maxPendingForwards: 0 }, /maxPendingForwards must be an integer in 1\.\.65536/],
    [{ spmcID: 0x8000 }, /unknown key 'spmcID': did you mean 'spmcId'\?/],
    [[], /must be an object/],
  ];
  for (const [config, message] of bad) {
    assert.throws(() => validateSpmdConfig(config), (error: unknown) => error instanceof SpmdConfigError && error.code === 'SPMD_CONFIG_INVALID' && message.test(error.message), JSON.stringify(config));
  }
});

for (const runtime of RUNTIMES) {
  test(`a world whose SPMD config is bad does not start, and says why [${runtime}]`, async () => {
    const spec = spmdWorldSpec({ spmd: { spmcId: 0x10 }, nwd: [nwdCall('id get', registers(FFA_FIDS.FFA_ID_GET))] });
    await assert.rejects(runWorldInMemory(spec, { runtime, timeoutMs: 10_000 }), /spmd config: spmcId must be a 16-bit ID with bit 15 set/);
  });

  test(`stays responsive while a forward is pending [${runtime}]`, async () => {
    const hold = withRegister(patterned(FFA_FIDS.FFA_MEM_SHARE_64, 1), 1, HOLD_MARKER);
    const release = withRegister(patterned(FFA_FIDS.FFA_MEM_SHARE_64, 2), 1, RELEASE_MARKER);
    const entries = await runSpmdWorld(
      {
        nwd: [nwdCall('held share', hold)],
        // Starts later, on another endpoint and vCPU: answered and forwarded while 'held share' waits.
        nwd2: [
          nwdCall('id get', registers(FFA_FIDS.FFA_ID_GET), { endpoint: 2, vcpu: 1, cpu: 1, delayNs: 50_000_000 }),
          nwdCall('features', ffaFeatures.encodeCall({ id: 2 }), { endpoint: 2, vcpu: 1, cpu: 1 }),
          nwdCall('release', release, { endpoint: 2, vcpu: 1, cpu: 1 }),
        ],
      },
      runtime,
    );
    assert.deepEqual(returned(resultsByLabel(entries, 'nwd'), 'held share'), [SUCCESS_64, ...hold.slice(1)]);
    const nwd2 = resultsByLabel(entries, 'nwd2');
    assert.deepEqual(returned(nwd2, 'id get'), ffaSuccess32(0, 0));
    assert.deepEqual(returned(nwd2, 'features'), registers(FFA_FIDS.FFA_SUCCESS_64, 2));
    assert.deepEqual(returned(nwd2, 'release'), [SUCCESS_64, ...release.slice(1)]);
    if (runtime === 'sim') {
      // Under sim the 50 ms head start is exact, so the share was held when the others passed.
      assert.deepEqual(recordsOf(entries, 'spmc', 'fake-spmc-hold').length, 1);
      assert.deepEqual(recordsOf(entries, 'spmc', 'fake-spmc-release')[0]?.['held'], 1);
    }
  });

  test(`with no SPMC in the world, forwards and the VERSION exchange are refused [${runtime}]`, async () => {
    const entries = await runSpmdWorld(
      {
        fakeSpmc: null,
        nwd: [
          nwdCall('version', ffaVersion.encodeCall({ version: FFA_VERSION_1_2 })),
          nwdCall('features', ffaFeatures.encodeCall({ id: 2 })),
          nwdCall('share', patterned(FFA_FIDS.FFA_MEM_SHARE_64)),
          nwdCall('id get', registers(FFA_FIDS.FFA_ID_GET)),
        ],
        swd: [swdCall('id get', registers(FFA_FIDS.FFA_ID_GET))],
      },
      runtime,
    );
    const nwd = resultsByLabel(entries, 'nwd');
    assert.deepEqual(returned(nwd, 'version'), registers(0xffff_ffff));
    assert.deepEqual(returned(nwd, 'features'), ffaError('NOT_SUPPORTED'));
    assert.deepEqual(returned(nwd, 'share').slice(0, 8), ffaError('NOT_SUPPORTED').slice(0, 8));
    assert.deepEqual(returned(nwd, 'id get'), ffaSuccess32(0, 0));
    assert.deepEqual(returned(resultsByLabel(entries, 'swd'), 'id get'), ffaSuccess32(0, 0x8000));
    assert.deepEqual(
      recordsOf(entries, 'spmd', 'spmd-forward-failed').map((r) => [r['abi'], r['reason']]),
      [['FFA_FEATURES', 'unreachable'], ['FFA_MEM_SHARE_64', 'unreachable']],
    );
  });

  test(`records its configuration and each decision in the history [${runtime}]`, async () => {
    const entries = await runSpmdWorld(
      {
        nwd: [nwdCall('id get', registers(FFA_FIDS.FFA_ID_GET)), nwdCall('share', patterned(FFA_FIDS.FFA_MEM_SHARE_32))],
        swd: [swdCall('bind', registers(FFA_FIDS.FFA_NOTIFICATION_BIND))],
      },
      runtime,
    );
    assert.deepEqual(recordsOf(entries, 'spmd', 'spmd-start'), [
      {
        event: 'spmd-start',
        spmc: 'spmc',
        secureSide: ['spmc', 'swd'],
        spmcId: 0x8000,
        spmcVersion: '1.2',
        spmdVersion: '1.3',
        normalWorld: null,
        spmcState: 'on',
        maxPendingForwards: 256,
      },
    ]);
    const answers = recordsOf(entries, 'spmd', 'spmd-answer').map(({ abi, fid, from, origin, w0 }) => ({ abi, fid, from, origin, w0 }));
    assert.deepEqual(new Set(answers.map((a) => JSON.stringify(a))), new Set([
      JSON.stringify({ abi: 'FFA_ID_GET', fid: '0x84000069', from: 'nwd', origin: 'nwd', w0: '0x84000061' }),
      JSON.stringify({ abi: 'FFA_NOTIFICATION_BIND', fid: '0x8400007f', from: 'swd', origin: 'swd', w0: '0x84000060' }),
    ]));
    assert.deepEqual(recordsOf(entries, 'spmd', 'spmd-forward'), [
      { event: 'spmd-forward', abi: 'FFA_MEM_SHARE_32', fid: '0x84000073', from: 'nwd', origin: 'nwd', to: 'spmc', carried: 'x0-x7', versions: '1.2>1.2' },
    ]);
    assert.deepEqual(recordsOf(entries, 'spmd', 'spmd-return'), [
      { event: 'spmd-return', abi: 'FFA_MEM_SHARE_32', from: 'spmc', to: 'nwd', w0: '0xc4000061', carried: 'x0-x17' },
    ]);
    assert.equal(callsReceived(entries, 'spmc').length, 1);
  });
}
