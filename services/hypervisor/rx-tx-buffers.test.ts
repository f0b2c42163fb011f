/**
 * A guest's RX/TX buffers through Xen (rx-tx-buffers.ts, indirect-messaging.ts) against a Hafnium
 * SPMC, which reports FFA_RX_ACQUIRE to the normal world, under both runtimes. Xen ffa_rxtx.c:
 * the guest's buffers are mapped at the SPMC too (the descriptor in Xen's TX buffer), Xen
 * acquires the guest's RX buffer there before it writes partition descriptors into it and
 * forwards the guest's release; ffa_msg.c: a guest's FFA_MSG_SEND2 to an SP goes to the SPMC
 * with the guest's TX buffer. And what follows from `rx_is_free` being Xen's alone: an SP's
 * message lands in the guest's RX buffer at the SPMC, the guest reads it after GET, but its
 * FFA_RX_RELEASE is refused by Xen and never reaches the SPMC, so the buffer stays full there:
 * the SP's next message is BUSY and Xen's next acquire is DENIED.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  abiNameOf,
  FFA_FIDS,
  GET_FLAGS,
  MESSAGE_HEADER_SIZE_V1_2,
  NIL_UUID,
  ffaPartitionInfoGet,
  ffaRxtxMap64,
  msgSend2,
  notificationGet,
  registers,
  rxWrite,
  txWrite,
  w,
  type IndirectMessage,
  type RegisterFile,
} from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { ActorStep } from './test-support/actor.ts';
import { assertError, assertSuccess } from './test-support/expect.ts';
import { HYPERVISOR, SPMC, callsWithMemory, createVm, hvc, lifecycleOp, memoryOf, resultsOf, returned, runHypervisorWorld, type SpDescription } from './test-support/world.ts';

const VM1 = 1;
const SP = 0x8003;
const SP_UUID = '5a5a8003-0000-4000-8000-000000000001';
const PARTITIONS: SpDescription[] = [{ id: SP, name: 'sp', behaviour: 'raw', vcpus: 1, uuid: SP_UUID, notifications: true, messaging: ['direct', 'indirect'] }];

const message = (sender: number, receiver: number, size: number): IndirectMessage => ({ kind: 'message', sender, receiver, offset: MESSAGE_HEADER_SIZE_V1_2, size, uuid: NIL_UUID });

/** A call the SP makes, through the SPMC's relay. */
function sp(label: string, regs: RegisterFile, tx?: IndirectMessage): ActorStep {
  return { do: 'call', label, to: SPMC, conduit: 'relay', endpoint: SP, vcpu: 0, cpu: 0, regs, ...(tx ? { memory: txWrite(SP, tx) } : {}) };
}

function guest(label: string, regs: RegisterFile, tx?: IndirectMessage): ActorStep {
  return { ...hvc(label, VM1, regs), ...(tx ? { memory: txWrite(VM1, tx) } : {}) };
}

const map = (page: bigint) => ffaRxtxMap64.encodeCall({ tx: page, rx: page + 0x1000n, pageCount: 1 });
const get = () => notificationGet.encodeCall({ receiver: VM1, vcpu: 0, flags: GET_FLAGS.sp | GET_FLAGS.spm });

function steps(): ActorStep[] {
  return [
    createVm({ name: 'vm1', id: VM1, vcpus: 1, component: 'driver' }),
    guest('version', registers(FFA_FIDS.FFA_VERSION, 0x1_0002)),
    guest('map', map(0x4800_0000n)),
    guest('partinfo', ffaPartitionInfoGet.encodeCall({})),
    guest('partinfo while the guest has it', ffaPartitionInfoGet.encodeCall({})),
    guest('release', registers(FFA_FIDS.FFA_RX_RELEASE)),
    // An SP's message to the guest, written into the guest's RX buffer at the SPMC
    sp('sp map', map(0x6000_0000n)),
    sp('sp send2 to vm1', msgSend2.encodeCall({}), message(SP, VM1, 48)),
    guest('partinfo with a message in the buffer', ffaPartitionInfoGet.encodeCall({})),
    guest('get', get()),
    guest('release the message', registers(FFA_FIDS.FFA_RX_RELEASE)),
    sp('sp send2 again', msgSend2.encodeCall({}), message(SP, VM1, 48)),
    // The guest's own message to the SP, from its TX buffer
    guest('send2 to the sp, sender not itself', msgSend2.encodeCall({}), message(2, SP, 16)),
    guest('send2 to the sp, size 0', msgSend2.encodeCall({}), message(VM1, SP, 0)),
    guest('send2 to another vm', msgSend2.encodeCall({}), message(VM1, 3, 16)),
    guest('send2 to the sp', msgSend2.encodeCall({}), message(VM1, SP, 16)),
    sp('sp get', notificationGet.encodeCall({ receiver: SP, vcpu: 0, flags: GET_FLAGS.spm | GET_FLAGS.hyp })),
    guest('unmap', registers(FFA_FIDS.FFA_RXTX_UNMAP)),
    guest('map again', map(0x4800_0000n)),
    lifecycleOp('vm-destroy', { name: 'vm1' }, 'destroy vm1'),
  ];
}

