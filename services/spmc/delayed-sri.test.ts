/**
 * When a delayed SRI goes out (docs/ffa-reference.md §3.6, §8.6): at the SPMC's next return to
 * the normal world on the CPU that set it (Hafnium handler.c, ffa_notifications_sri_trigger_if_delayed).
 * An SP that sets a notification while it handles a normal-world request returns there with its
 * response, as TF-A Tests' test_ffa_notifications_sp_signals_vm does through Cactus; a relayed SP
 * call outside any request is a run the normal world gave the SP, and returns there when it ends.
 * A UP SP's relayed calls inside a request run on the CPU the request came on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GET_FLAGS, SET_FLAGS } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import type { PartitionConfig } from './config.ts';
import { REQ_32, RESP_32, bind, bitmapCreate, directReq, directResp, get, msgWait, set } from './test-support/calls.ts';
import { assertRows, got, nwd, ok, recordPositions, records, regsAre, returnPosition, runTable, sp, spmcTimeline, type Row } from './test-support/rows.ts';

/** A UP raw SP (its calls are the relay's), and an echo SP it may ask while it handles a request. */
const PARTITIONS: PartitionConfig[] = [
  { id: 0x8005, vcpus: 1 },
  { id: 0x8002, behaviour: 'echo' },
];
const REQUEST = 'NWd VM 1 → 0x8005 on CPU 2: held until the SP responds';

const NWD_ROWS: Row[] = [
  nwd('create: VM 1', bitmapCreate(1, 4), ok()),
  nwd('bind: VM 1 bit 2 ← 0x8005', bind(0x8005, 1, 1n << 2n), ok()),
  nwd(REQUEST, directReq(1, 0x8005, [0x11n]), regsAre({ w: { 0: RESP_32, 1: (0x8005 << 16) | 1, 3: 0x77 } }), { cpu: 2 }),
  nwd('get: VM 1 → bit 2', get(1, GET_FLAGS.sp, 2), got({ sp: 1n << 2n }), { cpu: 2 }),
];

const SP_ROWS: Row[] = [
  sp(0x8005, 'SP: msg_wait → the NWd\'s request', msgWait(), regsAre({ w: { 0: REQ_32, 1: (1 << 16) | 0x8005, 3: 0x11 } })),
  sp(0x8005, 'SP: set VM 1 bit 2 with delay-SRI inside the request', set(0x8005, 1, 1n << 2n, SET_FLAGS.delaySri), ok()),
  sp(0x8005, 'SP: direct_req to the echo SP (a return to the SP, not to the NWd)', directReq(0x8005, 0x8002, [5n]), regsAre({ w: { 0: RESP_32, 3: 5 } })),
  sp(0x8005, 'SP: direct_resp to VM 1', directResp(0x8005, 1, [0x77n]), ok()),
];

describe('the delayed SRI', () => {
  for (const runtime of RUNTIMES) {
    it(`set inside a normal-world request goes out with the SP's response, on the request's CPU (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'hafnium', partitions: PARTITIONS }, rows: NWD_ROWS, others: { sp: SP_ROWS } });
      assertRows([...NWD_ROWS, ...SP_ROWS], run);
      assert.deepEqual(records(run.entries, 'sri-delayed').map(({ cpu }) => cpu), [2], 'the UP SP ran on the request\'s CPU');
      assert.deepEqual(records(run.entries, 'sri-raise').map(({ cpu, delayed }) => ({ cpu, delayed })), [{ cpu: 2, delayed: true }]);
      const timeline = spmcTimeline(run.entries, NWD_ROWS);
      const [raise = -1] = recordPositions(timeline, 'sri-raise');
      assert.ok(raise > (recordPositions(timeline, 'direct-response')[0] ?? Infinity), 'raised with the response, not at the SET or the SP → SP request');
      assert.equal(raise, returnPosition(timeline, REQUEST) - 1, 'raised just before the return to the NWd');
    });
  }
});
