/**
 * The Hafnium profile's whole FFA_FEATURES table, row by row against Hafnium's source
 * (src/api.c, newest read August 2026: api_ffa_features → ffa_features_function for function
 * IDs, ffa_features_feature for feature IDs). The SPMC is configured at v1.2, so "compiled
 * version" checks for v1.1 and v1.2 pass and those for v1.3 fail. Callers: the NWd (v1.2), a v1.2
 * SP with 4 vCPUs, a v1.1 SP with one vCPU, a v1.0 SP.
 *
 * Since "fix(ffa): align ffa_feature handling and coverage" (January 2026) INFO_GET_64 is
 * offered to the primary scheduler only (the NWd, at the SPMC), as the call itself is, and
 * SUCCESS_64 is listed. ABORT_32/64 queried by an SP at any version answer SUCCESS, though one
 * might expect otherwise: the only check is "not a VM".
 */
import { describe, it } from 'node:test';
import { FFA_FIDS } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { PartitionConfig } from './config.ts';
import { features } from './test-support/calls.ts';
import { assertRows, err, nwd, ok, runTable, sp, type Expect, type Row } from './test-support/rows.ts';

const F = FFA_FIDS;
const NOT_SUPPORTED = err('NOT_SUPPORTED');
const SUCCESS = ok({ 2: 0 });
const SP_V1_2 = 0x8001;
const SP_V1_1_ONE_VCPU = 0x8002;
const SP_V1_0 = 0x8003;

const PARTITIONS: PartitionConfig[] = [
  { id: SP_V1_2, vcpus: 4, ffaVersion: '1.2' },
  { id: SP_V1_1_ONE_VCPU, vcpus: 1, ffaVersion: '1.1' },
  { id: SP_V1_0, vcpus: 2, ffaVersion: '1.0' },
];

type Caller = 'nwd' | typeof SP_V1_2 | typeof SP_V1_1_ONE_VCPU | typeof SP_V1_0;

/** One row of Hafnium's table: what is asked, by whom, the answer, and where Hafnium says so. */
interface FeatureRow {
  readonly abi: string;
  readonly id: number;
  readonly input?: number;
  readonly caller: Caller;
  readonly expect: Expect;
  readonly source: string;
}

const FN = 'src/api.c ffa_features_function';
const FEAT = 'src/api.c ffa_features_feature';

const V1_0_LIST = 'case list "Check support of the given Function ID" → api_ffa_feature_success(0)';
const V1_1_LIST = '"FF-A v1.1 features", FFA_VERSION_1_1 <= compiled';
const V1_2_LIST = '"FF-A v1.2 features", FFA_VERSION_1_2 <= compiled';

const everyone = (abi: keyof typeof F, source: string, expect: Expect = SUCCESS): FeatureRow[] =>
  (['nwd', SP_V1_2] as const).map((caller) => ({ abi, id: F[abi], caller, expect, source: `${FN}: ${source}` }));

