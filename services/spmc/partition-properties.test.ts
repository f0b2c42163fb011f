/**
 * Partition properties per caller under the Hafnium profile (api.c
 * api_ffa_partitions_info_get_properties over src/ffa/spmc/setup_and_discovery.c
 * ffa_setup_partition_properties), read back through FFA_PARTITION_INFO_GET_REGS:
 * - DIRECT_REQ_SEND only to SP callers: an SP never sends a direct request to the other world;
 * - NOTIFICATION and INDIRECT_MSG only for partitions at FF-A v1.1 or later;
 * - VM_CREATED / VM_DESTROYED only to NWd callers (the hypervisor is who sends them).
 * The OP-TEE profile reports the same bits to every caller (thread_spmc.c
 * spmc_fill_partition_entry): setup-and-discovery.test.ts.
 */
import { describe, it } from 'node:test';
import { ffaPartitionInfoGetRegs, type PartitionInfo } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { PartitionConfig } from './config.ts';
import { assertRows, nwd, regsAre, runTable, sp, type Expect, type Row } from './test-support/rows.ts';

const CURRENT = 0x8001;
const OLD = 0x8002;
const CURRENT_UUID = '5a5a8001-0000-4000-8000-000000000001';
const OLD_UUID = '5a5a8002-0000-4000-8000-000000000001';

/** Both SPs ask for everything: direct, indirect, notifications; the v1.2 one also VM_CREATED/DESTROYED. */
const PARTITIONS: PartitionConfig[] = [
  { id: CURRENT, uuid: CURRENT_UUID, vcpus: 2, ffaVersion: '1.2', notifications: true, messaging: ['direct', 'indirect', 'vm-created', 'vm-destroyed'] },
  { id: OLD, uuid: OLD_UUID, vcpus: 1, ffaVersion: '1.0', notifications: true, messaging: ['direct', 'indirect'] },
];

/** Linux arm_ffa.h FFA_PARTITION_*: direct recv 1, send 2, indirect 4, notifications 8, VM created 64, destroyed 128, AArch64 256. */
const TO_NWD: PartitionInfo[] = [
  { id: CURRENT, vcpus: 2, properties: 0x100 | 0x80 | 0x40 | 0x8 | 0x4 | 0x1, uuid: CURRENT_UUID },
  { id: OLD, vcpus: 1, properties: 0x100 | 0x1, uuid: OLD_UUID },
];
const TO_SP: PartitionInfo[] = [
  { id: CURRENT, vcpus: 2, properties: 0x100 | 0x8 | 0x4 | 0x2 | 0x1, uuid: CURRENT_UUID },
  { id: OLD, vcpus: 1, properties: 0x100 | 0x2 | 0x1, uuid: OLD_UUID },
];

function table(partitions: PartitionInfo[]): Expect {
  const regs = ffaPartitionInfoGetRegs.success!.encode({ lastIndex: 1, currentIndex: 1, tag: 0, partitions });
  return regsAre({ x: Object.fromEntries(regs.map((value, index) => [index, value])) });
}

const ROWS: Row[] = [
  nwd('the NWd: no DIRECT_REQ_SEND; VM messages; nothing v1.1 for the v1.0 SP', ffaPartitionInfoGetRegs.encodeCall({}), table(TO_NWD)),
  sp(CURRENT, 'an SP: DIRECT_REQ_SEND; no VM messages; nothing v1.1 for the v1.0 SP', ffaPartitionInfoGetRegs.encodeCall({}), table(TO_SP)),
];

describe('Hafnium partition properties per caller', () => {
  for (const runtime of RUNTIMES) {
    it(`PARTITION_INFO_GET_REGS from the NWd and from an SP (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'hafnium', partitions: PARTITIONS }, rows: ROWS });
      assertRows(ROWS, run);
    });
  }
});
