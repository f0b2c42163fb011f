/**
 * The register copy rules of a forward, in both directions (docs/ffa-reference.md §6, TF-A spmd_main.c
 * spmd_smc_switch_state): x0..x7 always cross; for SMC64 with the destination at v1.2+ x8..x17
 * cross too, zeroed if the source is older. Registers that do not cross are the destination's
 * own: zero entering the (unmodelled) SPMC context, the caller's own on the way back.
 *
 * The expectations are spelled out here from the reference, not taken from the SPMD's code.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  FFA_FIDS,
  FFA_VERSION_1_1,
  FFA_VERSION_1_2,
  ffaFeatures,
  ffaRxtxMap64,
  ffaVersion,
  msgSendDirectReq32,
  msgSendDirectReq64,
  OPTEE_UUID,
  registers,
  rxWrite,
  txWrite,
} from '../../shared/ffa/index.ts';
import type { RegisterFile } from '../../shared/protocol/messages.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { DriverStep } from '../../shared/runtime/test-world/driver.ts';
import { ALL_ONES, allOnes, arguments1To7, patterned, upper, withRegister, ZEROS_8_TO_17 } from './test-support/patterns.ts';
import { callsReceived, NWD_ENDPOINT, nwdCall, recordsOf, resultsByLabel, returned, runSpmdWorld, swdCall } from './test-support/world.ts';

const SUCCESS_64 = BigInt(FFA_FIDS.FFA_SUCCESS_64);
/** What the fake SPMC leaves in x8..x17 of its answers when asked to (not an echo). */
const STALE = 0x5a5a_5a5a_a5a5_a5a5n;
const STALE_HEX = `0x${STALE.toString(16)}`;

const version = (requested: number) => ffaVersion.encodeCall({ version: requested });
const isSmc64 = (fid: bigint) => (fid & 0x4000_0000n) !== 0n;
const low32 = (value: bigint | undefined) => (value ?? 0n) & 0xffff_ffffn;

