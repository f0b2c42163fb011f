/**
 * The OP-TEE profile's whole FFA_FEATURES table, row by row against OP-TEE's source
 * (core/arch/arm/kernel/thread_spmc.c `handle_features`, newest read: optee_os d5001fe0, August
 * 2026; built with CFG_CORE_SEL1_SPMC=y on ARM64). One switch answers every caller: the normal
 * world (thread_spmc_msg_recv) and OP-TEE's own SPs (spmc_sp_handler.c) alike. Every ABI of the
 * function-ID table is asked: those the switch lists answer SUCCESS with their w2, every other one
 * falls to `default` (NOT_SUPPORTED).
 *
 * Rows one might not expect:
 * - SET is listed though OP-TEE does not dispatch it from the normal world.
 * - MSG_SEND_DIRECT_REQ2/RESP2 depend on the version the normal world negotiated
 *   (`my_rxtx.ffa_vers >= FFA_VERSION_1_2`, the normal world's buffers), even when an SP asks;
 *   before any FFA_VERSION that is v1.0 (`my_rxtx.ffa_vers = FFA_VERSION_1_0` at init).
 * - No input property is checked, for function or feature IDs.
 */
import { describe, it } from 'node:test';
import { FFA_FIDS, type FfaAbiName } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { PartitionConfig } from './config.ts';
import { features, version } from './test-support/calls.ts';
import { assertRows, err, nwd, ok, runTable, sp, type Expect, type Row } from './test-support/rows.ts';

const NOT_SUPPORTED = err('NOT_SUPPORTED');
const SOURCE = 'thread_spmc.c handle_features';
const SP = 0x8001;
const PARTITIONS: PartitionConfig[] = [{ id: SP, vcpus: 2, ffaVersion: '1.1' }];

/** The switch's cases that answer FFA_SUCCESS_32, with their w2 and the case that says so. */
const LISTED: Partial<Record<FfaAbiName, { w2: number; source: string }>> = {
  FFA_RXTX_MAP_32: { w2: 0, source: 'case FFA_RXTX_MAP_32: w2 = 0, 4 kB minimum buffer size and alignment' },
  FFA_RXTX_MAP_64: { w2: 0, source: 'case FFA_RXTX_MAP_64 (ARM64): as RXTX_MAP_32' },
  FFA_MEM_SHARE_32: { w2: 1, source: 'case FFA_MEM_SHARE_32: w2 = BIT(0), descriptors in a buffer the endpoint allocated' },
  FFA_MEM_SHARE_64: { w2: 1, source: 'case FFA_MEM_SHARE_64 (ARM64): as MEM_SHARE_32' },
  ...Object.fromEntries(
    (
      [
        'FFA_ERROR', 'FFA_VERSION', 'FFA_SUCCESS_32', 'FFA_SUCCESS_64', 'FFA_FEATURES', 'FFA_SPM_ID_GET', 'FFA_MEM_FRAG_TX',
        'FFA_MEM_RECLAIM', 'FFA_MSG_SEND_DIRECT_REQ_64', 'FFA_MSG_SEND_DIRECT_REQ_32', 'FFA_INTERRUPT', 'FFA_PARTITION_INFO_GET',
        'FFA_RXTX_UNMAP', 'FFA_RX_RELEASE', 'FFA_NOTIFICATION_BITMAP_CREATE', 'FFA_NOTIFICATION_BITMAP_DESTROY',
        'FFA_NOTIFICATION_BIND', 'FFA_NOTIFICATION_UNBIND', 'FFA_NOTIFICATION_SET', 'FFA_NOTIFICATION_GET',
        'FFA_NOTIFICATION_INFO_GET_32', 'FFA_NOTIFICATION_INFO_GET_64',
      ] as const
    ).map((abi) => [abi, { w2: 0, source: `case ${abi}: w2 = FFA_PARAM_MBZ` }]),
  ),
};

/** Rows that depend on the normal world's negotiated version: asked apart below. */
const BY_NWD_VERSION: ReadonlySet<FfaAbiName> = new Set(['FFA_MSG_SEND_DIRECT_REQ2', 'FFA_MSG_SEND_DIRECT_RESP2']);

const ABIS = (Object.keys(FFA_FIDS) as FfaAbiName[]).filter((abi) => !BY_NWD_VERSION.has(abi));

function expected(abi: FfaAbiName): { expect: Expect; source: string } {
  const listed = LISTED[abi];
  return listed ? { expect: ok({ 2: listed.w2 }), source: listed.source } : { expect: NOT_SUPPORTED, source: 'default: FFA_ERROR, NOT_SUPPORTED' };
}

