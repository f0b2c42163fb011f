/**
 * FFA_PARTITION_INFO_GET_REGS at the SPMC, under both runtimes:
 * - hafnium profile (api_ffa_partition_info_get_regs): 7 SPs, so two calls (5 + 2 descriptors,
 *   x2 = 24 << 48 | current << 16 | last, tag 0), a UUID query (UUID registers zero), a start
 *   index past the list or an unknown UUID → INVALID_PARAMETERS, any tag → RETRY; SBZ registers
 *   ignored; an SP's call sees the same table;
 * - optee profile: neither FEATURES nor thread_spmc_msg_recv knows the ABI → NOT_SUPPORTED;
 * - hafnium's FEATURES table with the call not dispatched: offered, then refused.
 */
import { describe, it } from 'node:test';
import { FFA_FIDS, ffaPartitionInfoGetRegs, NIL_UUID, OPTEE_UUID, SPMC_ID, type PartitionInfo, type RegisterFile } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { PartitionConfig } from './config.ts';
import { RESP_32, features, fwk, versionRequest, withRegs } from './test-support/calls.ts';
import { assertRows, err, nwd, ok, regsAre, runTable, sp, type Expect, type Row } from './test-support/rows.ts';

const INVALID = 'INVALID_PARAMETERS';
const NOT_SUPPORTED = 'NOT_SUPPORTED';
const SHARED_UUID = '5a5a0006-0000-4000-8000-0000000000aa';
const UNKNOWN_UUID = '00000000-0000-0000-0000-00000000beef';
const uuidOf = (id: number): string => `5a5a${id.toString(16)}-0000-4000-8000-000000000001`;

/** OP-TEE's SP and six raw SPs; the last two share a UUID (Hafnium lists one entry per match). */
const PARTITIONS: PartitionConfig[] = [
  { id: 0x8001, vcpus: 4, behaviour: 'optee' },
  ...[0x8002, 0x8003, 0x8004, 0x8005].map((id) => ({ id, uuid: uuidOf(id) })),
  { id: 0x8006, uuid: SHARED_UUID },
  { id: 0x8007, uuid: SHARED_UUID, vcpus: 2 },
];

/** Descriptors as an SP sees them: direct messages both ways, AArch64 (0x103). */
const ALL: PartitionInfo[] = [
  { id: 0x8001, vcpus: 4, properties: 0x103, uuid: OPTEE_UUID },
  ...[0x8002, 0x8003, 0x8004, 0x8005].map((id) => ({ id, vcpus: 1, properties: 0x103, uuid: uuidOf(id) })),
  { id: 0x8006, vcpus: 1, properties: 0x103, uuid: SHARED_UUID },
  { id: 0x8007, vcpus: 2, properties: 0x103, uuid: SHARED_UUID },
];

/** As the NWd sees them: DIRECT_REQ_SEND masked (partition-properties.test.ts). */
const NWD: PartitionInfo[] = ALL.map((p) => ({ ...p, properties: 0x101 }));

const regsCall = (args: { uuid?: string; startIndex?: number; tag?: number } = {}): RegisterFile => ffaPartitionInfoGetRegs.encodeCall(args);

/** The whole register file of a successful return: x0..x17 exactly (unused slots zero). */
function window(lastIndex: number, currentIndex: number, partitions: PartitionInfo[]): Expect {
  const regs = ffaPartitionInfoGetRegs.success!.encode({ lastIndex, currentIndex, tag: 0, partitions });
  return regsAre({ x: Object.fromEntries(regs.map((value, index) => [index, value])) });
}

const VERSION_1_2 = nwd('VERSION 1.2', versionRequest(SPMC_ID, 0x1_0002), regsAre({ w: { 0: RESP_32, 2: fwk(9), 3: 0x1_0002 } }));

