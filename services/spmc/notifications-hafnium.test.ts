/**
 * The notification ABIs under the hafnium profile (Hafnium as SPMC, src/api.c,
 * src/ffa/spmc/notifications.c, src/vm.c), every error row of docs/ffa-reference.md §2 and §3: per-bit
 * retrieved INFO_GET, "more pending" by count, senders tracked per bit, version gates, NO_MEMORY,
 * INFO_GET_32 unsupported, GET flag rules, delayed SRI, SET from the NWd; and, with the
 * perVcpuNotifications policy, the historical per-vCPU semantics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GET_FLAGS, SET_FLAGS, SPMC_ID } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { PartitionConfig } from './config.ts';
import {
  RESP_32,
  bind,
  bitmapCreate,
  bitmapDestroy,
  features,
  fwk,
  get,
  infoGet32,
  infoGet64,
  set,
  spmIdGet,
  unbind,
  versionRequest,
  withRegs,
} from './test-support/calls.ts';
import {
  assertRows,
  err,
  got,
  info,
  nwd,
  ok,
  recordPositions,
  records,
  regsAre,
  returnPosition,
  runTable,
  sp,
  spmcTimeline,
  vmList,
  type Row,
} from './test-support/rows.ts';

const { sp: SP, vm: VM, spm: SPM, hyp: HYP } = GET_FLAGS;
const { perVcpu: PER_VCPU, delaySri: DELAY_SRI } = SET_FLAGS;
const INVALID = 'INVALID_PARAMETERS';
const NOT_SUPPORTED = 'NOT_SUPPORTED';

const PARTITIONS: PartitionConfig[] = [
  { id: 0x8001, vcpus: 2, notifications: true },
  { id: 0x8002, vcpus: 1, notifications: true },
  { id: 0x8003, notifications: false },
  { id: 0x8004, notifications: true, ffaVersion: '1.0' },
];

const MATRIX: Row[] = [
  // FFA_NOTIFICATION_BITMAP_CREATE (§2.1, §8.8)
  sp(0x8001, 'create: from an SP → NOT_SUPPORTED', bitmapCreate(1), err(NOT_SUPPORTED)),
  nwd('create: a secure ID → INVALID_PARAMETERS', bitmapCreate(0x8001), err(INVALID)),
  nwd('bind: VM 0 before its bitmap → NOT_SUPPORTED (not enabled)', bind(0x8001, 0, 1n), err(NOT_SUPPORTED)),
  nwd('bind: VM 1 without a slot → INVALID_PARAMETERS (no receiver)', bind(0x8001, 1, 1n), err(INVALID)),
  nwd('create: VM 0, the other-world VM (no slot) → success', bitmapCreate(0), ok()),
  nwd('create: VM 0 again → DENIED', bitmapCreate(0), err('DENIED')),
  nwd('create: w1[31:16] is not read (VM 1) → success', withRegs(bitmapCreate(1, 2), { 1: 0x0007_0001 }), ok()),
  nwd('create: VM 1 again → DENIED', bitmapCreate(1), err('DENIED')),
  nwd('create: VM 2, w3..w7 not checked → success', withRegs(bitmapCreate(2, 4), { 5: 9 }), ok()),
  nwd('create: VM 3 → success (the last slot)', bitmapCreate(3), ok()),
  nwd('create: VM 4 → NO_MEMORY (no free slot)', bitmapCreate(4), err('NO_MEMORY')),
  // FFA_NOTIFICATION_BIND (§2.3, §3.2, §8.3, §8.10, §8.17)
  nwd('bind: per-vCPU flag → INVALID_PARAMETERS (unsupported)', bind(0x8001, 1, 4n, PER_VCPU), err(INVALID)),
  nwd('bind: reserved flag bit 1 → INVALID_PARAMETERS', bind(0x8001, 1, 4n, 2), err(INVALID)),
  nwd('bind: w5..w7 not checked; VM 1 bit 2 ← 0x8001 → success', withRegs(bind(0x8001, 1, 1n << 2n), { 6: 5 }), ok()),
  nwd('bind: sender == receiver → INVALID_PARAMETERS', bind(1, 1, 4n), err(INVALID)),
  nwd('bind: an SPMD logical partition sender → INVALID_PARAMETERS', bind(0xffc5, 1, 4n), err(INVALID)),
  nwd('bind: from the NWd for an SP receiver → INVALID_PARAMETERS', bind(0x8002, 0x8001, 4n), err(INVALID)),
  nwd('bind: from the NWd with a VM sender → INVALID_PARAMETERS', bind(2, 1, 4n), err(INVALID)),
  nwd('bind: zero bitmap → INVALID_PARAMETERS', bind(0x8001, 1, 0n), err(INVALID)),
  nwd('bind: receiver VM 9 not found → INVALID_PARAMETERS', bind(0x8001, 9, 4n), err(INVALID)),
  nwd('bind: sender SP 0x8009 does not exist → INVALID_PARAMETERS', bind(0x8009, 1, 1n << 5n), err(INVALID)),
  nwd('bind: bit 2 again → DENIED (bound)', bind(0x8001, 1, 1n << 2n), err('DENIED')),
  nwd('bind: bit 2 to another sender → DENIED (bound)', bind(0x8002, 1, 1n << 2n), err('DENIED')),
  nwd('bind: VM 1 bits 3,4 ← 0x8002 → success', bind(0x8002, 1, 0b11000n), ok()),
  sp(0x8002, 'bind: an SP binds its own bit 0 to 0x8001 → success', bind(0x8001, 0x8002, 1n), ok()),
  sp(0x8002, 'bind: an SP binds its own bit 1 to VM 1 → success', bind(1, 0x8002, 1n << 1n), ok()),
  sp(0x8002, 'bind: an SP for another receiver → INVALID_PARAMETERS', bind(0x8002, 0x8001, 1n), err(INVALID)),
  sp(0x8003, 'bind: a receiver without notifications → NOT_SUPPORTED', bind(0x8001, 0x8003, 1n), err(NOT_SUPPORTED)),
  sp(0x8004, 'bind: a receiver at FF-A v1.0 → NOT_SUPPORTED', bind(0x8001, 0x8004, 1n), err(NOT_SUPPORTED)),
  nwd('VERSION 1.0 from the SPMD → 1.2 (own), the NWd now at 1.0', versionRequest(SPMC_ID, 0x1_0000), regsAre({ w: { 0: RESP_32, 2: fwk(9), 3: 0x1_0002 } })),
  nwd('bind: VM receivers at v1.0 → NOT_SUPPORTED', bind(0x8001, 1, 1n << 6n), err(NOT_SUPPORTED)),
  nwd('VERSION 1.2 from the SPMD → 1.2', versionRequest(SPMC_ID, 0x1_0002), regsAre({ w: { 2: fwk(9), 3: 0x1_0002 } })),
  // FFA_NOTIFICATION_UNBIND
  nwd('unbind: a never-bound bit → DENIED', unbind(0x8001, 1, 1n << 9n), err('DENIED')),
  nwd('unbind: bit 3 by the wrong sender → DENIED', unbind(0x8001, 1, 1n << 3n), err('DENIED')),
  nwd('unbind: zero bitmap → INVALID_PARAMETERS', unbind(0x8002, 1, 0n), err(INVALID)),
  nwd('unbind: w2 is not read; bit 4 ← 0x8002 → success', withRegs(unbind(0x8002, 1, 1n << 4n), { 2: 1 }), ok()),
  // FFA_NOTIFICATION_SET (§2.4, §3.3, §3.6, §8.14)
  sp(0x8002, 'set: as another sender → INVALID_PARAMETERS', set(0x8001, 1, 1n << 2n), err(INVALID)),
  sp(0x8001, 'set: sender == receiver → INVALID_PARAMETERS', set(0x8001, 0x8001, 1n), err(INVALID)),
  sp(0x8001, 'set: to an SPMD logical partition → INVALID_PARAMETERS', set(0x8001, 0xffc0, 1n), err(INVALID)),
  nwd('set: from the NWd with an SP sender → INVALID_PARAMETERS', set(0x8001, 0x8002, 1n), err(INVALID)),
  nwd('set: from the NWd to a VM → INVALID_PARAMETERS', set(1, 2, 1n), err(INVALID)),
  sp(0x8001, 'set: per-vCPU flag → INVALID_PARAMETERS (unsupported)', set(0x8001, 1, 1n << 2n, PER_VCPU, 1), err(INVALID)),
  sp(0x8001, 'set: reserved flag bit 5 → INVALID_PARAMETERS', set(0x8001, 1, 1n << 2n, 1 << 5), err(INVALID)),
  sp(0x8001, 'set: global with a vCPU ID → INVALID_PARAMETERS', set(0x8001, 1, 1n << 2n, 0, 3), err(INVALID)),
  nwd('set: delay-SRI from the NWd → INVALID_PARAMETERS', set(1, 0x8002, 1n << 1n, DELAY_SRI), err(INVALID)),
  sp(0x8001, 'set: zero bitmap → INVALID_PARAMETERS', set(0x8001, 1, 0n), err(INVALID)),
  sp(0x8001, 'set: receiver VM 9 not found → INVALID_PARAMETERS', set(0x8001, 9, 1n), err(INVALID)),
  sp(0x8001, 'set: a receiver without notifications → DENIED', set(0x8001, 0x8003, 1n), err('DENIED')),
  sp(0x8001, 'set: an unbound bit → DENIED', set(0x8001, 1, 1n << 7n), err('DENIED')),
  sp(0x8001, 'set: a bit bound to 0x8002 → DENIED', set(0x8001, 1, 1n << 3n), err('DENIED')),
  sp(0x8001, 'set: VM 1 bit 2 → success (SRI, CPU 2)', set(0x8001, 1, 1n << 2n), ok(), { cpu: 2 }),
  sp(0x8001, 'set: VM 1 bit 2 again → success (idempotent; SRI, CPU 2)', set(0x8001, 1, 1n << 2n), ok(), { cpu: 2 }),
  nwd('bind: a pending bit → DENIED', bind(0x8001, 1, 1n << 2n), err('DENIED')),
  nwd('unbind: a pending bit → DENIED', unbind(0x8001, 1, 1n << 2n), err('DENIED')),
  nwd('destroy: VM 1 with a bit pending → DENIED', bitmapDestroy(1), err('DENIED')),
  nwd('set: VM 1 → SP 0x8002 bit 1 → success (SRI, CPU 1)', set(1, 0x8002, 1n << 1n), ok(), { cpu: 1 }),
  sp(0x8001, 'set: SP 0x8001 → SP 0x8002 bit 0 → success (SRI, CPU 0)', set(0x8001, 0x8002, 1n), ok()),
  // FFA_NOTIFICATION_INFO_GET (§2.6, §3.5, §8.1, §8.2, §8.13)
  sp(0x8001, 'info_get: from an SP → NOT_SUPPORTED', infoGet64(), err(NOT_SUPPORTED)),
  nwd('info_get_32 → NOT_SUPPORTED (only _64 is decoded)', infoGet32(), err(NOT_SUPPORTED)),
  nwd('info_get_64: SPs first, then VMs; x1..x7 not checked', withRegs(infoGet64(), { 1: 5 }), info(false, vmList(0x8002, 1))),
  nwd('info_get_64: again → NO_DATA (destructive)', infoGet64(), err('NO_DATA')),
  sp(0x8002, 'set: VM 1 bit 3 ← 0x8002 → success', set(0x8002, 1, 1n << 3n), ok()),
  nwd('info_get_64: only the newly pending VM 1', infoGet64(), info(false, vmList(1))),
  // FFA_NOTIFICATION_GET (§2.5, §3.4, §8.11)
  nwd('get: flags bits [31:4] → INVALID_PARAMETERS', get(1, 0x11), err(INVALID)),
  nwd('get: from the NWd for an SP → INVALID_PARAMETERS', get(0x8002, SP), err(INVALID)),
  sp(0x8001, 'get: an SP for another receiver → INVALID_PARAMETERS', get(0x8002, SP), err(INVALID)),
  nwd('get: the VM bitmap of a VM → INVALID_PARAMETERS', get(1, SP | VM), err(INVALID)),
  nwd('get: the hypervisor bitmap of a VM → INVALID_PARAMETERS', get(1, SP | HYP), err(INVALID)),
  nwd('get: vCPU 2 of a 2-vCPU VM → INVALID_PARAMETERS', get(1, SP, 2), err(INVALID)),
  nwd('get: VM 9 not found → INVALID_PARAMETERS', get(9, SP), err(INVALID)),
  nwd('get: VM 1, SPM only → SP bits stay pending', get(1, SPM, 1), got({})),
  nwd('get: VM 1, SP → bits 2 and 3', get(1, SP, 1), got({ sp: 0b1100n })),
  nwd('get: VM 1 again → 0', get(1, SP), got({})),
  sp(0x8002, 'get: vCPU 1 of a 1-vCPU SP → INVALID_PARAMETERS', get(0x8002, SP | VM, 1), err(INVALID)),
  sp(0x8002, 'get: an SP, its SP and VM bitmaps', get(0x8002, SP | VM), got({ sp: 1n, vm: 1n << 1n })),
  sp(0x8001, 'set: VM 1 bit 2 after GET', set(0x8001, 1, 1n << 2n), ok()),
  nwd('info_get_64: reported again after GET reset "retrieved"', infoGet64(), info(false, vmList(1))),
  nwd('get: VM 1 bit 2', get(1, SP), got({ sp: 4n })),
  // delayed SRI (§3.6, §8.6): a relayed SP call outside any request is a run the NWd gave the SP,
  // so its end is the return to the NWd on CPU 3 (inside a request: delayed-sri.test.ts)
  sp(0x8001, 'set: delay-SRI, CPU 3 → success (SRI delayed to the end of the SP\'s run)', set(0x8001, 1, 1n << 2n, DELAY_SRI), ok(), { cpu: 3 }),
  nwd('a return to the NWd on CPU 3 raises nothing more', spmIdGet(), ok({ 2: SPMC_ID }), { cpu: 3 }),
  nwd('get: VM 1 (the delayed one)', get(1, SP), got({ sp: 4n })),
  // FFA_NOTIFICATION_BITMAP_DESTROY (§2.2, §8.9)
  sp(0x8001, 'destroy: from an SP → NOT_SUPPORTED', bitmapDestroy(1), err(NOT_SUPPORTED)),
  nwd('destroy: a secure ID → INVALID_PARAMETERS', bitmapDestroy(0x8001), err(INVALID)),
  nwd('destroy: VM 9 never created → DENIED', bitmapDestroy(9), err('DENIED')),
  nwd('destroy: VM 1 with bindings (not checked) → success', bitmapDestroy(1), ok()),
  nwd('destroy: VM 1 again → DENIED', bitmapDestroy(1), err('DENIED')),
  nwd('create: VM 4 takes the freed slot → success', bitmapCreate(4), ok()),
  nwd('create: VM 1 → NO_MEMORY (slots full again)', bitmapCreate(1), err('NO_MEMORY')),
  nwd('destroy: VM 0 → success', bitmapDestroy(0), ok()),
  nwd('create: VM 0 again → success', bitmapCreate(0), ok()),
];

const VMS = 25;
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** 25 VMs pending: 20 IDs per INFO_GET_64, "more pending" by count, retrieved bits not reported again. */
const MORE_PENDING: Row[] = [
  ...range(1, VMS).map((vm) => nwd(`create: VM ${vm}`, bitmapCreate(vm), ok())),
  ...range(1, VMS).map((vm) => nwd(`bind: VM ${vm} bit 0 ← 0x8001`, bind(0x8001, vm, 1n), ok())),
  ...range(1, VMS).map((vm) => sp(0x8001, `set: VM ${vm} bit 0`, set(0x8001, vm, 1n), ok())),
  nwd('info_get_64 #1: VMs 1..20, more pending', infoGet64(), info(true, vmList(...range(1, 20)))),
  nwd('info_get_64 #2: VMs 21..25, nothing more', infoGet64(), info(false, vmList(...range(21, 25)))),
  nwd('info_get_64 #3: everything retrieved → NO_DATA', infoGet64(), err('NO_DATA')),
  nwd('get: VM 3', get(3, SP), got({ sp: 1n })),
  sp(0x8001, 'set: VM 3 bit 0 again', set(0x8001, 3, 1n), ok()),
  nwd('info_get_64 #4: VM 3 only', infoGet64(), info(false, vmList(3))),
];

