/**
 * The ABIs the SPMD answers itself, from both worlds (docs/ffa-reference.md §6; TF-A spmd_main.c
 * spmd_smc_handler), and the FFA_VERSION framework exchange with the SPMC. Every test runs a
 * world under both runtimes: normal-world driver → spmd → fake SPMC, plus a secure-side driver.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FFA_FIDS,
  FFA_VERSION_1_0,
  FFA_VERSION_1_1,
  FFA_VERSION_1_2,
  FFA_VERSION_1_3,
  ffaError,
  ffaFeatures,
  ffaIdGet,
  ffaMsgWait,
  ffaSpmIdGet,
  ffaSuccess32,
  ffaVersion,
  registers,
  SPMD_ID,
} from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { patterned, upper } from './test-support/patterns.ts';
import { callsReceived, nwdCall, recordsOf, resultsByLabel, returned, runSpmdWorld, swdCall } from './test-support/world.ts';

const VERSION_NOT_SUPPORTED = registers(0xffff_ffff);
const NOT_SUPPORTED = ffaError('NOT_SUPPORTED');
const FEATURE_SRI = 2;

const version = (requested: number) => ffaVersion.encodeCall({ version: requested });

for (const runtime of RUNTIMES) {
  test(`answers VERSION, ID_GET, SPM_ID_GET, FEATURES and CONSOLE_LOG from each world as TF-A does [${runtime}]`, async () => {
    const entries = await runSpmdWorld(
      {
        fakeSpmc: { version: '1.1' }, // distinct from the request (1.2) and the SPMD's own (1.3)
        nwd: [
          nwdCall('version', version(FFA_VERSION_1_2)),
          nwdCall('version bit 31', registers(FFA_FIDS.FFA_VERSION, 0x8001_0002)),
          nwdCall('id', ffaIdGet.encodeCall({})),
          nwdCall('spm id', ffaSpmIdGet.encodeCall({})),
          nwdCall('features sri', ffaFeatures.encodeCall({ id: FEATURE_SRI })),
          nwdCall('console log', registers(FFA_FIDS.FFA_CONSOLE_LOG_32, 0x41)),
        ],
        swd: [
          swdCall('version', version(FFA_VERSION_1_2)),
          swdCall('version bit 31', registers(FFA_FIDS.FFA_VERSION, 0x8001_0002)),
          swdCall('id', ffaIdGet.encodeCall({})),
          swdCall('spm id', ffaSpmIdGet.encodeCall({})),
          swdCall('features', registers(FFA_FIDS.FFA_FEATURES, FEATURE_SRI, 0xab, 3, 4, 5, 6, 7)),
          swdCall('console log', registers(FFA_FIDS.FFA_CONSOLE_LOG_64, 0x41)),
        ],
      },
      runtime,
    );
    const nwd = resultsByLabel(entries, 'nwd');
    assert.deepEqual(returned(nwd, 'version'), registers(FFA_VERSION_1_1), "the SPMC's framework answer, in w0");
    assert.deepEqual(returned(nwd, 'version bit 31'), VERSION_NOT_SUPPORTED);
    assert.deepEqual(returned(nwd, 'id'), ffaSuccess32(0, 0), 'FFA_NS_ENDPOINT_ID');
    assert.deepEqual(returned(nwd, 'spm id'), ffaSuccess32(0, 0x8000), 'spmc_id');
    assert.deepEqual(returned(nwd, 'features sri'), registers(FFA_FIDS.FFA_SUCCESS_64, FEATURE_SRI), 'forwarded: the fake SPMC echoes it');
    assert.deepEqual(returned(nwd, 'console log'), NOT_SUPPORTED);

    const swd = resultsByLabel(entries, 'swd');
    assert.deepEqual(returned(swd, 'version'), registers(FFA_VERSION_1_3), "the SPMD's own version");
    assert.deepEqual(returned(swd, 'version bit 31'), VERSION_NOT_SUPPORTED);
    assert.deepEqual(returned(swd, 'id'), ffaSuccess32(0, 0x8000), 'spmc_id');
    assert.deepEqual(returned(swd, 'spm id'), ffaSuccess32(0, SPMD_ID));
    assert.deepEqual(returned(swd, 'features'), registers(FFA_FIDS.FFA_SUCCESS_32, FEATURE_SRI, 0xab, 3, 4, 5, 6, 7), 'blanket success, x1..x7 handed back');
    assert.deepEqual(returned(swd, 'console log'), NOT_SUPPORTED);

    const atSpmc = callsReceived(entries, 'spmc');
    assert.deepEqual(
      atSpmc.map((call) => call.regs[0]),
      [BigInt(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32), BigInt(FFA_FIDS.FFA_FEATURES)],
      'only the framework request and the normal-world FEATURES reach the SPMC',
    );
  });

  test(`VERSION from the normal world asks the SPMC with SPMD_FWK_MSG_FFA_VERSION_REQ [${runtime}]`, async () => {
    const callerRegs = [...version(FFA_VERSION_1_2).slice(0, 8), ...upper(patterned(0))]; // x8..x17 patterned
    const entries = await runSpmdWorld(
      { fakeSpmc: { version: '1.2' }, nwd: [nwdCall('version', callerRegs, { vcpu: 3, cpu: 2 })] },
      runtime,
    );
    const [request, ...others] = callsReceived(entries, 'spmc');
    assert.equal(others.length, 0);
    assert.ok(request);
    assert.deepEqual(
      { from: request.from, endpoint: request.endpoint, vcpu: request.vcpu, cpu: request.cpu, conduit: request.conduit },
      { from: 'spmd', endpoint: SPMD_ID, vcpu: 3, cpu: 2, conduit: 'smc' },
      "from the SPMD's ID, on the caller's vCPU and CPU",
    );
    assert.deepEqual(
      request.regs,
      registers(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32, 0xffff_8000, 0x8000_0008, FFA_VERSION_1_2),
      'w1 = SPMD_ID << 16 | spmc_id, w2 = BIT(31) | 8, w3 = the requested version, nothing else',
    );
    const answer = returned(resultsByLabel(entries, 'nwd'), 'version');
    assert.deepEqual(answer.slice(0, 8), registers(FFA_VERSION_1_2).slice(0, 8), 'the version in w0, x1..x7 zero');
    assert.deepEqual(upper(answer), upper(callerRegs), "the caller's x8..x17 untouched");
    const [exchange] = recordsOf(entries, 'spmd', 'spmd-version-exchange');
    assert.deepEqual(exchange, { event: 'spmd-version-exchange', from: 'nwd', requested: '0x00010002', answered: '0x00010002', why: 'framework response' });
  });

  test(`VERSION: a v1.0 SPMC manifest is answered directly; an SPMC that refuses the framework message gives NOT_SUPPORTED [${runtime}]`, async () => {
    const direct = await runSpmdWorld({ spmd: { spmcVersion: '1.0' }, nwd: [nwdCall('version', version(FFA_VERSION_1_2))] }, runtime);
    assert.deepEqual(returned(resultsByLabel(direct, 'nwd'), 'version'), registers(FFA_VERSION_1_0));
    assert.equal(callsReceived(direct, 'spmc').length, 0, 'the SPMC is not asked');

    const refused = await runSpmdWorld({ fakeSpmc: { version: null }, nwd: [nwdCall('version', version(FFA_VERSION_1_2))] }, runtime);
    assert.deepEqual(returned(resultsByLabel(refused, 'nwd'), 'version'), VERSION_NOT_SUPPORTED);
    assert.equal(recordsOf(refused, 'spmd', 'spmd-version-exchange')[0]?.['why'], 'not a framework VERSION response');
  });

  test(`an SPMC that never came up: VERSION is NOT_SUPPORTED and nothing is forwarded [${runtime}]`, async () => {
    const entries = await runSpmdWorld(
      {
        spmd: { spmcReadiness: 'on-first-msg-wait' },
        nwd: [
          nwdCall('version', version(FFA_VERSION_1_2)),
          nwdCall('features', ffaFeatures.encodeCall({ id: FEATURE_SRI })),
          nwdCall('id', ffaIdGet.encodeCall({})),
        ],
        // The secure side reports a failed initialisation: the SPMC stays down.
        swd: [swdCall('boot error', ffaError('ABORTED')), swdCall('version', version(FFA_VERSION_1_2)), swdCall('msg wait', ffaMsgWait.encodeCall({}))],
      },
      runtime,
    );
    const nwd = resultsByLabel(entries, 'nwd');
    assert.deepEqual(returned(nwd, 'version'), VERSION_NOT_SUPPORTED);
    assert.deepEqual(returned(nwd, 'features'), NOT_SUPPORTED);
    assert.deepEqual(returned(nwd, 'id'), ffaSuccess32(0, 0), 'answered by the SPMD whatever the SPMC state');
    const swd = resultsByLabel(entries, 'swd');
    assert.deepEqual(returned(swd, 'boot error'), ffaSuccess32(), 'acknowledged');
    assert.deepEqual(returned(swd, 'version'), VERSION_NOT_SUPPORTED);
    assert.deepEqual(returned(swd, 'msg wait'), NOT_SUPPORTED, 'after boot, MSG_WAIT goes to the normal world, and none is configured');
    assert.equal(callsReceived(entries, 'spmc').length, 0);
    assert.deepEqual(recordsOf(entries, 'spmd', 'spmd-spmc-state').map((r) => r['state']), ['off']);
  });

  test(`the SPMC's first FFA_MSG_WAIT brings it up [${runtime}]`, async () => {
    const entries = await runSpmdWorld(
      {
        spmd: { spmcReadiness: 'on-first-msg-wait' },
        swd: [
          swdCall('version before', version(FFA_VERSION_1_2)),
          swdCall('msg wait', ffaMsgWait.encodeCall({})),
          swdCall('version after', version(FFA_VERSION_1_2)),
        ],
      },
      runtime,
    );
    const swd = resultsByLabel(entries, 'swd');
    assert.deepEqual(returned(swd, 'version before'), VERSION_NOT_SUPPORTED);
    assert.deepEqual(returned(swd, 'msg wait'), ffaSuccess32());
    assert.deepEqual(returned(swd, 'version after'), registers(FFA_VERSION_1_3));
    assert.deepEqual(recordsOf(entries, 'spmd', 'spmd-spmc-state').map((r) => r['state']), ['on']);
  });
}
