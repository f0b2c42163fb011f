/**
 * Direct messaging (NWd→SP, SP→SP, BUSY, framework messages, OP-TEE's logical SP), a raw SP's
 * message loop through the relay, FFA_RUN, and FFA_MSG_SEND2 with its RX-buffer-full framework
 * notification, under both profiles.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FFA_FIDS, GET_FLAGS, SPMC_ID, frameworkMessageFlags, msgSendDirectReq32, rxWrite } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { PartitionConfig } from './config.ts';
import {
  REQ_32,
  RESP_32,
  RESP_64,
  bitmapCreate,
  directReq,
  directResp,
  fwk,
  get,
  infoGet64,
  message,
  msgSend2Call,
  msgWait,
  run,
  rxRelease,
  rxtxMap,
  spmIdGet,
  vmCreated,
  vmDestroyed,
  withRegs,
} from './test-support/calls.ts';
import { assertRows, err, got, info, nwd, ok, records, regsAre, runTable, sp, vmList, type Row } from './test-support/rows.ts';

const INVALID = 'INVALID_PARAMETERS';
const NOT_SUPPORTED = 'NOT_SUPPORTED';
const { spm: SPM, hyp: HYP } = GET_FLAGS;
const TEE_ERROR = { BAD_PARAMETERS: 0xffff_0006, ITEM_NOT_FOUND: 0xffff_0008, BUSY: 0xffff_000d } as const;
const unknownFrameworkMessage = msgSendDirectReq32.encodeCall({ sender: 0, receiver: SPMC_ID, flags: frameworkMessageFlags(0x20) });

const HAFNIUM_PARTITIONS: PartitionConfig[] = [
  { id: 0x8001, vcpus: 4, behaviour: 'optee' },
  { id: 0x8002, behaviour: 'echo', messaging: ['direct', 'indirect'] },
  { id: 0x8003, vcpus: 2, notifications: true, messaging: ['direct', 'indirect', 'vm-created', 'vm-destroyed'] },
  { id: 0x8004, notifications: true, messaging: [] },
];

const HAFNIUM_ROWS: Row[] = [
  // FFA_MSG_SEND_DIRECT_REQ/RESP (§2.7)
  nwd('direct_req_32: VM 1 → echo 0x8002 → DIRECT_RESP_32 with the payload', directReq(1, 0x8002, [1n, 2n, 3n, 4n, 5n]), regsAre({ w: { 0: RESP_32, 1: (0x8002 << 16) | 1, 2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5 } })),
  nwd(
    'direct_req_64: the 64-bit payload comes back whole',
    directReq(1, 0x8002, [0x1122_3344_5566_7788n, 0n, 0n, 0n, 0xffff_ffff_ffff_ffffn], 64),
    regsAre({ w: { 0: RESP_64 }, x: { 3: 0x1122_3344_5566_7788n, 7: 0xffff_ffff_ffff_ffffn } }),
  ),
  nwd('direct_req_32: upper register halves are not carried', withRegs(directReq(1, 0x8002, [1n]), { 3: 0xffff_ffff_0000_0001n }), regsAre({ x: { 3: 1n } })),
  nwd('direct_req: a secure sender from the NWd → INVALID_PARAMETERS', directReq(0x8005, 0x8002, []), err(INVALID)),
  nwd('direct_req: w2 nonzero → INVALID_PARAMETERS', withRegs(directReq(1, 0x8002, []), { 2: 1 }), err(INVALID)),
  nwd('direct_req: unknown receiver → INVALID_PARAMETERS', directReq(1, 0x8009, []), err(INVALID)),
  nwd('direct_req: to a VM → INVALID_PARAMETERS', directReq(1, 2, []), err(INVALID)),
  nwd('direct_req: to an SP without direct messaging → DENIED', directReq(1, 0x8004, []), err('DENIED')),
  nwd('direct_req: to the SPMC ID, not a framework message → INVALID_PARAMETERS', directReq(1, SPMC_ID, []), err(INVALID)),
  nwd('direct_req: an MP SP with no vCPU for CPU 3 → INVALID_PARAMETERS', directReq(1, 0x8003, []), err(INVALID), { cpu: 3 }),
  sp(0x8003, 'direct_req: SP → echo SP → DIRECT_RESP', directReq(0x8003, 0x8002, [7n]), regsAre({ w: { 0: RESP_32, 1: (0x8002 << 16) | 0x8003, 3: 7 } })),
  sp(0x8003, 'direct_req: an SP as another sender → INVALID_PARAMETERS', directReq(0x8001, 0x8002, []), err(INVALID)),
  sp(0x8002, 'direct_req: to itself → INVALID_PARAMETERS', directReq(0x8002, 0x8002, []), err(INVALID)),
  // OP-TEE's logical SP as an SP (thread_spmc.c handle_blocking_call)
  nwd('optee: GET_API_VERSION → 1.0', directReq(0, 0x8001, [0n]), regsAre({ w: { 0: RESP_32, 1: 0x8001 << 16, 3: 1, 4: 0 } })),
  nwd('optee: EXCHANGE_CAPABILITIES → ARG_OFFSET | ASYNC_NOTIF', directReq(0, 0x8001, [2n]), regsAre({ w: { 3: 0, 4: 4, 5: 3 } })),
  nwd('optee: UNREGISTER_SHM of an unknown cookie → 0', directReq(0, 0x8001, [3n, 5n, 0n]), regsAre({ w: { 3: 0 } })),
  nwd('optee: ENABLE_ASYNC_NOTIF with ID 64 → TEE_ERROR_BAD_PARAMETERS', directReq(0, 0x8001, [5n, 64n]), regsAre({ w: { 3: TEE_ERROR.BAD_PARAMETERS } })),
  nwd('optee: ENABLE_ASYNC_NOTIF for VM 7 (no bitmap) → TEE_ERROR_BAD_PARAMETERS', directReq(7, 0x8001, [5n, 1n]), regsAre({ w: { 3: TEE_ERROR.BAD_PARAMETERS } })),
  nwd('optee: an unknown service → TEE_ERROR_BAD_PARAMETERS', directReq(0, 0x8001, [9n]), regsAre({ w: { 3: TEE_ERROR.BAD_PARAMETERS } })),
  nwd('optee: a yielding call → TEE_ERROR_BUSY (no thread modelled)', directReq(0, 0x8001, [0x8000_0000n]), regsAre({ w: { 3: TEE_ERROR.BUSY } })),
  // VM_CREATED / VM_DESTROYED framework messages (§2.7), to the subscribed SP
  nwd('VM_CREATED(5) to a subscribed SP → success', vmCreated(0x8003, 5), regsAre({ w: { 0: RESP_32, 1: 0x8003 << 16, 2: fwk(5), 3: 0 } })),
  nwd('VM_DESTROYED(5) to a subscribed SP → success', vmDestroyed(0x8003, 5), regsAre({ w: { 2: fwk(7), 3: 0 } })),
  nwd('VM_CREATED to an SP that did not subscribe → INVALID_PARAMETERS', vmCreated(0x8002, 5), err(INVALID)),
  nwd('VM_CREATED not from the hypervisor → INVALID_PARAMETERS', vmCreated(0x8003, 5, 1), err(INVALID)),
  nwd('VM_CREATED to an unknown SP → INVALID_PARAMETERS', vmCreated(0x8009, 5), err(INVALID)),
  nwd('framework message type 0x20 → NOT_SUPPORTED', unknownFrameworkMessage, err(NOT_SUPPORTED)),
  sp(0x8003, 'a framework message from an SP → INVALID_PARAMETERS', vmCreated(0x8002, 5, 0x8003), err(INVALID)),
  // FFA_RUN (§2.7)
  sp(0x8003, 'run: from an SP → NOT_SUPPORTED', run(0x8002), err(NOT_SUPPORTED)),
  nwd('run: a VM → INVALID_PARAMETERS', run(1), err(INVALID)),
  nwd('run: vCPU 2 of a 2-vCPU SP → INVALID_PARAMETERS', run(0x8003, 2), err(INVALID)),
  nwd('run: SP 0x8003 vCPU 1 → FFA_MSG_WAIT (nothing to do)', run(0x8003, 1), regsAre({ w: { 0: FFA_FIDS.FFA_MSG_WAIT } })),
  nwd('run: x8..x17 nonzero from a v1.2 caller → INVALID_PARAMETERS', withRegs(run(0x8003), { 9: 1 }), err(INVALID)),
  // FFA_MSG_SEND2 and the RX-buffer-full framework notification (§3.8)
  sp(0x8003, 'send2: the SP has no TX buffer → DENIED', msgSend2Call(), err('DENIED'), { tx: message(0x8003, 0, 64) }),
  sp(0x8003, 'rxtx_map for SP 0x8003', rxtxMap(), ok()),
  sp(0x8003, 'send2: w1 names a sender (the hypervisor\'s right) → INVALID_PARAMETERS', msgSend2Call(0, 5), err(INVALID), { tx: message(0x8003, 0, 64) }),
  sp(0x8003, 'send2: the header names another sender → INVALID_PARAMETERS', msgSend2Call(), err(INVALID), { tx: message(0x8002, 0, 64) }),
  sp(0x8003, 'send2: to itself → INVALID_PARAMETERS', msgSend2Call(), err(INVALID), { tx: message(0x8003, 0x8003, 64) }),
  sp(0x8003, 'send2: unknown receiver → INVALID_PARAMETERS', msgSend2Call(), err(INVALID), { tx: message(0x8003, 0x8009, 64) }),
  sp(0x8003, 'send2: a receiver without indirect messaging → DENIED', msgSend2Call(), err('DENIED'), { tx: message(0x8003, 0x8004, 64) }),
  sp(0x8003, 'send2: VM 0 has no RX buffer → BUSY', msgSend2Call(), err('BUSY'), { tx: message(0x8003, 0, 64) }),
  nwd('rxtx_map for the NWd', rxtxMap(0x20_0000n, 0x20_1000n), ok()),
  sp(0x8003, 'send2: bigger than the RX buffer → INVALID_PARAMETERS', msgSend2Call(), err(INVALID), { tx: message(0x8003, 0, 4096) }),
  sp(0x8003, 'send2: the payload overlaps the v1.2 header → INVALID_PARAMETERS', msgSend2Call(), err(INVALID), { tx: message(0x8003, 0, 8, { offset: 24 }) }),
  sp(0x8003, 'send2: a TX buffer with no message reads as zeros: sender 0 → INVALID_PARAMETERS', msgSend2Call(), err(INVALID)),
  sp(0x8003, 'send2: SP → VM 0 → success (RX full, SPM bit, SRI on CPU 1)', msgSend2Call(), ok(), { cpu: 1, tx: message(0x8003, 0, 64) }),
  sp(0x8003, 'send2: again, the RX buffer is full → BUSY', msgSend2Call(), err('BUSY'), { tx: message(0x8003, 0, 64) }),
  nwd('rx_release with RX-full still pending → DENIED', rxRelease(), err('DENIED')),
  nwd('info_get_64 → VM 0 (a framework notification)', infoGet64(), info(false, vmList(0))),
  nwd('get: VM 0, SPM framework bitmap → bit 0 of w6, and the message to read', get(0, SPM), got({ spm: 1n }), { rx: rxWrite(0, message(0x8003, 0, 64).content) }),
  nwd('rx_release → success', rxRelease(), ok()),
  nwd('send2: NWd → SP with flags → INVALID_PARAMETERS', msgSend2Call(2), err(INVALID), { tx: message(0, 0x8003, 64) }),
  nwd('send2: NWd → VM → INVALID_PARAMETERS (the hypervisor relays those)', msgSend2Call(), err(INVALID), { tx: message(0, 5, 64) }),
  nwd('send2: NWd (VM 0) → SP 0x8003 → success (hypervisor framework bit, SRI on CPU 2)', msgSend2Call(), ok(), { cpu: 2, tx: message(0, 0x8003, 16) }),
  nwd('send2: forwarded for VM 6, which has no slot → DENIED', msgSend2Call(0, 6), err('DENIED'), { tx: message(6, 0x8003, 16, { owner: 6 }) }),
  sp(0x8003, 'get: the SP\'s framework bitmaps → bit 0 of w7, and the message to read', get(0x8003, SPM | HYP), got({ hyp: 1n }), { rx: rxWrite(0x8003, message(0, 0x8003, 16).content) }),
  sp(0x8003, 'rx_release by SP 0x8003', rxRelease(), ok()),
  sp(0x8002, 'rxtx_map for the echo SP', rxtxMap(), ok()),
  sp(0x8003, 'send2: SP → SP without notifications → success, no framework notification', msgSend2Call(), ok(), { tx: message(0x8003, 0x8002, 8) }),
  sp(0x8002, 'get: nothing pending for the echo SP (its buffer is full, but no notification says so)', get(0x8002, SPM), got({}), { rx: null }),
  sp(0x8002, 'rx_release by the echo SP', rxRelease(), ok()),
  sp(0x8003, 'send2: delay-SRI → success, the SRI waits for the NWd on CPU 3', msgSend2Call(2), ok(), { cpu: 3, tx: message(0x8003, 0, 8) }),
  nwd('the next return to the NWd on CPU 3 raises it', spmIdGet(), ok(), { cpu: 3 }),
];

const OPTEE_ROWS: Row[] = [
  nwd('send2 → NOT_SUPPORTED (not dispatched)', msgSend2Call(), err(NOT_SUPPORTED), { tx: message(0, 0x8002, 8) }),
  nwd('run: no thread preempted → INVALID_PARAMETERS', run(0x8001, 0), err(INVALID)),
  nwd('direct_req: w2 not checked → the echo SP answers', withRegs(directReq(1, 0x8002, [1n]), { 2: 1 }), regsAre({ w: { 0: RESP_32, 3: 1 } })),
  nwd('optee: a message from an unknown guest → TEE_ERROR_ITEM_NOT_FOUND', directReq(1, 0x8001, [2n]), regsAre({ w: { 3: TEE_ERROR.ITEM_NOT_FOUND } })),
  nwd('VM_CREATED(1)', vmCreated(0x8001, 1), regsAre({ w: { 3: 0 } })),
  nwd('optee: EXCHANGE_CAPABILITIES from guest 1', directReq(1, 0x8001, [2n]), regsAre({ w: { 1: (0x8001 << 16) | 1, 3: 0, 4: 4, 5: 3 } })),
  nwd('optee core answers at the SPMC ID too', directReq(1, SPMC_ID, [0n]), regsAre({ w: { 1: (SPMC_ID << 16) | 1, 3: 1, 4: 0 } })),
  nwd('framework message type 0x20 → FFA_ERROR NOT_SUPPORTED', unknownFrameworkMessage, err(NOT_SUPPORTED)),
];

/** OP-TEE without NS-virtualization: no guests, VM 0's default bitmap only. */
const OPTEE_NO_VIRT_ROWS: Row[] = [
  nwd('VM_CREATED without NS-virtualization → FFA_ERROR NOT_SUPPORTED', vmCreated(0x8001, 1), err(NOT_SUPPORTED)),
  nwd('create: VM 0 → success (default bitmap)', bitmapCreate(0), ok()),
  nwd('create: VM 1 → INVALID_PARAMETERS (VM 0 only)', bitmapCreate(1), err(INVALID)),
  nwd('optee: EXCHANGE_CAPABILITIES from VM 0', directReq(0, 0x8001, [2n]), regsAre({ w: { 5: 3 } })),
];