/** Hafnium before d4065ce2: per-vCPU notifications (perVcpuNotifications: supported). */
const PER_VCPU_ROWS: Row[] = [
  nwd('features(NOTIFICATION) → 0 (per-vCPU supported for VMs and SPs)', features(4), ok({ 2: 0 })),
  nwd('create: VM 1 with 8 vCPUs', bitmapCreate(1, 8), ok()),
  nwd('create: VM 2 with 8 vCPUs', bitmapCreate(2, 8), ok()),
  nwd('bind: VM 1 bit 0 per-vCPU', bind(0x8001, 1, 1n, PER_VCPU), ok()),
  nwd('bind: VM 1 bit 1 global', bind(0x8001, 1, 2n), ok()),
  nwd('bind: VM 2 bit 0 per-vCPU', bind(0x8001, 2, 1n, PER_VCPU), ok()),
  sp(0x8001, 'set: a per-vCPU-bound bit as global → INVALID_PARAMETERS (89c22131)', set(0x8001, 1, 1n), err(INVALID)),
  sp(0x8001, 'set: a global-bound bit per vCPU → INVALID_PARAMETERS (89c22131)', set(0x8001, 1, 2n, PER_VCPU, 2), err(INVALID)),
  sp(0x8001, 'set: per-vCPU, vCPU 8 of 8 → INVALID_PARAMETERS', set(0x8001, 1, 1n, PER_VCPU, 8), err(INVALID)),
  sp(0x8001, 'set: VM 1 bit 0 on vCPU 3', set(0x8001, 1, 1n, PER_VCPU, 3), ok()),
  sp(0x8001, 'set: VM 1 bit 0 on vCPU 5', set(0x8001, 1, 1n, PER_VCPU, 5), ok()),
  sp(0x8001, 'set: VM 1 bit 1 global', set(0x8001, 1, 2n), ok()),
  ...[0, 1, 2, 4, 6].map((vcpu) => sp(0x8001, `set: VM 2 bit 0 on vCPU ${vcpu}`, set(0x8001, 2, 1n, PER_VCPU, vcpu), ok())),
  nwd(
    'info_get_64: global then vCPU IDs in one list; a new list after 3 vCPU IDs',
    infoGet64(),
    info(false, [
      { id: 1, vcpus: [3, 5] },
      { id: 2, vcpus: [0, 1, 2] },
      { id: 2, vcpus: [4, 6] },
    ]),
  ),
  nwd('get: VM 1 on vCPU 3 → global bit 1 + vCPU 3\'s bit 0', get(1, SP, 3), got({ sp: 0b11n })),
  nwd('get: VM 1 on vCPU 5 → vCPU 5\'s bit 0', get(1, SP, 5), got({ sp: 1n })),
  nwd('get: VM 1 on vCPU 3 again → 0', get(1, SP, 3), got({})),
  nwd('get: VM 1 on vCPU 8 → INVALID_PARAMETERS', get(1, SP, 8), err(INVALID)),
];

