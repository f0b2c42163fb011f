/**
 * Setup and discovery under both profiles: FFA_VERSION (the SPMD's framework message and the
 * direct call), FFA_FEATURES per caller, ID_GET, SPM_ID_GET, PARTITION_INFO_GET (count only,
 * descriptors in the caller's RX buffer), and the RX/TX buffers and their ownership.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FFA_FIDS, NIL_UUID, OPTEE_UUID, rxWrite, SPMC_ID, SPMD_ID } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { PartitionConfig } from './config.ts';
import {
  RESP_32,
  features,
  fwk,
  idGet,
  partitionInfoGet,
  rxRelease,
  rxtxMap,
  rxtxUnmap,
  spmIdGet,
  version,
  versionRequest,
  withRegs,
} from './test-support/calls.ts';
import { assertRows, err, nwd, ok, records, regsAre, runTable, sp, type Row } from './test-support/rows.ts';

const INVALID = 'INVALID_PARAMETERS';
const NOT_SUPPORTED = 'NOT_SUPPORTED';
const F = FFA_FIDS;
const ECHO_UUID = 'b510b3a3-59f6-4054-ba7a-ff2eb1eac765';
const RAW_UUID = '1e1c1f4a-5a9e-4b2c-8c9d-0123456789ab';
const UNKNOWN_UUID = '00000000-0000-0000-0000-00000000beef';

const PARTITIONS: PartitionConfig[] = [
  { id: 0x8001, vcpus: 4, behaviour: 'optee' },
  { id: 0x8002, uuid: ECHO_UUID, behaviour: 'echo', messaging: ['direct', 'indirect'] },
  { id: 0x8003, uuid: RAW_UUID, vcpus: 2, notifications: true, ffaVersion: '1.1' },
];

/** Linux arm_ffa.h FFA_PARTITION_*: direct recv 1, send 2, indirect 4, notifications 8, VM created 64, destroyed 128, AArch64 256. */
const descriptors = (opteeProperties: number) => [
  { id: 0x8001, vcpus: 4, properties: opteeProperties, uuid: OPTEE_UUID },
  { id: 0x8002, vcpus: 1, properties: 0x107, uuid: ECHO_UUID },
  { id: 0x8003, vcpus: 2, properties: 0x10b, uuid: RAW_UUID },
];
/** FF-A v1.0 descriptors: 8 bytes, properties bits [2:0], no UUID. */
const v1_0 = (list: ReturnType<typeof descriptors>) => list.map((p) => ({ ...p, properties: p.properties & 0b111, uuid: NIL_UUID }));

const VERSION_RESPONSE = (answer: number) => regsAre({ w: { 0: RESP_32, 1: (SPMC_ID << 16) | SPMD_ID, 2: fwk(9), 3: answer } });

