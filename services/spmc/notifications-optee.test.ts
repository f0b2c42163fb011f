/**
 * The notification ABIs under the optee profile (OP-TEE as S-EL1 SPMC with NS-virtualization,
 * thread_spmc.c), every error row of docs/ffa-reference.md §2 and §3, driven through the runtime as the NWd
 * (SPMD link) and OP-TEE's logical SP (relay) call them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FFA_FIDS, GET_FLAGS, SPMC_ID } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
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
  status,
  unbind,
  vmCreated,
  vmDestroyed,
  withRegs,
} from './test-support/calls.ts';
import { assertRows, err, got, info, nwd, ok, records, regsAre, runTable, sp, vmList, type Row } from './test-support/rows.ts';

const OPTEE_SP = 0x8001;
const SP = GET_FLAGS.sp;
const INVALID = 'INVALID_PARAMETERS';

const MATRIX: Row[] = [
  // FFA_NOTIFICATION_BITMAP_CREATE (§2.1) and VM_CREATED before it (§8.18)
  sp(OPTEE_SP, 'create: from an SP → NOT_SUPPORTED', bitmapCreate(1), err('NOT_SUPPORTED')),
  nwd('create: VM 1 before VM_CREATED → INVALID_PARAMETERS (unknown guest)', bitmapCreate(1), err(INVALID)),
  nwd('create: VM 0 is no guest with NS-virtualization → INVALID_PARAMETERS', bitmapCreate(0), err(INVALID)),
  nwd('VM_CREATED(1) to the OP-TEE SP → created', vmCreated(OPTEE_SP, 1), regsAre({ w: { 0: RESP_32, 1: OPTEE_SP << 16, 2: fwk(5), 3: 0 } })),
  nwd('VM_CREATED(2) to the SPMC ID (OP-TEE core) → created', vmCreated(SPMC_ID, 2), regsAre({ w: { 0: RESP_32, 1: SPMC_ID << 16, 2: fwk(5), 3: 0 } })),
  nwd('VM_CREATED(3) beyond CFG_VIRT_GUEST_COUNT → DENIED', vmCreated(OPTEE_SP, 3), regsAre({ w: { 2: fwk(5), 3: status(-6) } })),
  nwd('VM_CREATED(0) → INVALID_PARAMETERS (HYP_CLNT_ID)', vmCreated(OPTEE_SP, 0), regsAre({ w: { 2: fwk(5), 3: status(-2) } })),
  nwd('create: w1[31:16] nonzero → INVALID_PARAMETERS', withRegs(bitmapCreate(1), { 1: 0x0001_0001 }), err(INVALID)),
  nwd('create: w3..w7 nonzero → INVALID_PARAMETERS', withRegs(bitmapCreate(1), { 7: 1 }), err(INVALID)),
  nwd('create: VM 1 → success', bitmapCreate(1), ok()),
  nwd('create: VM 1 again → DENIED', bitmapCreate(1), err('DENIED')),
  nwd('create: VM 2, w2 (vCPU count) ignored → success', withRegs(bitmapCreate(2), { 2: 0xffff_ffff }), ok()),
  // FFA_NOTIFICATION_BIND (§2.3, §3.2)
  sp(OPTEE_SP, 'bind: from an SP → NOT_SUPPORTED', bind(1, OPTEE_SP, 1n), err('NOT_SUPPORTED')),
  nwd('bind: w5..w7 nonzero → INVALID_PARAMETERS', withRegs(bind(OPTEE_SP, 1, 4n), { 6: 1 }), err(INVALID)),
  nwd('bind: per-vCPU flag → DENIED (global only)', bind(OPTEE_SP, 1, 4n, 1), err('DENIED')),
  nwd('bind: reserved flag bit 1 → DENIED', bind(OPTEE_SP, 1, 4n, 2), err('DENIED')),
  nwd('bind: w5..w7 checked before the flags → INVALID_PARAMETERS', withRegs(bind(OPTEE_SP, 1, 4n, 1), { 5: 1 }), err(INVALID)),
  nwd('bind: unknown VM 5 → INVALID_PARAMETERS', bind(OPTEE_SP, 5, 4n), err(INVALID)),
  nwd('bind: VM 1 bit 2 → success', bind(OPTEE_SP, 1, 1n << 2n), ok()),
  nwd('bind: VM 1 bit 2 again → DENIED (bound)', bind(OPTEE_SP, 1, 1n << 2n), err('DENIED')),
  nwd('bind: VM 1 bits 2,3 (2 bound) → DENIED', bind(OPTEE_SP, 1, 0b1100n), err('DENIED')),
  nwd('bind: the sender is not checked (0x8077) → success', bind(0x8077, 1, 1n << 3n), ok()),
  nwd('bind: sender == receiver is not checked → success', bind(1, 1, 1n << 4n), ok()),
  nwd('bind: zero bitmap → success (nothing to bind)', bind(OPTEE_SP, 1, 0n), ok()),
  // FFA_NOTIFICATION_UNBIND
  nwd('unbind: w2 nonzero → INVALID_PARAMETERS', withRegs(unbind(OPTEE_SP, 1, 1n << 2n), { 2: 1 }), err(INVALID)),
  nwd('unbind: w5..w7 nonzero → INVALID_PARAMETERS', withRegs(unbind(OPTEE_SP, 1, 1n << 2n), { 7: 1 }), err(INVALID)),
  nwd('unbind: unknown VM 5 → INVALID_PARAMETERS', unbind(OPTEE_SP, 5, 1n), err(INVALID)),
  nwd('unbind: a never-bound bit → success (not checked)', unbind(OPTEE_SP, 1, 1n << 9n), ok()),
  nwd('unbind: bit 4 by another sender → success (no sender tracking)', unbind(0x8055, 1, 1n << 4n), ok()),
  // FFA_NOTIFICATION_SET (§2.4, §3.3, §8.14)
  nwd('set: from the NWd → NOT_SUPPORTED (not dispatched)', set(1, OPTEE_SP, 1n), err('NOT_SUPPORTED')),
  nwd('features(SET) → success although SET is not dispatched', features(FFA_FIDS.FFA_NOTIFICATION_SET), ok({ 2: 0 })),
  sp(OPTEE_SP, 'set: internal send, VM 1 bit 2 → success (SRI at once, CPU 2)', set(OPTEE_SP, 1, 1n << 2n), ok(), { cpu: 2 }),
  sp(OPTEE_SP, 'set: internal send to an unknown VM 7 → INVALID_PARAMETERS', set(OPTEE_SP, 7, 1n), err(INVALID)),
  sp(OPTEE_SP, 'set: internal send of an unbound bit 10 → success (CPU 1)', set(OPTEE_SP, 1, 1n << 10n), ok(), { cpu: 1 }),
  sp(OPTEE_SP, 'set: internal send as another sender → INVALID_PARAMETERS', set(0x8002, 1, 1n), err(INVALID)),
  // FFA_NOTIFICATION_GET (§2.5, §3.4, §8.11)
  sp(OPTEE_SP, 'get: from an SP → NOT_SUPPORTED', get(OPTEE_SP, SP), err('NOT_SUPPORTED')),
  nwd('get: w5..w7 nonzero → INVALID_PARAMETERS', withRegs(get(1, SP), { 5: 1 }), err(INVALID)),
  nwd('get: without the SP flag → zeros, nothing cleared', get(1, 0b1110), got({})),
  nwd('get: without the SP flag, even for an unknown VM → zeros', get(7, 0), got({})),
  nwd('get: unknown VM 7 → INVALID_PARAMETERS', get(7, SP), err(INVALID)),
  nwd('unbind: a pending bit → DENIED', unbind(OPTEE_SP, 1, 1n << 2n), err('DENIED')),
  nwd('destroy: VM 1 with bits pending → DENIED', bitmapDestroy(1), err('DENIED')),
  nwd('get: every flag, reserved bits, vCPU 9 → the SP bitmap only', get(1, 0xff, 9), got({ sp: (1n << 2n) | (1n << 10n) })),
  nwd('get: VM 1 again → cleared', get(1, SP), got({})),
  // FFA_NOTIFICATION_BITMAP_DESTROY (§2.2, §8.9)
  sp(OPTEE_SP, 'destroy: from an SP → NOT_SUPPORTED', bitmapDestroy(1), err('NOT_SUPPORTED')),
  nwd('destroy: w1[31:16] nonzero → INVALID_PARAMETERS', withRegs(bitmapDestroy(1), { 1: 0x0002_0001 }), err(INVALID)),
  nwd('destroy: w3..w7 nonzero → INVALID_PARAMETERS', withRegs(bitmapDestroy(1), { 4: 1 }), err(INVALID)),
  nwd('destroy: unknown VM 5 → INVALID_PARAMETERS', bitmapDestroy(5), err(INVALID)),
  nwd('destroy: VM 1 with bits bound, none pending → DENIED', bitmapDestroy(1), err('DENIED')),
  sp(OPTEE_SP, 'set: internal send VM 2 bit 12 (nothing bound)', set(OPTEE_SP, 2, 1n << 12n), ok()),
  nwd('destroy: VM 2 with a bit pending, none bound → DENIED', bitmapDestroy(2), err('DENIED')),
  nwd('get: VM 2 bit 12', get(2, SP), got({ sp: 1n << 12n })),
  nwd('destroy: VM 2 → success', bitmapDestroy(2), ok()),
  nwd('destroy: VM 2 again → success (no "created" check)', bitmapDestroy(2), ok()),
  nwd('unbind: VM 1 bits 2,3 → success', unbind(OPTEE_SP, 1, 0b1100n), ok()),
  nwd('destroy: VM 1 → success', bitmapDestroy(1), ok()),
  nwd('create: VM 1 after destroy → success', bitmapCreate(1), ok()),
  // FFA_NOTIFICATION_INFO_GET (§2.6, §3.5, §8.1, §8.13)
  sp(OPTEE_SP, 'info_get: from an SP → NOT_SUPPORTED', infoGet64(), err('NOT_SUPPORTED')),
  nwd('info_get_64: nothing pending → NO_DATA', infoGet64(), err('NO_DATA')),
  nwd('info_get_64: x1..x7 nonzero → INVALID_PARAMETERS', withRegs(infoGet64(), { 7: 1 }), err(INVALID)),
  nwd('info_get_32: w1..w7 nonzero → INVALID_PARAMETERS', withRegs(infoGet32(), { 1: 1 }), err(INVALID)),
  sp(OPTEE_SP, 'set: VM 1 bit 0', set(OPTEE_SP, 1, 1n), ok()),
  sp(OPTEE_SP, 'set: VM 2 bit 0 (its bitmap destroyed, the guest still there)', set(OPTEE_SP, 2, 1n), ok()),
  nwd('info_get_64: newest guest first', infoGet64(), info(false, vmList(2, 1))),
  nwd('info_get_64: again → the same (not destructive)', infoGet64(), info(false, vmList(2, 1))),
  nwd('info_get_32: the same lists in SUCCESS_32', infoGet32(), info(false, vmList(2, 1), 32)),
  nwd('get: VM 2 bit 0', get(2, SP), got({ sp: 1n })),
  nwd('info_get_64: VM 1 only', infoGet64(), info(false, vmList(1))),
  nwd('get: VM 1 bit 0', get(1, SP), got({ sp: 1n })),
  nwd('info_get_64: after GET → NO_DATA', infoGet64(), err('NO_DATA')),
  // VM_DESTROYED, then BITMAP_CREATE (§8.18)
  nwd('VM_DESTROYED(2) → success', vmDestroyed(OPTEE_SP, 2), regsAre({ w: { 0: RESP_32, 2: fwk(7), 3: 0 } })),
  nwd('create: VM 2 after VM_DESTROYED → INVALID_PARAMETERS', bitmapCreate(2), err(INVALID)),
  nwd('VM_DESTROYED(9), unknown → success (always)', vmDestroyed(OPTEE_SP, 9), regsAre({ w: { 2: fwk(7), 3: 0 } })),
  nwd('VM_CREATED(3), a guest slot free again → created', vmCreated(OPTEE_SP, 3), regsAre({ w: { 2: fwk(5), 3: 0 } })),
  nwd('create: VM 3 → success', bitmapCreate(3), ok()),
];

const GUESTS = 22;
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const newestFirst = (from: number, to: number): number[] => range(from, to).reverse();

/** More than 20 guests pending: the list fills, "more pending" stays set while the list is full and another guest is pending. */
const MORE_PENDING: Row[] = [
  ...range(1, GUESTS).map((vm) => nwd(`VM_CREATED(${vm})`, vmCreated(OPTEE_SP, vm), regsAre({ w: { 3: 0 } }))),
  ...range(1, GUESTS).map((vm) => sp(OPTEE_SP, `set: VM ${vm} bit 5`, set(OPTEE_SP, vm, 1n << 5n), ok())),
  ...[1, 2, 3].map((n) => nwd(`info_get_64 #${n}: 20 IDs, more pending, every time`, infoGet64(), info(true, vmList(...newestFirst(3, GUESTS))))),
  nwd('info_get_32: 10 IDs, more pending', infoGet32(), info(true, vmList(...newestFirst(13, GUESTS)), 32)),
  nwd('get: VM 1', get(1, SP), got({ sp: 1n << 5n })),
  nwd('get: VM 2', get(2, SP), got({ sp: 1n << 5n })),
  nwd('info_get_64: 20 pending, list full, no further guest → more pending clear', infoGet64(), info(false, vmList(...newestFirst(3, GUESTS)))),
];