/**
 * A raw SP's message loop, BUSY and FFA_RUN with two relays, causally ordered: SP A (0x8005)
 * asks SP B (0x8006) and waits; the main driver reads the request as B, finds A and B busy,
 * answers as B; then the second relay serves as B a request from the NWd.
 */
const BUSY_PARTITIONS: PartitionConfig[] = [
  { id: 0x8002, behaviour: 'echo' },
  { id: 0x8005 },
  { id: 0x8006 },
];
const BUSY_MAIN: Row[] = [
  sp(0x8006, 'B: msg_wait → A\'s request', msgWait(), regsAre({ w: { 0: REQ_32, 1: (0x8005 << 16) | 0x8006, 3: 0x11 } })),
  nwd('NWd → A while A waits on its own request → BUSY', directReq(1, 0x8005, []), err('BUSY')),
  nwd('NWd → B while B owes a response → BUSY', directReq(1, 0x8006, []), err('BUSY')),
  nwd('run: B while it owes a response → BUSY', run(0x8006), err('BUSY')),
  sp(0x8006, 'B: msg_wait again before answering → DENIED', msgWait(), err('DENIED')),
  sp(0x8005, 'A: msg_wait while blocked on its request → DENIED', msgWait(), err('DENIED')),
  sp(0x8005, 'A: another direct_req while blocked on its request → DENIED', directReq(0x8005, 0x8002, []), err('DENIED')),
  sp(0x8006, 'B: direct_resp to the wrong endpoint → INVALID_PARAMETERS', directResp(0x8006, 0x8002, [0x22n]), err(INVALID)),
  sp(0x8006, 'B: direct_resp to A → success (A gets it)', directResp(0x8006, 0x8005, [0x22n]), ok()),
  sp(0x8006, 'B: direct_resp with no request → DENIED', directResp(0x8006, 0x8005, []), err('DENIED')),
  sp(0x8002, 'an echo SP\'s msg_wait → DENIED (not raw)', msgWait(), err('DENIED')),
  nwd('msg_wait from the NWd → NOT_SUPPORTED', msgWait(), err(NOT_SUPPORTED)),
  nwd('direct_resp from the NWd → DENIED', directResp(1, 0x8005, []), err('DENIED')),
  sp(0x8005, 'A: direct_req to echo, no longer blocked → DIRECT_RESP', directReq(0x8005, 0x8002, [3n]), regsAre({ w: { 0: RESP_32, 3: 3 } })),
  nwd('NWd VM 1 → B: held until B answers', directReq(1, 0x8006, [0x33n]), regsAre({ w: { 0: RESP_32, 1: (0x8006 << 16) | 1, 3: 0x44 } })),
  nwd('run: B after answering → FFA_MSG_WAIT', run(0x8006), regsAre({ w: { 0: FFA_FIDS.FFA_MSG_WAIT } })),
];
const BUSY_SECOND: Row[] = [
  sp(0x8005, 'A → B: direct_req, held until B answers', directReq(0x8005, 0x8006, [0x11n]), regsAre({ w: { 0: RESP_32, 1: (0x8006 << 16) | 0x8005, 3: 0x22 } })),
  sp(0x8006, 'B (second relay): msg_wait → the NWd\'s request', msgWait(), regsAre({ w: { 0: REQ_32, 1: (1 << 16) | 0x8006, 3: 0x33 } })),
  sp(0x8006, 'B (second relay): direct_resp to VM 1', directResp(0x8006, 1, [0x44n]), ok()),
];