describe('SPMC notifications, hafnium profile', () => {
  for (const runtime of RUNTIMES) {
    it(`answers every row of the error matrix (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'hafnium', partitions: PARTITIONS, vmSlots: 3 }, rows: MATRIX });
      assertRows(MATRIX, run);
      const raises = records(run.entries, 'sri-raise').map(({ cpu, delayed }) => ({ cpu, delayed }));
      assert.deepEqual(raises, [
        ...[2, 2, 1, 0, 0, 0].map((cpu) => ({ cpu, delayed: false })),
        { cpu: 3, delayed: true },
      ]);
      assert.deepEqual(records(run.entries, 'sri-delayed').map(({ cpu }) => cpu), [3]);
      // The delayed SRI goes out just before the SP's SET returns: the end of its run.
      const timeline = spmcTimeline(run.entries, MATRIX);
      const delayedRaise = recordPositions(timeline, 'sri-raise').at(-1) ?? -1;
      assert.equal(delayedRaise, returnPosition(timeline, 'set: delay-SRI, CPU 3 → success (SRI delayed to the end of the SP\'s run)') - 1);
    });

    it(`hands out more than 20 pending VMs over several INFO_GET_64 calls (${runtime})`, async () => {
      const spmc = { profile: 'hafnium' as const, vmSlots: VMS, partitions: [{ id: 0x8001, notifications: true }] };
      const run = await runTable(runtime, { spmc, rows: MORE_PENDING });
      assertRows(MORE_PENDING, run);
    });

    it(`keeps the historical per-vCPU semantics behind a policy (${runtime})`, async () => {
      const spmc = { profile: 'hafnium' as const, policies: { perVcpuNotifications: 'supported' }, partitions: [{ id: 0x8001, vcpus: 4, notifications: true }] };
      const run = await runTable(runtime, { spmc, rows: PER_VCPU_ROWS });
      assertRows(PER_VCPU_ROWS, run);
    });
  }
});