for (const runtime of RUNTIMES) {
  test(`a guest's buffers through Xen at a Hafnium SPMC, and an SP's message the guest cannot release [${runtime}]`, async () => {
    const entries = await runHypervisorWorld({ spmcProfile: 'hafnium', partitions: PARTITIONS, actors: { driver: { steps: steps() } } }, runtime);
    const results = resultsOf(entries, 'driver');
    const r = (label: string) => returned(results, label);
    const memory = memoryOf(entries, 'driver');
    assertSuccess(r('map'), 'map');
    // The SPMC's descriptor for a normal-world caller, as Xen cached it: DIRECT_REQ_SEND masked.
    assertSuccess(r('partinfo'), 'partinfo', { w2: 1, w3: 24 });
    assert.deepEqual(memory.get('partinfo'), rxWrite(VM1, { kind: 'partition-info', descriptorSize: 24, partitions: [{ id: SP, vcpus: 1, properties: 0x10d, uuid: SP_UUID }] }));
    assertError(r('partinfo while the guest has it'), 'BUSY', 'the guest\'s until released');
    assertSuccess(r('release'), 'release');
    assertSuccess(r('sp send2 to vm1'), 'the SPMC writes the guest\'s RX buffer');
    assertError(r('partinfo with a message in the buffer'), 'DENIED', 'Xen cannot acquire a full buffer from the SPMC');
    assertSuccess(r('get'), 'get', { x: { 6: 1n } });
    assert.deepEqual(memory.get('get'), rxWrite(VM1, message(SP, VM1, 48)), 'the message, read after GET');
    assertError(r('release the message'), 'DENIED', 'Xen: rx_is_free, so the release is not forwarded');
    assertError(r('sp send2 again'), 'BUSY', 'the buffer is still full at the SPMC');
    assertError(r('send2 to the sp, sender not itself'), 'INVALID_PARAMETERS', 'src');
    assertError(r('send2 to the sp, size 0'), 'INVALID_PARAMETERS', 'size 0');
    assertError(r('send2 to another vm'), 'INVALID_PARAMETERS', 'no VM-to-VM');
    assertSuccess(r('send2 to the sp'), 'send2 to the sp');
    assertSuccess(r('sp get'), 'sp get', { x: { 7: 1n } });
    assert.deepEqual(memory.get('sp get'), rxWrite(SP, message(VM1, SP, 16)));
    assertSuccess(r('unmap'), 'unmap');
    assertSuccess(r('map again'), 'map again');

    // What Xen asked of the SPMC for the guest, after it created the VM's bitmap (SRI-driven INFO_GETs left out).
    const calls = callsWithMemory(entries, 'spmd', SPMC).map(({ regs, memory: m }) => [abiNameOf(w(regs, 0)), w(regs, 1), m === null ? null : m.content.kind] as const);
    const forVm1 = calls.slice(calls.findIndex(([abi]) => abi === 'FFA_NOTIFICATION_BITMAP_CREATE') + 1).filter(([abi]) => abi !== 'FFA_NOTIFICATION_INFO_GET_64');
    assert.deepEqual(forVm1, [
      ['FFA_RXTX_MAP_64', 0, 'rxtx-descriptor'], // the guest's map, forwarded
      ['FFA_RX_ACQUIRE', VM1, null], // before Xen writes the descriptors
      ['FFA_RX_RELEASE', VM1, null], // the guest's release, forwarded
      ['FFA_RX_ACQUIRE', VM1, null], // refused: the SP's message is there
      ['FFA_NOTIFICATION_GET', VM1, null],
      ['FFA_MSG_SEND2', VM1 << 16, 'message'], // the guest's, with its TX buffer (no RX_RELEASE before it)
      ['FFA_RXTX_UNMAP', VM1 << 16, null],
      ['FFA_RXTX_MAP_64', 0, 'rxtx-descriptor'],
      // ffa_domain_teardown: the buffers first (nothing left to release), then the bitmap
      ['FFA_RXTX_UNMAP', VM1 << 16, null],
      ['FFA_NOTIFICATION_BITMAP_DESTROY', VM1, null],
    ]);
    const descriptor = callsWithMemory(entries, HYPERVISOR, 'spmd').find(({ memory: m }) => m?.content.kind === 'rxtx-descriptor')?.memory;
    assert.deepEqual(descriptor, txWrite(0, { kind: 'rxtx-descriptor', endpoint: VM1, tx: 0x4800_0000n, rx: 0x4800_1000n, pageCount: 1 }));
  });
}