const OPTEE_ROWS: Row[] = [
  // FFA_VERSION (§1.4, §7: spmc_exchange_version)
  nwd('VERSION via the SPMD: 1.1 → 1.1', versionRequest(SPMC_ID, 0x1_0001), VERSION_RESPONSE(0x1_0001)),
  nwd('VERSION: 1.5 → 1.2 (capped at its own)', versionRequest(SPMC_ID, 0x1_0005), VERSION_RESPONSE(0x1_0002)),
  nwd('VERSION: 0.9 → 1.0', versionRequest(SPMC_ID, 0x0_0009), VERSION_RESPONSE(0x1_0000)),
  nwd('VERSION to an SP that is not OP-TEE → INVALID_PARAMETERS', versionRequest(0x8002, 0x1_0002), err(INVALID)),
  sp(0x8003, 'FFA_VERSION from an SP: 1.1 → 1.1', version(0x1_0001), regsAre({ w: { 0: 0x1_0001 } })),
  // FFA_FEATURES (§1.2, §7: handle_features)
  nwd('features(SRI) → 8', features(2), ok({ 2: 8 })),
  nwd('features(SRI) with input properties (not checked) → 8', features(2, 1), ok({ 2: 8 })),
  sp(0x8002, 'features(SRI) from an SP → 8', features(2), ok({ 2: 8 })),
  nwd('features(NPI) → NOT_SUPPORTED', features(1), err(NOT_SUPPORTED)),
  nwd('features(MEI) → success, w2 = 0', features(3), ok({ 2: 0 })),
  nwd('features(NOTIFICATION) → NOT_SUPPORTED', features(4), err(NOT_SUPPORTED)),
  nwd('features(BITMAP_CREATE) → success', features(F.FFA_NOTIFICATION_BITMAP_CREATE), ok({ 2: 0 })),
  nwd('features(INFO_GET_32) → success', features(F.FFA_NOTIFICATION_INFO_GET_32), ok({ 2: 0 })),
  nwd('features(RXTX_MAP_64) → success, 4 KiB minimum', features(F.FFA_RXTX_MAP_64), ok({ 2: 0 })),
  nwd('features(MEM_SHARE_32) → success, w2 = BIT(0)', features(F.FFA_MEM_SHARE_32), ok({ 2: 1 })),
  nwd('features(RUN) → NOT_SUPPORTED (not listed, though dispatched)', features(F.FFA_RUN), err(NOT_SUPPORTED)),
  nwd('features(MSG_SEND2) → NOT_SUPPORTED', features(F.FFA_MSG_SEND2), err(NOT_SUPPORTED)),
  nwd('features(ID_GET) → NOT_SUPPORTED', features(F.FFA_ID_GET), err(NOT_SUPPORTED)),
  nwd('features(an unknown FID) → NOT_SUPPORTED', features(0x8400_00ff), err(NOT_SUPPORTED)),
  // FFA_ID_GET, FFA_SPM_ID_GET (§1.5)
  nwd('ID_GET from the NWd → NOT_SUPPORTED (the SPMD answers it)', idGet(), err(NOT_SUPPORTED)),
  sp(0x8003, 'ID_GET from an SP → its ID', idGet(), ok({ 2: 0x8003 })),
  nwd('SPM_ID_GET → the SPMC ID', spmIdGet(), ok({ 2: SPMC_ID })),
  sp(0x8002, 'SPM_ID_GET from an SP → the SPMC ID', spmIdGet(), ok({ 2: SPMC_ID })),
  // FFA_PARTITION_INFO_GET and the RX buffer (§2.7)
  nwd('partition info: count only → 3, no RX buffer needed', partitionInfoGet(undefined, true), ok({ 2: 3, 3: 0 })),
  nwd('partition info: count only by UUID → 1', partitionInfoGet(ECHO_UUID, true), ok({ 2: 1 })),
  nwd('partition info: count only, unknown UUID → INVALID_PARAMETERS', partitionInfoGet(UNKNOWN_UUID, true), err(INVALID)),
  nwd('partition info: no RX buffer → BUSY', partitionInfoGet(), err('BUSY')),
  nwd('rxtx_map: page count 0 → INVALID_PARAMETERS', rxtxMap(undefined, undefined, 0), err(INVALID)),
  nwd('rxtx_map: page count bits [31:6] → INVALID_PARAMETERS', rxtxMap(undefined, undefined, 0x41), err(INVALID)),
  nwd('rxtx_map: alignment not checked → success', rxtxMap(0x10_0010n, 0x10_1000n), ok()),
  nwd('rxtx_map: again → DENIED', rxtxMap(), err('DENIED')),
  nwd('partition info at v1.0: 8-byte descriptors, w3 = 0', partitionInfoGet(), ok({ 2: 3, 3: 0 })),
  nwd('partition info: RX buffer owned by the NWd → BUSY', partitionInfoGet(), err('BUSY')),
  nwd('rx_release → success', rxRelease(), ok()),
  nwd('rx_release again → DENIED', rxRelease(), err('DENIED')),
  nwd('VERSION 1.2', versionRequest(SPMC_ID, 0x1_0002), VERSION_RESPONSE(0x1_0002)),
  nwd('partition info at v1.2: 24-byte descriptors', partitionInfoGet(), ok({ 2: 3, 3: 24 })),
  nwd('rx_release: w1 not read → success', rxRelease(5), ok()),
  nwd('partition info by UUID → 1', partitionInfoGet(RAW_UUID), ok({ 2: 1, 3: 24 })),
  nwd('rx_release #3', rxRelease(), ok()),
  nwd('partition info: unknown UUID → INVALID_PARAMETERS, RX handed over anyway', partitionInfoGet(UNKNOWN_UUID), err(INVALID)),
  nwd('partition info: the RX buffer is the NWd\'s → BUSY', partitionInfoGet(), err('BUSY')),
  nwd('rx_release #4', rxRelease(), ok()),
  nwd('rxtx_unmap: w1 not read → success', rxtxUnmap(3), ok()),
  nwd('rxtx_unmap again → INVALID_PARAMETERS', rxtxUnmap(), err(INVALID)),
  nwd('rx_release with nothing mapped → DENIED', rxRelease(), err('DENIED')),
  sp(0x8003, 'rxtx_map from an SP', rxtxMap(), ok()),
  sp(0x8003, 'partition info from a v1.1 SP → 24-byte descriptors', partitionInfoGet(), ok({ 2: 3, 3: 24 })),
  sp(0x8003, 'rx_release from the SP', rxRelease(), ok()),
];

