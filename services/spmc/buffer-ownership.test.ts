/**
 * RX/TX buffers at the SPMC and who owns an RX buffer (buffer-ownership.ts), under both profiles:
 * a Hafnium SPMC takes a VM's buffers from the hypervisor (the forwarded FFA_RXTX_MAP with the
 * endpoint descriptor in the hypervisor's TX buffer), lets the hypervisor acquire a VM's empty RX
 * buffer and release it again, and writes an SP's message into it; OP-TEE has one pair for the
 * normal world and no FFA_RX_ACQUIRE. Rows follow Hafnium src/api.c (api_ffa_rxtx_map,
 * api_vm_configure_pages, api_ffa_rxtx_unmap, api_ffa_rx_release, api_release_mailbox,
 * api_ffa_rx_acquire) and OP-TEE thread_spmc.c.
 */
import { describe, it } from 'node:test';
import { FFA_FIDS, GET_FLAGS, rxWrite } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { PartitionConfig } from './config.ts';
import {
  bitmapCreate,
  bitmapDestroy,
  features,
  forwardedRxtxMap,
  get,
  message,
  msgSend2Call,
  partitionInfoGet,
  rxAcquire,
  rxRelease,
  rxtxDescriptor,
  rxtxMap,
  rxtxUnmap,
} from './test-support/calls.ts';
import { assertRows, err, got, nwd, ok, runTable, sp, type Row } from './test-support/rows.ts';

const INVALID = 'INVALID_PARAMETERS';
const NOT_SUPPORTED = 'NOT_SUPPORTED';
const SP = 0x8003;
const PARTITIONS: PartitionConfig[] = [{ id: SP, vcpus: 2, notifications: true, messaging: ['direct', 'indirect'] }];

