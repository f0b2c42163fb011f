/**
 * Which calls the SPMD forwards, to which world, and which it refuses (docs/ffa-reference.md §6; TF-A
 * spmd_main.c spmd_smc_handler), driven through the runtime from both worlds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FFA_FIDS,
  FFA_VERSION_1_3,
  ffaError,
  ffaInterrupt,
  ffaMsgWait,
  ffaNormalWorldResume,
  ffaPartitionInfoGet,
  ffaRun,
  ffaRxAcquire,
  ffaRxRelease,
  ffaRxtxMap32,
  ffaRxtxMap64,
  ffaRxtxUnmap,
  ffaSuccess32,
  ffaSuccess64,
  ffaVersion,
  msgSend2,
  notificationBind,
  notificationBitmapCreate,
  notificationBitmapDestroy,
  notificationGet,
  notificationInfoGet32,
  notificationInfoGet64,
  notificationSet,
  notificationUnbind,
  registers,
} from '../../shared/ffa/index.ts';
import type { RegisterFile } from '../../shared/protocol/messages.ts';
import { RUNTIMES, runWorldInMemory } from '../../shared/runtime/run-world.ts';
import { driverResults } from '../../shared/runtime/test-world/driver.ts';
import { allOnes, patterned } from './test-support/patterns.ts';
import { callsReceived, nwdCall, recordsOf, resultsByLabel, returned, runSpmdWorld, spmdWorldSpec, swdCall } from './test-support/world.ts';

const NOT_SUPPORTED = ffaError('NOT_SUPPORTED');
/** What an SPMD answer writes: x0..x7 (x8..x17 stay the caller's own; forwarding.test.ts checks them). */
const x0To7 = (regs: RegisterFile) => regs.slice(0, 8);
const SUCCESS_64 = BigInt(FFA_FIDS.FFA_SUCCESS_64);
const VM = 2;
const SP = 0x8001;

/** docs/ffa-reference.md §6 "Forwarded NWd → SPMC only; from the SWd they return NOT_SUPPORTED". */
const NORMAL_WORLD_ONLY: [string, RegisterFile][] = [
  ['RX_RELEASE', ffaRxRelease.encodeCall({ receiver: VM })],
  ['RXTX_MAP_32', ffaRxtxMap32.encodeCall({ tx: 0x8000_0000n, rx: 0x8000_1000n, pageCount: 1 })],
  ['RXTX_MAP_64', ffaRxtxMap64.encodeCall({ tx: 0x8_8000_0000n, rx: 0x8_8000_1000n, pageCount: 1 })],
  ['RXTX_UNMAP', ffaRxtxUnmap.encodeCall({ id: VM })],
  ['PARTITION_INFO_GET', ffaPartitionInfoGet.encodeCall({ countOnly: true })],
  ['NOTIFICATION_BITMAP_CREATE', notificationBitmapCreate.encodeCall({ vm: VM, vcpus: 2 })],
  ['NOTIFICATION_BITMAP_DESTROY', notificationBitmapDestroy.encodeCall({ vm: VM })],
  ['NOTIFICATION_BIND', notificationBind.encodeCall({ sender: SP, receiver: VM, flags: 0, bitmap: 0x4n })],
  ['NOTIFICATION_UNBIND', notificationUnbind.encodeCall({ sender: SP, receiver: VM, bitmap: 0x4n })],
  ['NOTIFICATION_SET', notificationSet.encodeCall({ sender: VM, receiver: SP, flags: 0, vcpu: 0, bitmap: 0x1n })],
  ['NOTIFICATION_GET', notificationGet.encodeCall({ receiver: VM, vcpu: 0, flags: 0xf })],
  ['NOTIFICATION_INFO_GET_32', notificationInfoGet32.encodeCall({})],
  ['NOTIFICATION_INFO_GET_64', notificationInfoGet64.encodeCall({})],
  ['MSG_SEND2', msgSend2.encodeCall({ sender: VM, flags: 0 })],
  ['RX_ACQUIRE', ffaRxAcquire.encodeCall({ receiver: VM })],
  ['NS_RES_INFO_GET', patterned(FFA_FIDS.FFA_NS_RES_INFO_GET)],
  ['RUN', ffaRun.encodeCall({ target: SP, vcpu: 0 })],
];

