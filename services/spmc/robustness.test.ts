/**
 * Who may call, decided by the link; and malformed or random calls: each is answered with an FF-A
 * result and the SPMC keeps running (docs/design.md §4: a malformed frame never crashes or wedges
 * a service).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FFA_FIDS, SPMC_ID, registers, w, type RegisterFile } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { PartitionConfig } from './config.ts';
import type { ProfileName } from './profiles.ts';
import { idGet, raw, spmIdGet } from './test-support/calls.ts';
import { anything, assertRows, err, isCallRow, nwd, ok, records, regsAre, runTable, sp, type Caller, type Row } from './test-support/rows.ts';

const F = FFA_FIDS;
const INVALID = 'INVALID_PARAMETERS';

const PARTITIONS: PartitionConfig[] = [
  { id: 0x8001, vcpus: 4, behaviour: 'optee' },
  { id: 0x8002, behaviour: 'echo', notifications: true, messaging: ['direct', 'indirect'] },
  { id: 0x8005, behaviour: 'notifier', notifications: true },
];

const INTRUDER_ROWS: Row[] = [
  nwd('intruder: an SMC from a component that is not the SPMD → NOT_SUPPORTED', spmIdGet(), err('NOT_SUPPORTED')),
  sp(0x8002, 'intruder: a relay from a component not in relayFrom → NOT_SUPPORTED', spmIdGet(), err('NOT_SUPPORTED')),
];

const ORIGIN_ROWS: Row[] = [
  sp(0x8009, 'relay for 0x8009, not an SP of this SPMC → INVALID_PARAMETERS', idGet(), err(INVALID)),
  sp(0x8002, 'relay for vCPU 3 of a 1-vCPU SP → INVALID_PARAMETERS', idGet(), err(INVALID), { vcpu: 3 }),
  sp(0x8002, 'relay for the SP\'s own vCPU → its ID', idGet(), ok({ 2: 0x8002 })),
  nwd('a CPU that does not exist → INVALID_PARAMETERS', spmIdGet(), err(INVALID), { cpu: 9 }),
  nwd('an FF-A function number beyond 0x97 → NOT_SUPPORTED', raw(0x8400_00ff), err('NOT_SUPPORTED')),
  nwd('a non-FF-A SMC → NOT_SUPPORTED', raw(0x8200_0001), err('NOT_SUPPORTED')),
  nwd('FFA_MEM_SHARE_32 (not modelled) → NOT_SUPPORTED', raw(F.FFA_MEM_SHARE_32), err('NOT_SUPPORTED')),
  nwd('FFA_ERROR from the NWd → NOT_SUPPORTED', raw(F.FFA_ERROR, 0, 0xffff_fffe), err('NOT_SUPPORTED')),
  nwd('FFA_INTERRUPT from the SPMD → FFA_NORMAL_WORLD_RESUME', raw(F.FFA_INTERRUPT), regsAre({ w: { 0: F.FFA_NORMAL_WORLD_RESUME } })),
  nwd('the function ID is w0: x0[63:32] is ignored', registers(0xffff_ffff_0000_0000n | BigInt(F.FFA_SPM_ID_GET)), ok({ 2: SPMC_ID })),
];

/** What an SPMC may leave in w0 of any answer (FFA_VERSION aside, which returns a version). */
const ANSWER_FIDS = new Set<number>([
  F.FFA_ERROR,
  F.FFA_SUCCESS_32,
  F.FFA_SUCCESS_64,
  F.FFA_MSG_SEND_DIRECT_RESP_32,
  F.FFA_MSG_SEND_DIRECT_RESP_64,
  F.FFA_MSG_WAIT,
  F.FFA_NORMAL_WORLD_RESUME,
]);

const U64_MAX = (1n << 64n) - 1n;
const register = fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 0xffffn }), fc.bigInt({ min: 0n, max: 0xffff_ffffn }), fc.bigInt({ min: 0n, max: U64_MAX }));
const randomCall = fc.record({
  caller: fc.constantFrom<Caller>('nwd', 'nwd', 0x8001, 0x8002, 0x8005),
  fid: fc.oneof(fc.constantFrom(...Object.values(FFA_FIDS)), fc.integer({ min: 0, max: 0xffff_ffff })),
  args: fc.array(register, { minLength: 17, maxLength: 17 }),
  cpu: fc.integer({ min: 0, max: 3 }),
});

/** 200 random calls, the same for every run (a fixed fast-check seed). */
function fuzzRows(seed: number): Row[] {
  return fc.sample(randomCall, { numRuns: 200, seed }).map(({ caller, fid, args, cpu }, index) => {
    const regs: RegisterFile = registers(fid, ...args);
    return { label: `random call ${index}: 0x${fid.toString(16)}`, caller, regs, cpu, expect: anything };
  });
}

describe('SPMC robustness', () => {
  for (const runtime of RUNTIMES) {
    it(`decides the caller by the link, and refuses the rest (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'hafnium', partitions: PARTITIONS }, rows: ORIGIN_ROWS, outsiders: { intruder: INTRUDER_ROWS } });
      assertRows(ORIGIN_ROWS, run);
      assertRows(INTRUDER_ROWS, run);
      assert.equal(records(run.entries, 'call-refused').length, 4);
      assert.equal(records(run.entries, 'call-malformed').length, 1);
    });

    for (const profile of ['optee', 'hafnium'] as ProfileName[]) {
      it(`answers 200 random calls with FF-A results and keeps running: ${profile} (${runtime})`, async () => {
        const rows = fuzzRows(profile === 'optee' ? 0x5eed : 0xf00d);
        const run = await runTable(runtime, { spmc: { profile, partitions: PARTITIONS }, rows });
        for (const row of rows.filter(isCallRow)) {
          const result = run.results.get(row.label);
          assert.ok(result?.ok && result.regs, `${row.label}: no answer`);
          if (w(row.regs, 0) === F.FFA_VERSION) continue;
          assert.ok(ANSWER_FIDS.has(w(result.regs, 0)), `${row.label}: w0 0x${w(result.regs, 0).toString(16)} is not an FF-A answer`);
        }
        const crashes = run.entries.filter((e) => e.event.type === 'component' && e.event.event !== 'start' && e.event.event !== 'stop');
        assert.deepEqual(crashes, []);
      });
    }
  }
});