const HAFNIUM_ROWS: Row[] = [
  nwd('features(RX_ACQUIRE) from the NWd (the hypervisor) → success', features(FFA_FIDS.FFA_RX_ACQUIRE), ok({ 2: 0 })),
  sp(SP, 'features(RX_ACQUIRE) from an SP → NOT_SUPPORTED', features(FFA_FIDS.FFA_RX_ACQUIRE), err(NOT_SUPPORTED)),
  nwd('rxtx_map_32 → NOT_SUPPORTED (no case in handler.c)', [BigInt(FFA_FIDS.FFA_RXTX_MAP_32), 0x10_0000n, 0x10_1000n, 1n, ...new Array<bigint>(14).fill(0n)], err(NOT_SUPPORTED)),
  // A VM's buffers, forwarded by the hypervisor
  nwd('forwarded map before the hypervisor mapped its own → INVALID_PARAMETERS', forwardedRxtxMap(), err(INVALID), { tx: rxtxDescriptor(2) }),
  nwd('the hypervisor maps its own buffers', rxtxMap(0x4000_0000n, 0x4000_1000n), ok()),
  nwd('forwarded map, no descriptor in the hypervisor\'s TX buffer → INVALID_PARAMETERS', forwardedRxtxMap(), err(INVALID)),
  nwd('forwarded map naming an SP → INVALID_PARAMETERS', forwardedRxtxMap(), err(INVALID), { tx: rxtxDescriptor(SP) }),
  nwd('bitmap_create for VM 2 (its slot)', bitmapCreate(2), ok()),
  nwd('forwarded map for VM 2 → success', forwardedRxtxMap(), ok(), { tx: rxtxDescriptor(2) }),
  nwd('forwarded map for VM 2 again → DENIED', forwardedRxtxMap(), err('DENIED'), { tx: rxtxDescriptor(2) }),
  nwd('forwarded map for VM 3, two pages → INVALID_PARAMETERS (its slot stays taken)', forwardedRxtxMap(), err(INVALID), { tx: rxtxDescriptor(3, 0x7000_0000n, 0x7000_2000n, 2) }),
  nwd('forwarded map for VM 4: no slot free (vmSlots 2) → DENIED', forwardedRxtxMap(), err('DENIED'), { tx: rxtxDescriptor(4) }),
  // FFA_RX_ACQUIRE
  sp(SP, 'rx_acquire from an SP → NOT_SUPPORTED', rxAcquire(2), err(NOT_SUPPORTED)),
  nwd('rx_acquire naming an SP → NOT_SUPPORTED', rxAcquire(SP), err(NOT_SUPPORTED)),
  nwd('rx_acquire for an unknown VM → INVALID_PARAMETERS', rxAcquire(5), err(INVALID)),
  nwd('rx_acquire for VM 3, slot but no buffers → INVALID_PARAMETERS', rxAcquire(3), err(INVALID)),
  nwd('rx_acquire for VM 2 → success (other-world-owned)', rxAcquire(2), ok()),
  nwd('rx_acquire for VM 2 again → DENIED', rxAcquire(2), err('DENIED')),
  sp(SP, 'rxtx_map for the SP', rxtxMap(), ok()),
  sp(SP, 'send2 SP → VM 2 while the hypervisor owns its RX buffer → BUSY', msgSend2Call(), err('BUSY'), { tx: message(SP, 2, 32) }),
  nwd('rx_release for VM 2 (forwarded) → success, the SPMC owns it again', rxRelease(2), ok()),
  // An SP's message to a VM, through the VM's RX buffer at the SPMC
  sp(SP, 'send2 SP → VM 2 → success', msgSend2Call(), ok(), { tx: message(SP, 2, 32) }),
  sp(SP, 'send2 SP → VM 2 again → BUSY (full)', msgSend2Call(), err('BUSY'), { tx: message(SP, 2, 32) }),
  nwd('rx_acquire for VM 2 while full → DENIED', rxAcquire(2), err('DENIED')),
  nwd('rx_release for VM 2 with RX-full pending → DENIED', rxRelease(2), err('DENIED')),
  nwd('get VM 2, SPM framework → bit 0, the message to read', get(2, GET_FLAGS.sp | GET_FLAGS.spm), got({ spm: 1n }), { rx: rxWrite(2, message(SP, 2, 32).content) }),
  nwd('rx_release for VM 2 → success', rxRelease(2), ok()),
  nwd('rx_release for VM 2 again → DENIED (empty)', rxRelease(2), err('DENIED')),
  sp(SP, 'rx_release from an SP naming a VM → INVALID_PARAMETERS', rxRelease(2), err(INVALID)),
  nwd('bitmap_destroy VM 2: the slot stays, its buffers are mapped', bitmapDestroy(2), ok()),
  nwd('rx_acquire for VM 2 after its bitmap went → success', rxAcquire(2), ok()),
  nwd('rx_release for VM 2', rxRelease(2), ok()),
  // FFA_RXTX_UNMAP on a VM's behalf
  nwd('rxtx_unmap naming an SP → INVALID_PARAMETERS', rxtxUnmap(SP), err(INVALID)),
  nwd('rxtx_unmap for VM 2 → success (and its slot goes)', rxtxUnmap(2), ok()),
  nwd('rxtx_unmap for VM 2 again → INVALID_PARAMETERS (not found)', rxtxUnmap(2), err(INVALID)),
  nwd('rx_acquire for VM 2 → INVALID_PARAMETERS (not found)', rxAcquire(2), err(INVALID)),
  sp(SP, 'rxtx_unmap from an SP naming a VM → INVALID_PARAMETERS', rxtxUnmap(2), err(INVALID)),
  nwd('the hypervisor\'s own buffer: partition info → the descriptors, its RX full', partitionInfoGet(), ok({ 2: 1, 3: 24 })),
  nwd('rx_acquire of VM 0 while its buffer is full → DENIED', rxAcquire(0), err('DENIED')),
  nwd('rx_release of the hypervisor\'s own buffer', rxRelease(), ok()),
];

const OPTEE_ROWS: Row[] = [
  nwd('features(RX_ACQUIRE) → NOT_SUPPORTED', features(FFA_FIDS.FFA_RX_ACQUIRE), err(NOT_SUPPORTED)),
  nwd('rx_acquire → NOT_SUPPORTED (not dispatched)', rxAcquire(2), err(NOT_SUPPORTED)),
  nwd('a forwarded map: page count 0 → INVALID_PARAMETERS', forwardedRxtxMap(), err(INVALID), { tx: rxtxDescriptor(2) }),
  nwd('rxtx_map_32 → success', [BigInt(FFA_FIDS.FFA_RXTX_MAP_32), 0x10_0000n, 0x10_1000n, 1n, ...new Array<bigint>(14).fill(0n)], ok()),
  nwd('rx_release naming a VM: w1 not read, the buffer is empty → DENIED', rxRelease(2), err('DENIED')),
  nwd('rxtx_unmap naming a VM: w1 not read → success', rxtxUnmap(2), ok()),
];

describe('SPMC RX/TX buffers and RX ownership', () => {
  for (const runtime of RUNTIMES) {
    it(`hafnium profile: a VM's buffers through the hypervisor, RX_ACQUIRE and RX_RELEASE by state (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'hafnium', partitions: PARTITIONS, vmSlots: 2 }, rows: HAFNIUM_ROWS });
      assertRows(HAFNIUM_ROWS, run);
    });

    it(`optee profile: one pair for the normal world, no RX_ACQUIRE (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'optee', partitions: PARTITIONS }, rows: OPTEE_ROWS });
      assertRows(OPTEE_ROWS, run);
    });
  }
});