/** docs/ffa-reference.md §6 "Forwarded either way": MSG_SEND (legacy), MEM_* ops, SUCCESS_32/64, ERROR. */
const EITHER_WAY: [string, RegisterFile][] = [
  ['SUCCESS_32', ffaSuccess32(1, 2, 3)],
  ['SUCCESS_64', ffaSuccess64(1n, 2n, 3n)],
  ['ERROR', ffaError('BUSY')],
  ['MSG_SEND', patterned(FFA_FIDS.FFA_MSG_SEND)],
  ...(
    [
      'FFA_MEM_DONATE_32',
      'FFA_MEM_DONATE_64',
      'FFA_MEM_LEND_32',
      'FFA_MEM_LEND_64',
      'FFA_MEM_SHARE_32',
      'FFA_MEM_SHARE_64',
      'FFA_MEM_RETRIEVE_REQ_32',
      'FFA_MEM_RETRIEVE_REQ_64',
      'FFA_MEM_RETRIEVE_RESP',
      'FFA_MEM_RELINQUISH',
      'FFA_MEM_RECLAIM',
      'FFA_MEM_FRAG_RX',
      'FFA_MEM_FRAG_TX',
    ] as const
  ).map((abi): [string, RegisterFile] => [abi.slice(4), patterned(FFA_FIDS[abi])]),
];

/** docs/ffa-reference.md §6 "SWd only": they go to the normal world, and the normal world may not call them. */
const SECURE_WORLD_ONLY: [string, RegisterFile][] = [
  ['MSG_WAIT', ffaMsgWait.encodeCall({})],
  ['INTERRUPT', ffaInterrupt.encodeCall({ target: SP, vcpu: 0 })],
  ['YIELD', registers(FFA_FIDS.FFA_YIELD)],
];