const TABLE: readonly FeatureRow[] = [
  ...(
    [
      'FFA_ERROR', 'FFA_SUCCESS_32', 'FFA_SUCCESS_64', 'FFA_INTERRUPT', 'FFA_VERSION', 'FFA_FEATURES', 'FFA_RX_RELEASE', 'FFA_RXTX_UNMAP',
      'FFA_PARTITION_INFO_GET', 'FFA_ID_GET', 'FFA_MSG_WAIT', 'FFA_RUN', 'FFA_MEM_DONATE_32', 'FFA_MEM_DONATE_64',
      'FFA_MEM_LEND_32', 'FFA_MEM_LEND_64', 'FFA_MEM_SHARE_32', 'FFA_MEM_SHARE_64', 'FFA_MEM_RETRIEVE_RESP',
      'FFA_MEM_RELINQUISH', 'FFA_MEM_RECLAIM', 'FFA_MEM_FRAG_RX', 'FFA_MEM_FRAG_TX', 'FFA_MSG_SEND_DIRECT_RESP_64',
      'FFA_MSG_SEND_DIRECT_RESP_32', 'FFA_MSG_SEND_DIRECT_REQ_64', 'FFA_MSG_SEND_DIRECT_REQ_32',
    ] as const
  ).flatMap((abi) => everyone(abi, V1_0_LIST)),
  ...(
    [
      'FFA_SPM_ID_GET', 'FFA_NOTIFICATION_BITMAP_CREATE', 'FFA_NOTIFICATION_BITMAP_DESTROY', 'FFA_NOTIFICATION_BIND',
      'FFA_NOTIFICATION_UNBIND', 'FFA_NOTIFICATION_SET', 'FFA_NOTIFICATION_GET', 'FFA_MSG_SEND2',
    ] as const
  ).flatMap((abi) => everyone(abi, V1_1_LIST)),
  // The normal world only: the primary scheduler (HF_PRIMARY_VM_ID is the other world at the SPMC).
  { abi: 'FFA_NOTIFICATION_INFO_GET_64', id: F.FFA_NOTIFICATION_INFO_GET_64, caller: 'nwd', expect: SUCCESS, source: `${FN}: FFA_NOTIFICATION_INFO_GET_64, vm_is_primary` },
  { abi: 'FFA_NOTIFICATION_INFO_GET_64', id: F.FFA_NOTIFICATION_INFO_GET_64, caller: SP_V1_2, expect: NOT_SUPPORTED, source: `${FN}: FFA_NOTIFICATION_INFO_GET_64, !vm_is_primary` },
  // Only discoverable to the normal-world hypervisor (HF_HYPERVISOR_VM_ID: the other world at the SPMC).
  { abi: 'FFA_RX_ACQUIRE', id: F.FFA_RX_ACQUIRE, caller: 'nwd', expect: SUCCESS, source: `${FN}: FFA_RX_ACQUIRE_32, the normal-world hypervisor` },
  { abi: 'FFA_RX_ACQUIRE', id: F.FFA_RX_ACQUIRE, caller: SP_V1_2, expect: NOT_SUPPORTED, source: `${FN}: FFA_RX_ACQUIRE_32, not the hypervisor` },
  ...(
    ['FFA_CONSOLE_LOG_32', 'FFA_CONSOLE_LOG_64', 'FFA_PARTITION_INFO_GET_REGS', 'FFA_MSG_SEND_DIRECT_REQ2', 'FFA_MSG_SEND_DIRECT_RESP2'] as const
  ).flatMap((abi) => everyone(abi, V1_2_LIST)),
  // Not in the switch: default → NOT_SUPPORTED.
  ...(['FFA_NOTIFICATION_INFO_GET_32', 'FFA_RXTX_MAP_32', 'FFA_MSG_POLL', 'FFA_SECONDARY_EP_REGISTER_32'] as const).flatMap((abi) =>
    everyone(abi, 'default → NOT_SUPPORTED', NOT_SUPPORTED),
  ),
  // S-EL0 partitions only; every SP here runs at S-EL1.
  ...(['FFA_MEM_PERM_GET_32', 'FFA_MEM_PERM_SET_32', 'FFA_MEM_PERM_GET_64', 'FFA_MEM_PERM_SET_64'] as const).flatMap((abi) =>
    everyone(abi, 'FFA_MEM_PERM_*: vm_id_is_current_world && el0_partition', NOT_SUPPORTED),
  ),
  // RXTX_MAP_64: struct ffa_features_rxtx_map_params, max_buf_size for v1.2+ callers.
  { abi: 'FFA_RXTX_MAP_64', id: F.FFA_RXTX_MAP_64, caller: 'nwd', expect: ok({ 2: 0x1_0000 }), source: `${FN}: FFA_RXTX_MAP_64, ffa_version >= 1.2 → max_buf_size 1` },
  { abi: 'FFA_RXTX_MAP_64', id: F.FFA_RXTX_MAP_64, caller: SP_V1_1_ONE_VCPU, expect: SUCCESS, source: `${FN}: FFA_RXTX_MAP_64, ffa_version < 1.2 → 0` },
  // MEM_RETRIEVE_REQ: the NS bit (input bit 1) required from v1.1+ callers; w2 = NS | hypervisor retrieve.
  ...(['FFA_MEM_RETRIEVE_REQ_32', 'FFA_MEM_RETRIEVE_REQ_64'] as const).flatMap((abi): FeatureRow[] => [
    { abi, id: F[abi], input: 0b10, caller: 'nwd', expect: ok({ 2: 0b110 }), source: `${FN}: FFA_MEM_RETRIEVE_REQ, NS bit set → BUFFER | NS | HYPERVISOR support` },
    { abi, id: F[abi], input: 0b10, caller: SP_V1_2, expect: ok({ 2: 0b110 }), source: `${FN}: FFA_MEM_RETRIEVE_REQ, any caller` },
    { abi, id: F[abi], caller: 'nwd', expect: NOT_SUPPORTED, source: `${FN}: FFA_MEM_RETRIEVE_REQ, ffa_version >= 1.1 and no NS bit` },
    { abi, id: F[abi], caller: SP_V1_0, expect: ok({ 2: 0b110 }), source: `${FN}: FFA_MEM_RETRIEVE_REQ, a v1.0 caller need not set the NS bit` },
    { abi, id: F[abi], input: 0b11, caller: 'nwd', expect: ok({ 2: 0b110 }), source: `${FN}: FFA_MEM_RETRIEVE_REQ, reserved input bits only warned about` },
  ]),
  // SECONDARY_EP_REGISTER_64: SPs with more than one vCPU.
  { abi: 'FFA_SECONDARY_EP_REGISTER_64', id: F.FFA_SECONDARY_EP_REGISTER_64, caller: SP_V1_2, expect: SUCCESS, source: `${FN}: FFA_SECONDARY_EP_REGISTER_64, vcpu_count > 1` },
  { abi: 'FFA_SECONDARY_EP_REGISTER_64', id: F.FFA_SECONDARY_EP_REGISTER_64, caller: SP_V1_1_ONE_VCPU, expect: NOT_SUPPORTED, source: `${FN}: FFA_SECONDARY_EP_REGISTER_64, one vCPU` },
  { abi: 'FFA_SECONDARY_EP_REGISTER_64', id: F.FFA_SECONDARY_EP_REGISTER_64, caller: 'nwd', expect: NOT_SUPPORTED, source: `${FN}: FFA_SECONDARY_EP_REGISTER_64, not the current world` },
  // YIELD: the secure virtual instance only.
  { abi: 'FFA_YIELD', id: F.FFA_YIELD, caller: SP_V1_2, expect: SUCCESS, source: `${FN}: FFA_YIELD_32, vm_id_is_current_world` },
  { abi: 'FFA_YIELD', id: F.FFA_YIELD, caller: 'nwd', expect: NOT_SUPPORTED, source: `${FN}: FFA_YIELD_32, a VM` },
  // ABORT: every SP, whatever its version; never a VM.
  ...(['FFA_ABORT_32', 'FFA_ABORT_64'] as const).flatMap((abi): FeatureRow[] => [
    { abi, id: F[abi], caller: SP_V1_2, expect: SUCCESS, source: `${FN}: FFA_ABORT_32/64, !ffa_is_vm_id` },
    { abi, id: F[abi], caller: SP_V1_0, expect: SUCCESS, source: `${FN}: FFA_ABORT_32/64, no version check` },
    { abi, id: F[abi], caller: 'nwd', expect: NOT_SUPPORTED, source: `${FN}: FFA_ABORT_32/64, ffa_is_vm_id` },
  ]),
  // NS_RES_INFO_GET: v1.3, and only to the NWd; this SPMC is v1.2.
  { abi: 'FFA_NS_RES_INFO_GET', id: F.FFA_NS_RES_INFO_GET, caller: 'nwd', expect: NOT_SUPPORTED, source: `${FN}: FFA_NS_RES_INFO_GET, FFA_VERSION_1_3 > compiled` },
  // Feature IDs.
  { abi: 'SRI', id: 2, caller: 'nwd', expect: ok({ 2: 8 }), source: `${FEAT}: FFA_FEATURE_SRI, ffa_is_vm_id → HF_SCHEDULE_RECEIVER_INTID` },
  { abi: 'SRI', id: 2, caller: SP_V1_2, expect: NOT_SUPPORTED, source: `${FEAT}: FFA_FEATURE_SRI, not a VM` },
  { abi: 'NPI', id: 1, caller: SP_V1_2, expect: ok({ 2: 5 }), source: `${FEAT}: FFA_FEATURE_NPI, current world → HF_NOTIFICATION_PENDING_INTID` },
  { abi: 'NPI', id: 1, caller: 'nwd', expect: NOT_SUPPORTED, source: `${FEAT}: FFA_FEATURE_NPI, not the current world` },
  { abi: 'MEI', id: 3, caller: SP_V1_2, expect: ok({ 2: 4 }), source: `${FEAT}: FFA_FEATURE_MEI, current world → HF_MANAGED_EXIT_INTID` },
  { abi: 'MEI', id: 3, caller: 'nwd', expect: NOT_SUPPORTED, source: `${FEAT}: FFA_FEATURE_MEI, not the current world` },
  { abi: 'SRI with input', id: 2, input: 1, caller: 'nwd', expect: NOT_SUPPORTED, source: `${FEAT}: input_property != 0` },
  { abi: 'feature bits [30:8]', id: 0x102, caller: 'nwd', expect: NOT_SUPPORTED, source: `${FEAT}: FFA_FEATURES_FEATURE_MBZ bits set` },
];

const callerLabel = (caller: Caller): string => (caller === 'nwd' ? 'NWd' : `SP 0x${caller.toString(16)}`);

const ROWS: Row[] = TABLE.map((row) => {
  const label = `features(${row.abi}${row.input === undefined ? '' : `, input 0x${row.input.toString(16)}`}) from ${callerLabel(row.caller)} [${row.source}]`;
  const regs = features(row.id, row.input ?? 0);
  return row.caller === 'nwd' ? nwd(label, regs, row.expect) : sp(row.caller, label, regs, row.expect);
});

describe('Hafnium FFA_FEATURES, the whole table against src/api.c', () => {
  for (const runtime of RUNTIMES) {
    it(`every row as Hafnium answers it (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'hafnium', ffaVersion: '1.2', partitions: PARTITIONS }, rows: ROWS });
      assertRows(ROWS, run);
    });
  }
});