const HAFNIUM_ROWS: Row[] = [
  VERSION_1_2,
  nwd('features(PARTITION_INFO_GET_REGS) → success', features(FFA_FIDS.FFA_PARTITION_INFO_GET_REGS), ok({ 2: 0 })),
  nwd('regs from 0 → 5 of 7 (current 4, last 6)', regsCall(), window(6, 4, NWD.slice(0, 5))),
  nwd('regs from 5 → the last 2 (current 6)', regsCall({ startIndex: 5 }), window(6, 6, NWD.slice(5))),
  nwd('regs from 3 → the last 4 (current 6)', regsCall({ startIndex: 3 }), window(6, 6, NWD.slice(3))),
  nwd('regs from 7, past the last → INVALID_PARAMETERS', regsCall({ startIndex: 7 }), err(INVALID)),
  nwd('regs from 0xfffc → INVALID_PARAMETERS (past the list)', regsCall({ startIndex: 0xfffc }), err(INVALID)),
  nwd('regs with a tag at start 0 → RETRY', regsCall({ tag: 1 }), err('RETRY')),
  nwd('regs with a tag at start 5 → RETRY (tags not supported)', regsCall({ startIndex: 5, tag: 1 }), err('RETRY')),
  nwd(
    'regs by a shared UUID → both SPs, UUID registers zero',
    regsCall({ uuid: SHARED_UUID }),
    window(1, 1, NWD.slice(5).map((p) => ({ ...p, uuid: NIL_UUID }))),
  ),
  nwd('regs by OP-TEE\'s UUID → one SP', regsCall({ uuid: OPTEE_UUID }), window(0, 0, [{ ...NWD[0]!, uuid: NIL_UUID }])),
  nwd('regs by an unknown UUID → INVALID_PARAMETERS', regsCall({ uuid: UNKNOWN_UUID }), err(INVALID)),
  nwd(
    'regs with x3[63:32] and x4..x17 set (SBZ, ignored) → as from 0',
    withRegs(regsCall(), { 3: 0xdead_beef_0000_0000n, ...Object.fromEntries(Array.from({ length: 14 }, (_, i) => [i + 4, 0x5an])) }),
    window(6, 4, NWD.slice(0, 5)),
  ),
  sp(0x8003, 'regs from an SP → the same table, with DIRECT_REQ_SEND', regsCall({ startIndex: 5 }), window(6, 6, ALL.slice(5))),
];

const OPTEE_ROWS: Row[] = [
  VERSION_1_2,
  nwd('features(PARTITION_INFO_GET_REGS) → NOT_SUPPORTED (not in handle_features)', features(FFA_FIDS.FFA_PARTITION_INFO_GET_REGS), err(NOT_SUPPORTED)),
  nwd('regs → NOT_SUPPORTED (no case in thread_spmc_msg_recv)', regsCall(), err(NOT_SUPPORTED)),
];

const OFFERED_NOT_DISPATCHED_ROWS: Row[] = [
  VERSION_1_2,
  nwd('features(PARTITION_INFO_GET_REGS) → success (Hafnium table)', features(FFA_FIDS.FFA_PARTITION_INFO_GET_REGS), ok({ 2: 0 })),
  nwd('regs → NOT_SUPPORTED (not dispatched)', regsCall(), err(NOT_SUPPORTED)),
];

describe('SPMC FFA_PARTITION_INFO_GET_REGS', () => {
  for (const runtime of RUNTIMES) {
    it(`hafnium profile: windows of 5 from the partition table, UUID queries, index and tag errors (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'hafnium', partitions: PARTITIONS }, rows: HAFNIUM_ROWS });
      assertRows(HAFNIUM_ROWS, run);
    });

    it(`optee profile: neither offered nor dispatched (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'optee', partitions: PARTITIONS }, rows: OPTEE_ROWS });
      assertRows(OPTEE_ROWS, run);
    });

    it(`hafnium profile with partitionInfoGetRegs 'not-dispatched': offered by FEATURES, refused (${runtime})`, async () => {
      const spmc = { profile: 'hafnium' as const, partitions: PARTITIONS, policies: { partitionInfoGetRegs: 'not-dispatched' } };
      const run = await runTable(runtime, { spmc, rows: OFFERED_NOT_DISPATCHED_ROWS });
      assertRows(OFFERED_NOT_DISPATCHED_ROWS, run);
    });
  }
});