for (const runtime of RUNTIMES) {
  test(`forwards the normal-world-only ABIs from the normal world and refuses them from the secure world [${runtime}]`, async () => {
    const entries = await runSpmdWorld(
      {
        normalWorldPeer: true, // so a refusal cannot be mistaken for "nowhere to forward to"
        nwd: NORMAL_WORLD_ONLY.map(([label, regs]) => nwdCall(label, regs)),
        swd: NORMAL_WORLD_ONLY.map(([label, regs]) => swdCall(label, regs)),
      },
      runtime,
    );
    const nwd = resultsByLabel(entries, 'nwd');
    const swd = resultsByLabel(entries, 'swd');
    for (const [label, regs] of NORMAL_WORLD_ONLY) {
      assert.deepEqual(x0To7(returned(nwd, label)), [SUCCESS_64, ...regs.slice(1, 8)], `${label} from the normal world: forwarded and echoed`);
      assert.deepEqual(x0To7(returned(swd, label)), x0To7(NOT_SUPPORTED), `${label} from the secure world`);
    }
    assert.deepEqual(
      callsReceived(entries, 'spmc').map((call) => call.regs[0]),
      NORMAL_WORLD_ONLY.map(([, regs]) => BigInt(regs[0] ?? 0n)),
      'only the normal-world calls reached the SPMC, in order',
    );
    assert.equal(callsReceived(entries, 'host').length, 0, 'nothing went to the normal world');
  });

  test(`the v1.3 *2 notification ABIs cross only when both sides are at v1.3 [${runtime}]`, async () => {
    const set2 = patterned(FFA_FIDS.FFA_NOTIFICATION_SET2);
    const entries = await runSpmdWorld(
      {
        spmd: { spmcVersion: '1.3' },
        nwd: [
          nwdCall('set2 at 1.2', set2),
          nwdCall('version 1.3', ffaVersion.encodeCall({ version: FFA_VERSION_1_3 })),
          nwdCall('set2 at 1.3', set2),
        ],
        swd: [swdCall('get2', patterned(FFA_FIDS.FFA_NOTIFICATION_GET2))],
      },
      runtime,
    );
    const nwd = resultsByLabel(entries, 'nwd');
    assert.deepEqual(x0To7(returned(nwd, 'set2 at 1.2')), x0To7(NOT_SUPPORTED));
    assert.deepEqual(returned(nwd, 'set2 at 1.3'), [SUCCESS_64, ...set2.slice(1)]);
    assert.deepEqual(x0To7(returned(resultsByLabel(entries, 'swd'), 'get2')), x0To7(NOT_SUPPORTED));
  });

  test(`forwards MEM_*, SUCCESS, ERROR and MSG_SEND from either world; MSG_WAIT, INTERRUPT and YIELD only from the secure world [${runtime}]`, async () => {
    const entries = await runSpmdWorld(
      {
        normalWorldPeer: true,
        nwd: [...EITHER_WAY, ...SECURE_WORLD_ONLY].map(([label, regs]) => nwdCall(label, regs)),
        swd: [...EITHER_WAY, ...SECURE_WORLD_ONLY].map(([label, regs]) => swdCall(label, regs)),
      },
      runtime,
    );
    const nwd = resultsByLabel(entries, 'nwd');
    const swd = resultsByLabel(entries, 'swd');
    for (const [label, regs] of EITHER_WAY) {
      assert.deepEqual(x0To7(returned(nwd, label)), [SUCCESS_64, ...regs.slice(1, 8)], `${label} from the normal world`);
      assert.deepEqual(x0To7(returned(swd, label)), [SUCCESS_64, ...regs.slice(1, 8)], `${label} from the secure world`);
    }
    for (const [label, regs] of SECURE_WORLD_ONLY) {
      assert.deepEqual(x0To7(returned(nwd, label)), x0To7(NOT_SUPPORTED), `${label} from the normal world`);
      assert.deepEqual(x0To7(returned(swd, label)), [SUCCESS_64, ...regs.slice(1, 8)], `${label} from the secure world`);
    }
    const fids = (calls: { regs: RegisterFile }[]) => calls.map((call) => call.regs[0]);
    assert.deepEqual(fids(callsReceived(entries, 'spmc')), EITHER_WAY.map(([, regs]) => regs[0]), 'normal-world calls went to the SPMC');
    assert.deepEqual(fids(callsReceived(entries, 'host')), [...EITHER_WAY, ...SECURE_WORLD_ONLY].map(([, regs]) => regs[0]), 'secure-world calls went to the normal world');
    assert.deepEqual(
      new Set(recordsOf(entries, 'spmd', 'spmd-forward').map((r) => `${String(r['origin'])}>${String(r['to'])}`)),
      new Set(['nwd>spmc', 'swd>host']),
    );
  });

  test(`answers unknown, non-FF-A and unmodelled FIDs, and the wrong conduit, with an FF-A error, and carries on [${runtime}]`, async () => {
    const refusedFromNormalWorld: [string, RegisterFile, RegisterFile][] = [
      ['unassigned FF-A fnum 0x91', patterned(0x8400_0091), NOT_SUPPORTED],
      ['SMC64 FFA_VERSION (no such FID)', registers(0xc400_0063, 0x10002), NOT_SUPPORTED],
      ['PSCI_VERSION', registers(0x8400_0000), NOT_SUPPORTED],
      ['SiP call', registers(0x8200_0001), NOT_SUPPORTED],
      ['x0 = 0', registers(0), NOT_SUPPORTED],
      ['x0 all ones', allOnes((1n << 64n) - 1n), NOT_SUPPORTED],
      ['MSG_POLL', registers(FFA_FIDS.FFA_MSG_POLL), NOT_SUPPORTED],
      ['MEM_PERM_GET_32', registers(FFA_FIDS.FFA_MEM_PERM_GET_32), NOT_SUPPORTED],
      ['ERROR_64', registers(FFA_FIDS.FFA_ERROR_64), NOT_SUPPORTED],
      ['ABORT_32', registers(FFA_FIDS.FFA_ABORT_32), NOT_SUPPORTED],
      ['EL3_INTR_HANDLE', registers(FFA_FIDS.FFA_EL3_INTR_HANDLE), NOT_SUPPORTED],
      ['SECONDARY_EP_REGISTER_64', registers(FFA_FIDS.FFA_SECONDARY_EP_REGISTER_64, 0x8000_0000), NOT_SUPPORTED],
      ['NORMAL_WORLD_RESUME', ffaNormalWorldResume.encodeCall({}), ffaError('DENIED')],
    ];
    const entries = await runSpmdWorld(
      {
        nwd: [
          ...refusedFromNormalWorld.map(([label, regs]) => nwdCall(label, regs)),
          nwdCall('id get over HVC', registers(FFA_FIDS.FFA_ID_GET), { conduit: 'hvc' }),
          nwdCall('id get', registers(FFA_FIDS.FFA_ID_GET)),
        ],
        swd: [
          swdCall('SECONDARY_EP_REGISTER_64', registers(FFA_FIDS.FFA_SECONDARY_EP_REGISTER_64, 0x8000_0000)),
          swdCall('SECONDARY_EP_REGISTER_32', registers(FFA_FIDS.FFA_SECONDARY_EP_REGISTER_32, 0x8000_0000)),
          swdCall('PARTITION_INFO_GET_REGS', registers(FFA_FIDS.FFA_PARTITION_INFO_GET_REGS)),
          swdCall('NORMAL_WORLD_RESUME', ffaNormalWorldResume.encodeCall({})),
          swdCall('MEM_SHARE_64 with no normal world configured', patterned(FFA_FIDS.FFA_MEM_SHARE_64)),
        ],
      },
      runtime,
    );
    const nwd = resultsByLabel(entries, 'nwd');
    for (const [label, , expected] of refusedFromNormalWorld) assert.deepEqual(x0To7(returned(nwd, label)), x0To7(expected), label);
    assert.deepEqual(returned(nwd, 'id get over HVC'), NOT_SUPPORTED, 'the SPMD is reached only by SMC');
    assert.deepEqual(returned(nwd, 'id get'), ffaSuccess32(0, 0), 'still answering');
    const swd = resultsByLabel(entries, 'swd');
    assert.deepEqual(returned(swd, 'SECONDARY_EP_REGISTER_64'), ffaSuccess64());
    assert.deepEqual(returned(swd, 'SECONDARY_EP_REGISTER_32'), NOT_SUPPORTED);
    assert.deepEqual(returned(swd, 'PARTITION_INFO_GET_REGS'), NOT_SUPPORTED);
    assert.deepEqual(returned(swd, 'NORMAL_WORLD_RESUME'), ffaError('DENIED'));
    assert.deepEqual(x0To7(returned(swd, 'MEM_SHARE_64 with no normal world configured')), x0To7(NOT_SUPPORTED));
    assert.equal(callsReceived(entries, 'spmc').length, 0, 'none of them was forwarded');
  });
}