const HAFNIUM_ROWS: Row[] = [
  // FFA_VERSION (§1.4: Hafnium api_ffa_version answers its own version)
  nwd('VERSION via the SPMD: 1.1 → 1.2 (its own)', versionRequest(SPMC_ID, 0x1_0001), VERSION_RESPONSE(0x1_0002)),
  nwd('VERSION: 2.0 → NOT_SUPPORTED', versionRequest(SPMC_ID, 0x2_0000), VERSION_RESPONSE(0xffff_ffff)),
  nwd('VERSION: 1.3, newer than its own → NOT_SUPPORTED', versionRequest(SPMC_ID, 0x1_0003), VERSION_RESPONSE(0xffff_ffff)),
  nwd('VERSION: bit 31 set → NOT_SUPPORTED', versionRequest(SPMC_ID, 0x8001_0002), VERSION_RESPONSE(0xffff_ffff)),
  nwd('VERSION not from the SPMD → INVALID_PARAMETERS', versionRequest(SPMC_ID, 0x1_0002, 1), err(INVALID)),
  sp(0x8003, 'FFA_VERSION from an SP: 1.1 → 1.2', version(0x1_0001), regsAre({ w: { 0: 0x1_0002 } })),
  sp(0x8003, 'FFA_VERSION from an SP: 2.0 → NOT_SUPPORTED in w0', version(0x2_0000), regsAre({ w: { 0: 0xffff_ffff } })),
  nwd('VERSION 1.2', versionRequest(SPMC_ID, 0x1_0002), VERSION_RESPONSE(0x1_0002)),
  // FFA_FEATURES per caller (§1.2, §8.5: api_ffa_features)
  nwd('features(SRI) from the NWd → 8', features(2), ok({ 2: 8 })),
  sp(0x8002, 'features(SRI) from an SP → NOT_SUPPORTED', features(2), err(NOT_SUPPORTED)),
  nwd('features(NPI) from the NWd → NOT_SUPPORTED', features(1), err(NOT_SUPPORTED)),
  sp(0x8002, 'features(NPI) from an SP → 5', features(1), ok({ 2: 5 })),
  nwd('features(MEI) from the NWd → NOT_SUPPORTED', features(3), err(NOT_SUPPORTED)),
  sp(0x8002, 'features(MEI) from an SP → 4', features(3), ok({ 2: 4 })),
  nwd('features(NOTIFICATION) → 3 (no per-vCPU for VMs nor SPs)', features(4), ok({ 2: 3 })),
  nwd('features(SRI) with input properties → NOT_SUPPORTED', features(2, 1), err(NOT_SUPPORTED)),
  nwd('features: feature ID bits [30:8] set → NOT_SUPPORTED', features(0x102), err(NOT_SUPPORTED)),
  nwd('features(INFO_GET_64) → success', features(F.FFA_NOTIFICATION_INFO_GET_64), ok({ 2: 0 })),
  nwd('features(INFO_GET_32) → NOT_SUPPORTED', features(F.FFA_NOTIFICATION_INFO_GET_32), err(NOT_SUPPORTED)),
  nwd('features(RXTX_MAP_64), a v1.2 caller → 1 page max in w2[31:16]', features(F.FFA_RXTX_MAP_64), ok({ 2: 0x1_0000 })),
  sp(0x8003, 'features(RXTX_MAP_64), a v1.1 SP → 0', features(F.FFA_RXTX_MAP_64), ok({ 2: 0 })),
  nwd('features(RXTX_MAP_32) → NOT_SUPPORTED', features(F.FFA_RXTX_MAP_32), err(NOT_SUPPORTED)),
  nwd('features(RUN) → success', features(F.FFA_RUN), ok({ 2: 0 })),
  nwd('features(MSG_SEND2) → success', features(F.FFA_MSG_SEND2), ok({ 2: 0 })),
  nwd('features(SET) → success', features(F.FFA_NOTIFICATION_SET), ok({ 2: 0 })),
  nwd('features(YIELD) from the NWd → NOT_SUPPORTED', features(F.FFA_YIELD), err(NOT_SUPPORTED)),
  sp(0x8002, 'features(YIELD) from an SP → success', features(F.FFA_YIELD), ok({ 2: 0 })),
  nwd('features(SUCCESS_64) → success (listed since January 2026)', features(F.FFA_SUCCESS_64), ok({ 2: 0 })),
  // FFA_ID_GET, FFA_SPM_ID_GET
  nwd('ID_GET from the NWd → 0 (the other-world VM)', idGet(), ok({ 2: 0 })),
  sp(0x8003, 'ID_GET from an SP → its ID', idGet(), ok({ 2: 0x8003 })),
  nwd('SPM_ID_GET → the SPMC ID', spmIdGet(), ok({ 2: SPMC_ID })),
  // FFA_PARTITION_INFO_GET and the RX buffer
  nwd('partition info: count only → 3', partitionInfoGet(undefined, true), ok({ 2: 3, 3: 0 })),
  nwd('partition info: w5 bits [31:1] → INVALID_PARAMETERS', withRegs(partitionInfoGet(undefined, true), { 5: 3 }), err(INVALID)),
  nwd('partition info: count only, unknown UUID → INVALID_PARAMETERS', partitionInfoGet(UNKNOWN_UUID, true), err(INVALID)),
  nwd('partition info: unknown UUID, no RX buffer → INVALID_PARAMETERS (UUID first)', partitionInfoGet(UNKNOWN_UUID), err(INVALID)),
  nwd('partition info: no RX buffer → BUSY', partitionInfoGet(), err('BUSY')),
  nwd('rxtx_map: page count 2 → INVALID_PARAMETERS', rxtxMap(undefined, undefined, 2), err(INVALID)),
  nwd('rxtx_map: unaligned → INVALID_PARAMETERS', rxtxMap(0x10_0010n, 0x10_1000n), err(INVALID)),
  nwd('rxtx_map: TX == RX → INVALID_PARAMETERS', rxtxMap(0x10_0000n, 0x10_0000n), err(INVALID)),
  nwd('rxtx_map → success', rxtxMap(), ok()),
  nwd('rxtx_map: again, even malformed → DENIED (checked first)', rxtxMap(0x10_0010n, 0x10_1000n, 2), err('DENIED')),
  nwd('partition info → 3 descriptors of 24 bytes, in the RX buffer the return carries', partitionInfoGet(), ok({ 2: 3, 3: 24 }), {
    rx: rxWrite(0, { kind: 'partition-info', descriptorSize: 24, partitions: descriptors(0x103).map((p) => ({ ...p, properties: p.properties & ~0b10 })) }),
  }),
  nwd('partition info: count only writes nothing', partitionInfoGet(undefined, true), ok({ 2: 3 }), { rx: null }),
  nwd('partition info: RX buffer not free → BUSY', partitionInfoGet(), err('BUSY')),
  nwd('rx_release: w1 names a VM → INVALID_PARAMETERS', rxRelease(5), err(INVALID)),
  nwd('rx_release → success', rxRelease(), ok()),
  nwd('rx_release again → DENIED', rxRelease(), err('DENIED')),
  nwd('partition info: unknown UUID → INVALID_PARAMETERS, the RX buffer stays free', partitionInfoGet(UNKNOWN_UUID), err(INVALID)),
  nwd('partition info by UUID → 1', partitionInfoGet(ECHO_UUID), ok({ 2: 1, 3: 24 })),
  nwd('rx_release #2', rxRelease(), ok()),
  nwd('VERSION 1.0', versionRequest(SPMC_ID, 0x1_0000), VERSION_RESPONSE(0x1_0002)),
  nwd('partition info at v1.0 → 8-byte descriptors, w3 = 8', partitionInfoGet(), ok({ 2: 3, 3: 8 })),
  nwd('rx_release #3', rxRelease(), ok()),
  nwd('VERSION 1.2 again', versionRequest(SPMC_ID, 0x1_0002), VERSION_RESPONSE(0x1_0002)),
  nwd('rxtx_unmap: w1 names a VM → INVALID_PARAMETERS', rxtxUnmap(3), err(INVALID)),
  nwd('rxtx_unmap → success', rxtxUnmap(), ok()),
  nwd('rxtx_unmap again → INVALID_PARAMETERS', rxtxUnmap(), err(INVALID)),
  sp(0x8003, 'rxtx_map from an SP', rxtxMap(), ok()),
  sp(0x8003, 'partition info from a v1.1 SP → 24-byte descriptors', partitionInfoGet(), ok({ 2: 3, 3: 24 })),
  sp(0x8003, 'rx_release from an SP with w1 set → INVALID_PARAMETERS', rxRelease(0x8003), err(INVALID)),
  sp(0x8003, 'rx_release from the SP', rxRelease(), ok()),
];