const tableRows: Row[] = ABIS.flatMap((abi) => {
  const { expect, source } = expected(abi);
  return [
    nwd(`features(${abi}) from the NWd [${SOURCE}: ${source}]`, features(FFA_FIDS[abi]), expect),
    sp(SP, `features(${abi}) from SP 0x8001 [${SOURCE}: ${source}]`, features(FFA_FIDS[abi]), expect),
  ];
});

/** Feature IDs: the SRI once notifications are ready (notif_intid, SGI 8 on QEMU), the MEI with w2 = 0, the rest default. */
const featureRows: Row[] = [
  nwd(`features(SRI) from the NWd [${SOURCE}: FFA_FEATURE_SCHEDULE_RECV_INTR, spmc_notif_is_ready → notif_intid]`, features(2), ok({ 2: 8 })),
  sp(SP, `features(SRI) from SP 0x8001 [${SOURCE}: the same case for every caller]`, features(2), ok({ 2: 8 })),
  nwd(`features(SRI) with input properties [${SOURCE}: w2 not read]`, features(2, 1), ok({ 2: 8 })),
  nwd(`features(MEI) from the NWd [${SOURCE}: case FFA_FEATURE_MANAGED_EXIT_INTR, w2 = FFA_PARAM_MBZ]`, features(3), ok({ 2: 0 })),
  sp(SP, `features(NPI) from SP 0x8001 [${SOURCE}: no case → default]`, features(1), NOT_SUPPORTED),
  nwd(`features(NPI) from the NWd [${SOURCE}: no case → default]`, features(1), NOT_SUPPORTED),
  nwd(`features(NOTIFICATION) from the NWd [${SOURCE}: no case → default]`, features(4), NOT_SUPPORTED),
  nwd(`features(feature bits [30:8]) [${SOURCE}: no case → default]`, features(0x102), NOT_SUPPORTED),
];

const REQ2 = FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ2;
const RESP2 = FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP2;
const V1_1 = 0x1_0001;
const V1_2 = 0x1_0002;

/** DIRECT_REQ2/RESP2: `if (my_rxtx.ffa_vers >= FFA_VERSION_1_2)`, the normal world's version, whoever asks. */
const versionRows: Row[] = [
  nwd(`features(DIRECT_REQ2) before any FFA_VERSION [${SOURCE}: my_rxtx.ffa_vers = FFA_VERSION_1_0 at init]`, features(REQ2), NOT_SUPPORTED),
  nwd('the NWd negotiates v1.1', version(V1_1), { kind: 'any' }),
  nwd(`features(DIRECT_REQ2), NWd at v1.1 [${SOURCE}: my_rxtx.ffa_vers < 1.2]`, features(REQ2), NOT_SUPPORTED),
  nwd(`features(DIRECT_RESP2), NWd at v1.1 [${SOURCE}: my_rxtx.ffa_vers < 1.2]`, features(RESP2), NOT_SUPPORTED),
  sp(SP, `features(DIRECT_REQ2) from SP 0x8001, NWd at v1.1 [${SOURCE}: the NWd's version]`, features(REQ2), NOT_SUPPORTED),
  nwd('the NWd negotiates v1.2', version(V1_2), { kind: 'any' }),
  nwd(`features(DIRECT_REQ2), NWd at v1.2 [${SOURCE}: my_rxtx.ffa_vers >= 1.2 → FFA_PARAM_MBZ]`, features(REQ2), ok({ 2: 0 })),
  nwd(`features(DIRECT_RESP2), NWd at v1.2 [${SOURCE}: my_rxtx.ffa_vers >= 1.2 → FFA_PARAM_MBZ]`, features(RESP2), ok({ 2: 0 })),
  sp(SP, `features(DIRECT_RESP2) from a v1.1 SP, NWd at v1.2 [${SOURCE}: the NWd's version, not the SP's]`, features(RESP2), ok({ 2: 0 })),
];

const ROWS: Row[] = [...versionRows, ...tableRows, ...featureRows];

describe('OP-TEE FFA_FEATURES, the whole table against thread_spmc.c handle_features', () => {
  for (const runtime of RUNTIMES) {
    it(`every row as OP-TEE answers it (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'optee', ffaVersion: '1.2', partitions: PARTITIONS }, rows: ROWS });
      assertRows(ROWS, run);
    });
  }
});