// Under ws the wire validator (shared/wire/validate.ts) refuses a frame whose registers are not
// x0..x17 before any component sees it, so only the sim runtime can hand the SPMD such a call.
test('a call whose registers are not a register file is refused and the SPMD carries on [sim]', async () => {
  const malformed = [
    { label: '17 registers', regs: registers(FFA_FIDS.FFA_ID_GET).slice(0, 17) },
    { label: 'a number among the registers', regs: [BigInt(FFA_FIDS.FFA_ID_GET), 5, ...new Array<bigint>(16).fill(0n)] as unknown as RegisterFile },
    { label: 'a negative register', regs: [BigInt(FFA_FIDS.FFA_ID_GET), -1n, ...new Array<bigint>(16).fill(0n)] },
    { label: 'a 65-bit register', regs: [BigInt(FFA_FIDS.FFA_ID_GET), 1n << 64n, ...new Array<bigint>(16).fill(0n)] },
  ];
  const spec = spmdWorldSpec({
    nwd: [...malformed.map(({ label, regs }) => nwdCall(label, regs)), nwdCall('id get', registers(FFA_FIDS.FFA_ID_GET))],
  });
  const { entries } = await runWorldInMemory(spec, { runtime: 'sim' });
  const results = new Map(driverResults(entries, 'nwd').map((result) => [result.label, result]));
  for (const { label } of malformed) assert.deepEqual(results.get(label)?.regs, ffaError('INVALID_PARAMETERS'), label);
  assert.deepEqual(results.get('id get')?.regs, ffaSuccess32(0, 0));
  assert.equal(recordsOf(entries, 'spmd', 'spmd-malformed').length, malformed.length);
});