describe('SPMC messaging', () => {
  for (const runtime of RUNTIMES) {
    it(`hafnium profile: direct requests, framework messages, RUN, MSG_SEND2 (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'hafnium', partitions: HAFNIUM_PARTITIONS }, rows: HAFNIUM_ROWS });
      assertRows(HAFNIUM_ROWS, run);
      const raises = records(run.entries, 'sri-raise').map(({ cpu, delayed }) => ({ cpu, delayed }));
      assert.deepEqual(raises, [
        { cpu: 1, delayed: false },
        { cpu: 2, delayed: false },
        { cpu: 3, delayed: true },
      ]);
      const messages = records(run.entries, 'rx-message').map(({ owner, sender, size }) => ({ owner, sender, size }));
      assert.deepEqual(messages, [
        { owner: 0, sender: 0x8003, size: 64 },
        { owner: 0x8003, sender: 0, size: 16 },
        { owner: 0x8002, sender: 0x8003, size: 8 },
        { owner: 0, sender: 0x8003, size: 8 },
      ]);
      assert.deepEqual(records(run.entries, 'vm-availability').map(({ sp: id, vm, message }) => ({ id, vm, message })), [
        { id: 0x8003, vm: 5, message: 'created' },
        { id: 0x8003, vm: 5, message: 'destroyed' },
      ]);
    });

    it(`optee profile: no MSG_SEND2, RUN resumes threads only, OP-TEE core endpoints (${runtime})`, async () => {
      const partitions: PartitionConfig[] = [{ id: 0x8001, vcpus: 4, behaviour: 'optee' }, { id: 0x8002, behaviour: 'echo' }];
      const withVirt = await runTable(runtime, { spmc: { profile: 'optee', partitions }, rows: OPTEE_ROWS });
      assertRows(OPTEE_ROWS, withVirt);
      const noVirt = await runTable(runtime, { spmc: { profile: 'optee', policies: { vmBitmapLifecycle: 'vm0-only' } }, rows: OPTEE_NO_VIRT_ROWS });
      assertRows(OPTEE_NO_VIRT_ROWS, noVirt);
    });

    it(`a raw SP's message loop: requests held, BUSY, responses through the relay (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'hafnium', partitions: BUSY_PARTITIONS }, rows: BUSY_MAIN, others: { relay2: BUSY_SECOND } });
      assertRows(BUSY_MAIN, run);
      assertRows(BUSY_SECOND, run);
      assert.deepEqual(records(run.entries, 'raw-sp-request').map(({ sp: id, sender }) => ({ id, sender })), [
        { id: 0x8006, sender: 0x8005 },
        { id: 0x8006, sender: 1 },
      ]);
    });
  }
});