function writtenDescriptors(entries: Parameters<typeof records>[0]) {
  return records(entries, 'rx-partition-info').map(({ owner, descriptorSize, partitions }) => ({ owner, descriptorSize, partitions }));
}

describe('SPMC setup and discovery', () => {
  for (const runtime of RUNTIMES) {
    it(`optee profile: VERSION, FEATURES, IDs, partition info and RX ownership (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'optee', partitions: PARTITIONS }, rows: OPTEE_ROWS });
      assertRows(OPTEE_ROWS, run);
      // OP-TEE's endpoint with NS-virtualization: direct messages and VM created/destroyed messages.
      const all = descriptors(0x1c3);
      assert.deepEqual(writtenDescriptors(run.entries), [
        { owner: 0, descriptorSize: 8, partitions: v1_0(all) },
        { owner: 0, descriptorSize: 24, partitions: all },
        { owner: 0, descriptorSize: 24, partitions: [all[2]] },
        { owner: 0x8003, descriptorSize: 24, partitions: all },
      ]);
    });

    it(`hafnium profile: VERSION, FEATURES per caller, IDs, partition info and RX ownership (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'hafnium', partitions: PARTITIONS }, rows: HAFNIUM_ROWS });
      assertRows(HAFNIUM_ROWS, run);
      const all = descriptors(0x103);
      // Hafnium ffa_setup_partition_properties: no DIRECT_REQ_SEND for a NWd caller.
      const toNwd = all.map((p) => ({ ...p, properties: p.properties & ~0b10 }));
      assert.deepEqual(writtenDescriptors(run.entries), [
        { owner: 0, descriptorSize: 24, partitions: toNwd },
        { owner: 0, descriptorSize: 24, partitions: [toNwd[1]] },
        { owner: 0, descriptorSize: 8, partitions: v1_0(toNwd) },
        { owner: 0x8003, descriptorSize: 24, partitions: all },
      ]);
    });
  }
});