/** Single policies overridden on top of the optee profile. */
const OVERRIDES: Row[] = [
  nwd('set: from the NWd, dispatched (nwdSet: supported) → DENIED (0x8001 takes no notifications)', set(1, OPTEE_SP, 1n), err('DENIED')),
  nwd('VM_CREATED(1)', vmCreated(OPTEE_SP, 1), regsAre({ w: { 3: 0 } })),
  nwd('bind: per-vCPU flag (perVcpuRejection: INVALID_PARAMETERS) → INVALID_PARAMETERS', bind(OPTEE_SP, 1, 1n, 1), err(INVALID)),
  nwd('bind: a reserved flag bit is still OP-TEE\'s DENIED', bind(OPTEE_SP, 1, 1n, 2), err('DENIED')),
];

describe('SPMC notifications, optee profile', () => {
  for (const runtime of RUNTIMES) {
    it(`answers every row of the error matrix (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'optee' }, rows: MATRIX });
      assertRows(MATRIX, run);
      // OP-TEE notif_send_async raises the SRI at once, on the CPU of the setting call.
      const raises = records(run.entries, 'sri-raise').map(({ cpu, intid, delayed }) => ({ cpu, intid, delayed }));
      assert.deepEqual(raises, [2, 1, 0, 0, 0].map((cpu) => ({ cpu, intid: 8, delayed: false })));
    });

    it(`repeats "more pending" for ever while more than 20 guests are pending (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'optee', vmSlots: GUESTS }, rows: MORE_PENDING });
      assertRows(MORE_PENDING, run);
    });

    it(`changes one behaviour per overridden policy (${runtime})`, async () => {
      const policies = { nwdSet: 'supported', perVcpuRejection: 'INVALID_PARAMETERS' };
      const run = await runTable(runtime, { spmc: { profile: 'optee', policies }, rows: OVERRIDES });
      assertRows(OVERRIDES, run);
    });
  }
});