for (const runtime of RUNTIMES) {
  test(`SMC64 at v1.2 on both sides: x0..x17 cross bit for bit, both ways (all-ones and patterned) [${runtime}]`, async () => {
    // A direct request must name a normal-world sender in w1[31:16]; the upper half of x1 is free.
    const directRequest = withRegister(patterned(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_64, 3), 1, 0xffff_ffff_0001_8001n);
    const sent: [string, RegisterFile][] = [
      ['mem share 64 all-ones', allOnes(FFA_FIDS.FFA_MEM_SHARE_64)],
      ['mem share 64 patterned', patterned(FFA_FIDS.FFA_MEM_SHARE_64, 1)],
      ['info get 64 patterned', patterned(FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64, 2)],
      ['rxtx map 64 all-ones', allOnes(FFA_FIDS.FFA_RXTX_MAP_64)],
      ['direct req 64 patterned', directRequest],
    ];
    const entries = await runSpmdWorld({ nwd: sent.map(([label, regs]) => nwdCall(label, regs)) }, runtime);
    const results = resultsByLabel(entries, 'nwd');
    const atSpmc = callsReceived(entries, 'spmc');
    assert.equal(atSpmc.length, sent.length);
    sent.forEach(([label, regs], index) => {
      assert.deepEqual(atSpmc[index]?.regs, regs, `${label}: what the SPMC received`);
      assert.deepEqual(returned(results, label), [SUCCESS_64, ...regs.slice(1)], `${label}: what came back`);
    });
    assert.deepEqual(
      recordsOf(entries, 'spmd', 'spmd-forward').map((r) => [r['carried'], r['versions'], r['origin'], r['to']]),
      sent.map(() => ['x0-x17', '1.2>1.2', 'nwd', 'spmc']),
    );
  });

  test(`x0 carries only the 32-bit function ID (TF-A passes smc_fid as uint32_t) [${runtime}]`, async () => {
    const regs = withRegister(patterned(FFA_FIDS.FFA_MEM_SHARE_64), 0, 0xffff_ffff_0000_0000n | BigInt(FFA_FIDS.FFA_MEM_SHARE_64));
    const entries = await runSpmdWorld({ nwd: [nwdCall('mem share, x0 upper half set', regs)] }, runtime);
    assert.deepEqual(callsReceived(entries, 'spmc')[0]?.regs, withRegister(regs, 0, BigInt(FFA_FIDS.FFA_MEM_SHARE_64)));
  });

  test(`SMC32: x0..x7 cross bit for bit (upper halves too); x8..x17 do not enter the SPMC [${runtime}]`, async () => {
    const sent: [string, RegisterFile][] = [
      ['mem share 32 all-ones', allOnes(FFA_FIDS.FFA_MEM_SHARE_32)],
      ['bind patterned', patterned(FFA_FIDS.FFA_NOTIFICATION_BIND, 4)],
      ['direct req 32 patterned', withRegister(patterned(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32, 5), 1, 0xabcd_0000_0001_8001n)],
      ['features all-ones', allOnes(FFA_FIDS.FFA_FEATURES)],
    ];
    const entries = await runSpmdWorld({ nwd: sent.map(([label, regs]) => nwdCall(label, regs)) }, runtime);
    const results = resultsByLabel(entries, 'nwd');
    const atSpmc = callsReceived(entries, 'spmc');
    sent.forEach(([label, regs], index) => {
      const expected = [...regs.slice(0, 8), ...ZEROS_8_TO_17];
      assert.deepEqual(atSpmc[index]?.regs, expected, `${label}: x8..x17 are not written into the SPMC`);
      // The fake SPMC answers FFA_SUCCESS_64, an SMC64 FID: its x8..x17 (the zeros it got) come back.
      assert.deepEqual(returned(results, label), [SUCCESS_64, ...expected.slice(1)], `${label}: what came back`);
    });
    assert.deepEqual(new Set(recordsOf(entries, 'spmd', 'spmd-forward').map((r) => r['carried'])), new Set(['x0-x7']));
  });

  test(`answers the SPMD gives itself write x0..x7 and leave the caller's x8..x17 untouched [${runtime}]`, async () => {
    const withUpper = (regs: RegisterFile, seed: number) => [...regs.slice(0, 8), ...upper(patterned(0, seed))];
    const entries = await runSpmdWorld(
      {
        nwd: [
          nwdCall('id get', withUpper(registers(FFA_FIDS.FFA_ID_GET), 1)),
          nwdCall('console log', withUpper(registers(FFA_FIDS.FFA_CONSOLE_LOG_64), 2)),
          nwdCall('version', withUpper(version(FFA_VERSION_1_2), 3)),
        ],
      },
      runtime,
    );
    const results = resultsByLabel(entries, 'nwd');
    assert.deepEqual(returned(results, 'id get'), [...registers(FFA_FIDS.FFA_SUCCESS_32).slice(0, 8), ...upper(patterned(0, 1))]);
    assert.deepEqual(upper(returned(results, 'console log')), upper(patterned(0, 2)));
    assert.deepEqual(upper(returned(results, 'version')), upper(patterned(0, 3)));
  });

  test(`a normal world at v1.1: SMC64 x8..x17 enter the SPMC zeroed and do not come back from it [${runtime}]`, async () => {
    const call = patterned(FFA_FIDS.FFA_MEM_LEND_64, 6);
    const entries = await runSpmdWorld(
      {
        fakeSpmc: { x8ToX17OnReturn: STALE_HEX },
        nwd: [
          nwdCall('version 1.1', version(FFA_VERSION_1_1)),
          nwdCall('lend at 1.1', call),
          nwdCall('version 1.2', version(FFA_VERSION_1_2)),
          nwdCall('lend at 1.2', call),
        ],
      },
      runtime,
    );
    const results = resultsByLabel(entries, 'nwd');
    const lends = callsReceived(entries, 'spmc').filter((c) => c.regs[0] === BigInt(FFA_FIDS.FFA_MEM_LEND_64));
    assert.deepEqual(lends[0]?.regs, [...call.slice(0, 8), ...ZEROS_8_TO_17], 'source < 1.2: x8..x17 zeroed');
    // Back: SUCCESS_64 to a v1.1 destination carries x0..x7 only; the caller keeps its own x8..x17.
    assert.deepEqual(returned(results, 'lend at 1.1'), [SUCCESS_64, ...arguments1To7(call), ...upper(call)]);
    assert.deepEqual(lends[1]?.regs, call, 'after asking for 1.2 the caller is at 1.2 again');
    assert.deepEqual(returned(results, 'lend at 1.2'), [SUCCESS_64, ...arguments1To7(call), ...new Array<bigint>(10).fill(STALE)]);
    assert.deepEqual(
      recordsOf(entries, 'spmd', 'spmd-forward').filter((r) => r['abi'] === 'FFA_MEM_LEND_64').map((r) => [r['carried'], r['versions']]),
      [['x0-x7+zero', '1.1>1.2'], ['x0-x17', '1.2>1.2']],
    );
  });

  test(`an SPMC at v1.1: SMC64 x8..x17 do not enter it, and come back to a v1.2 caller zeroed [${runtime}]`, async () => {
    const call = allOnes(FFA_FIDS.FFA_MEM_DONATE_64);
    const entries = await runSpmdWorld(
      { spmd: { spmcVersion: '1.1' }, fakeSpmc: { x8ToX17OnReturn: STALE_HEX }, nwd: [nwdCall('donate', call)] },
      runtime,
    );
    assert.deepEqual(callsReceived(entries, 'spmc')[0]?.regs, [...call.slice(0, 8), ...ZEROS_8_TO_17], 'destination < 1.2: not written');
    assert.deepEqual(returned(resultsByLabel(entries, 'nwd'), 'donate'), [SUCCESS_64, ...arguments1To7(call), ...ZEROS_8_TO_17], 'source < 1.2: zeroed');
    assert.deepEqual(recordsOf(entries, 'spmd', 'spmd-return')[0]?.['carried'], 'x0-x7+zero');
  });

  test(`secure-origin calls forwarded to the normal world follow the same rules [${runtime}]`, async () => {
    const sent: [string, RegisterFile, RegisterFile][] = [
      ['mem share 64 patterned', patterned(FFA_FIDS.FFA_MEM_SHARE_64, 7), patterned(FFA_FIDS.FFA_MEM_SHARE_64, 7)],
      ['success 32 all-ones', allOnes(FFA_FIDS.FFA_SUCCESS_32), [...allOnes(FFA_FIDS.FFA_SUCCESS_32).slice(0, 8), ...ZEROS_8_TO_17]],
      ['interrupt all-ones', allOnes(FFA_FIDS.FFA_INTERRUPT), [...allOnes(FFA_FIDS.FFA_INTERRUPT).slice(0, 8), ...ZEROS_8_TO_17]],
    ];
    const entries = await runSpmdWorld({ normalWorldPeer: true, swd: sent.map(([label, regs]) => swdCall(label, regs)) }, runtime);
    const atHost = callsReceived(entries, 'host');
    const results = resultsByLabel(entries, 'swd');
    sent.forEach(([label, , expected], index) => {
      assert.deepEqual(atHost[index]?.regs, expected, `${label}: what the normal world received`);
      assert.deepEqual(atHost[index]?.endpoint, 0x8000, `${label}: the caller's endpoint crosses with it`);
      assert.deepEqual(returned(results, label), [SUCCESS_64, ...expected.slice(1)], `${label}: what came back`);
    });
    assert.equal(callsReceived(entries, 'spmc').length, 0);
  });

  test(`FEATURES and direct requests cross with the caller's endpoint, vCPU and CPU [${runtime}]`, async () => {
    const entries = await runSpmdWorld(
      {
        nwd: [
          nwdCall('features', ffaFeatures.encodeCall({ id: FFA_FIDS.FFA_NOTIFICATION_SET }), { endpoint: 3, vcpu: 5, cpu: 7 }),
          nwdCall('direct 32', msgSendDirectReq32.encodeCall({ sender: 3, receiver: 0x8001, payload: [1n, 2n, 3n, 4n, 5n] }), { endpoint: 3, vcpu: 1, cpu: 0 }),
          nwdCall('direct 64', msgSendDirectReq64.encodeCall({ sender: 3, receiver: 0x8001, payload: [ALL_ONES, 0n, ALL_ONES, 0n, ALL_ONES] }), { endpoint: 3, vcpu: 2, cpu: 1 }),
        ],
      },
      runtime,
    );
    assert.deepEqual(
      callsReceived(entries, 'spmc').map(({ from, conduit, endpoint, vcpu, cpu }) => ({ from, conduit, endpoint, vcpu, cpu })),
      [
        { from: 'spmd', conduit: 'smc', endpoint: 3, vcpu: 5, cpu: 7 },
        { from: 'spmd', conduit: 'smc', endpoint: 3, vcpu: 1, cpu: 0 },
        { from: 'spmd', conduit: 'smc', endpoint: 3, vcpu: 2, cpu: 1 },
      ],
    );
  });

  test(`buffer memory crosses as it is, both ways: a TX buffer's content in, an RX buffer's out [${runtime}]`, async () => {
    // The buffers are shared memory: the SPMD copies registers, never what is in the buffers.
    const descriptor = txWrite(0, { kind: 'rxtx-descriptor', endpoint: 2, rx: 0x8000_2000n, tx: 0x8000_1000n, pageCount: 1 });
    const written = rxWrite(NWD_ENDPOINT, { kind: 'partition-info', descriptorSize: 24, partitions: [{ id: 0x8001, vcpus: 2, properties: 0x101, uuid: OPTEE_UUID }] });
    const entries = await runSpmdWorld(
      { nwd: [nwdCall('forwarded map', ffaRxtxMap64.encodeCall({ tx: 0n, rx: 0n, pageCount: 0 }), { memory: descriptor }), nwdCall('echo', registers(FFA_FIDS.FFA_PARTITION_INFO_GET), { memory: written }), nwdCall('none', registers(FFA_FIDS.FFA_RX_RELEASE))] },
      runtime,
    );
    assert.deepEqual(callsReceived(entries, 'spmc').map((c) => c.memory), [descriptor, written, null]);
    const results = resultsByLabel(entries, 'nwd');
    assert.deepEqual(['forwarded map', 'echo', 'none'].map((label) => results.get(label)?.memory), [descriptor, written, null], 'the fake SPMC echoes memory; the SPMD passes it back');
  });

  test(`generated calls and versions: what crosses matches the reference's rules (fast-check) [${runtime}]`, async () => {
    const forwardedFids = [
      FFA_FIDS.FFA_MEM_SHARE_32,
      FFA_FIDS.FFA_MEM_SHARE_64,
      FFA_FIDS.FFA_MEM_RETRIEVE_REQ_64,
      FFA_FIDS.FFA_MEM_RECLAIM,
      FFA_FIDS.FFA_NOTIFICATION_INFO_GET_32,
      FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64,
      FFA_FIDS.FFA_NOTIFICATION_GET,
      FFA_FIDS.FFA_RXTX_MAP_64,
      FFA_FIDS.FFA_SUCCESS_64,
      FFA_FIDS.FFA_MSG_SEND,
    ];
    const register = fc.oneof(fc.constant(ALL_ONES), fc.constant(0n), fc.bigInt({ min: 0n, max: ALL_ONES }));
    const callArbitrary = fc.record({
      fid: fc.constantFrom(...forwardedFids),
      args: fc.array(register, { minLength: 17, maxLength: 17 }),
      callerVersion: fc.constantFrom(FFA_VERSION_1_1, FFA_VERSION_1_2),
    });
    const calls = fc.sample(callArbitrary, { seed: 20_240_301, numRuns: 40 });
    const steps: DriverStep[] = [];
    const expected: { label: string; atSpmc: RegisterFile; back: RegisterFile }[] = [];
    let current = FFA_VERSION_1_2;
    calls.forEach(({ fid, args, callerVersion }, index) => {
      if (callerVersion !== current) steps.push(nwdCall(`version ${index}`, version(callerVersion)));
      current = callerVersion;
      const regs = [BigInt(fid), ...args];
      steps.push(nwdCall(`call ${index}`, regs));
      expected.push({ label: `call ${index}`, ...expectedRoundTrip(regs, callerVersion, FFA_VERSION_1_2, STALE) });
    });
    const entries = await runSpmdWorld({ fakeSpmc: { x8ToX17OnReturn: STALE_HEX }, nwd: steps }, runtime);
    const results = resultsByLabel(entries, 'nwd');
    const atSpmc = callsReceived(entries, 'spmc').filter((c) => c.regs[0] !== BigInt(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32));
    assert.equal(atSpmc.length, expected.length);
    expected.forEach(({ label, atSpmc: spmcView, back }, index) => {
      assert.deepEqual(atSpmc[index]?.regs, spmcView, `${label}: what the SPMC received`);
      assert.deepEqual(returned(results, label), back, `${label}: what came back`);
    });
  });
}

/**
 * The reference's rules, written out for one normal-world call answered by the fake SPMC with
 * FFA_SUCCESS_64 (an SMC64 FID), x1..x7 echoed and `stale` in x8..x17.
 */
function expectedRoundTrip(sent: RegisterFile, callerVersion: number, spmcVersion: number, stale: bigint): { atSpmc: RegisterFile; back: RegisterFile } {
  const fid = sent[0] ?? 0n;
  const in8To17 = isSmc64(fid) && spmcVersion >= FFA_VERSION_1_2 ? (callerVersion >= FFA_VERSION_1_2 ? upper(sent) : ZEROS_8_TO_17) : ZEROS_8_TO_17;
  const atSpmc = [low32(fid), ...arguments1To7(sent), ...in8To17];
  const back8To17 = callerVersion >= FFA_VERSION_1_2 ? (spmcVersion >= FFA_VERSION_1_2 ? new Array<bigint>(10).fill(stale) : ZEROS_8_TO_17) : upper(sent);
  return { atSpmc, back: [SUCCESS_64, ...arguments1To7(sent), ...back8To17] };
}
