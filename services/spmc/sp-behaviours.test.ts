/**
 * SP behaviours driven as a real world would: OP-TEE's asynchronous notification flow (the Linux
 * OP-TEE driver's order: capabilities → bind → enable; then the console interrupt's
 * notif_send_async → SRI → INFO_GET lists the VM → GET returns the bit), as the S-EL1 SPMC and as
 * an SP under a Hafnium-like SPMC (SET with delay-SRI); and the notifier SP a workload drives.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GET_FLAGS, SPMC_ID } from '../../shared/ffa/index.ts';
import type { HistoryEntry } from '../../shared/runtime/history.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { bind, bitmapCreate, directReq, get, infoGet64, spmIdGet, unbind, vmCreated } from './test-support/calls.ts';
import {
  DRIVER,
  assertRows,
  control,
  malformedControl,
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
  spmcTimeline,
  vmList,
  type Row,
} from './test-support/rows.ts';
import type { RecordEvent } from '../../shared/protocol/records.ts';

const OPTEE_SP = 0x8001;
const SP = GET_FLAGS.sp;
const OPTEE_FFA = { EXCHANGE_CAPABILITIES: 2n, ENABLE_ASYNC_NOTIF: 5n } as const;
/** OPTEE_FFA_SEC_CAP_ARG_OFFSET | OPTEE_FFA_SEC_CAP_ASYNC_NOTIF. */
const CAPABILITIES = 0b11;

/** Interrupt frames the SPMC sent to the driver, which stands in for the GIC broker (config.gic). */
function irqsReceived(entries: readonly HistoryEntry[]): unknown[] {
  return records(entries, 'driver-received', DRIVER).map((data) => data['message']);
}

const OPTEE_FLOW: Row[] = [
  nwd('VM_CREATED(1)', vmCreated(OPTEE_SP, 1), regsAre({ w: { 3: 0 } })),
  nwd('BITMAP_CREATE(1)', bitmapCreate(1), ok()),
  control('internal send before ENABLE → nothing happens', 'optee-notif-send', { vm: 1 }),
  control('internal send for VM 2, which has no bitmap → nothing happens', 'optee-notif-send', { vm: 2 }),
  nwd('EXCHANGE_CAPABILITIES → ASYNC_NOTIF offered', directReq(1, OPTEE_SP, [OPTEE_FFA.EXCHANGE_CAPABILITIES]), regsAre({ w: { 5: CAPABILITIES } })),
  nwd('BIND(0x8001 → VM 1, ID 0)', bind(OPTEE_SP, 1, 1n), ok()),
  nwd('BIND ID 0 again → DENIED (the Linux driver tries the next ID)', bind(OPTEE_SP, 1, 1n), err('DENIED')),
  nwd('ENABLE_ASYNC_NOTIF(0) → TEE_SUCCESS', directReq(1, OPTEE_SP, [OPTEE_FFA.ENABLE_ASYNC_NOTIF, 0n]), regsAre({ w: { 3: 0 } })),
  control('console interrupt on CPU 2: notif_send_async', 'optee-notif-send', { vm: 1, cpu: 2 }),
  nwd('INFO_GET_64 → VM 1', infoGet64(), info(false, vmList(1)), { cpu: 2 }),
  nwd('GET(VM 1, SP) → ID 0', get(1, SP), got({ sp: 1n }), { cpu: 2 }),
  nwd('INFO_GET_64 → NO_DATA', infoGet64(), err('NO_DATA')),
  malformedControl('malformed control data is refused', 'optee-notif-send', { vm: 'one' }),
  malformedControl('an unknown control op is refused', 'reboot', {}),
  // Controls are one-way: under ws the world could end before the SPMC handled the two above. A
  // call on the same link after them returns only once they were.
  nwd('a last call: the controls before it were handled', spmIdGet(), ok({ 2: SPMC_ID })),
];

/** OP-TEE as an S-EL1 SP under an S-EL2 SPMC: notif_send_async becomes SET(delay-SRI). */
const OPTEE_UNDER_HAFNIUM: Row[] = [
  nwd('BITMAP_CREATE(1)', bitmapCreate(1), ok()),
  nwd('EXCHANGE_CAPABILITIES', directReq(1, OPTEE_SP, [OPTEE_FFA.EXCHANGE_CAPABILITIES]), regsAre({ w: { 5: CAPABILITIES } })),
  nwd('BIND(0x8001 → VM 1, ID 3)', bind(OPTEE_SP, 1, 1n << 3n), ok()),
  nwd('ENABLE_ASYNC_NOTIF(3)', directReq(1, OPTEE_SP, [OPTEE_FFA.ENABLE_ASYNC_NOTIF, 3n]), regsAre({ w: { 3: 0 } })),
  control('console interrupt on CPU 1: SET with delay-SRI', 'optee-notif-send', { vm: 1, cpu: 1 }),
  nwd('a return to the NWd on CPU 0', spmIdGet(), ok({ 2: SPMC_ID })),
  nwd('INFO_GET_64 on CPU 1 → VM 1 (the SRI went out when the send ended)', infoGet64(), info(false, vmList(1)), { cpu: 1 }),
  nwd('GET(VM 1, SP) → ID 3', get(1, SP), got({ sp: 1n << 3n }), { cpu: 1 }),
  nwd('UNBIND ID 3', unbind(OPTEE_SP, 1, 1n << 3n), ok()),
  control('send with the ID unbound → DENIED (OP-TEE would panic)', 'optee-notif-send', { vm: 1, cpu: 1 }),
  nwd('a last call: the control before it was handled', spmIdGet(), ok({ 2: SPMC_ID })),
];

const NOTIFIER_HAFNIUM: Row[] = [
  nwd('BITMAP_CREATE(1)', bitmapCreate(1), ok()),
  nwd('BIND(0x8005 → VM 1, bits 4,5)', bind(0x8005, 1, 0x30n), ok()),
  control('workload: the notifier sets bits 4,5 for VM 1 on CPU 3', 'notifier-set', { sp: 0x8005, receiver: 1, bitmap: '0x30', cpu: 3 }),
  control('workload: an unbound bit → DENIED', 'notifier-set', { sp: 0x8005, receiver: 1, bitmap: 0x40 }),
  control('workload: not a notifier SP → refused', 'notifier-set', { sp: 0x8009, receiver: 1, bitmap: 1 }),
  nwd('INFO_GET_64 → VM 1', infoGet64(), info(false, vmList(1))),
  nwd('GET(VM 1, SP) → bits 4,5', get(1, SP), got({ sp: 0x30n })),
  nwd('a direct request to the notifier → an empty DIRECT_RESP', directReq(1, 0x8005, [9n]), regsAre({ w: { 3: 0 } })),
];

const NOTIFIER_OPTEE: Row[] = [
  nwd('VM_CREATED(1) at the SPMC ID', vmCreated(SPMC_ID, 1), regsAre({ w: { 3: 0 } })),
  control('workload: the notifier sets bit 7 for VM 1 (internal send, no binding needed)', 'notifier-set', { sp: 0x8005, receiver: 1, bitmap: 0x80n, cpu: 1 }),
  nwd('GET(VM 1, SP) → bit 7', get(1, SP), got({ sp: 0x80n })),
];

const outcomes = (entries: readonly HistoryEntry[], event: RecordEvent) => records(entries, event).map((data) => data['outcome']);

describe('SP behaviours', () => {
  for (const runtime of RUNTIMES) {
    it(`OP-TEE's async notification flow as the S-EL1 SPMC, SRI through the GIC link (${runtime})`, async () => {
      const run = await runTable(runtime, { spmc: { profile: 'optee', gic: DRIVER }, rows: OPTEE_FLOW });
      assertRows(OPTEE_FLOW, run);
      assert.deepEqual(outcomes(run.entries, 'optee-notif-send'), ['not-enabled', 'no-bitmap', 'sent']);
      assert.deepEqual(records(run.entries, 'optee-async-notif-enabled').map(({ vm, id }) => ({ vm, id })), [{ vm: 1, id: 0 }]);
      assert.deepEqual(records(run.entries, 'sri-raise').map(({ cpu, intid, delayed }) => ({ cpu, intid, delayed })), [{ cpu: 2, intid: 8, delayed: false }]);
      assert.deepEqual(irqsReceived(run.entries), [{ kind: 'irq', op: 'raise', intid: 8, group: 'nonsecure', cpu: 2, vm: -1, vcpu: -1 }]);
      assert.equal(records(run.entries, 'control-refused').length, 2);
      const timeline = spmcTimeline(run.entries, OPTEE_FLOW);
      const [raise = -1] = recordPositions(timeline, 'sri-raise');
      assert.ok(raise > returnPosition(timeline, 'ENABLE_ASYNC_NOTIF(0) → TEE_SUCCESS'));
      assert.ok(raise < returnPosition(timeline, 'INFO_GET_64 → VM 1'));
    });

    it(`OP-TEE as an SP under the hafnium profile: SET with delay-SRI (${runtime})`, async () => {
      const spmc = { profile: 'hafnium' as const, partitions: [{ id: OPTEE_SP, vcpus: 4, behaviour: 'optee' as const }] };
      const run = await runTable(runtime, { spmc, rows: OPTEE_UNDER_HAFNIUM });
      assertRows(OPTEE_UNDER_HAFNIUM, run);
      assert.deepEqual(outcomes(run.entries, 'optee-notif-send'), ['sent', 'DENIED']);
      assert.deepEqual(records(run.entries, 'sri-delayed').map(({ cpu }) => cpu), [1]);
      assert.deepEqual(records(run.entries, 'sri-raise').map(({ cpu, delayed }) => ({ cpu, delayed })), [{ cpu: 1, delayed: true }]);
      // The send stands for OP-TEE handling a secure interrupt on CPU 1: the delayed SRI goes out
      // when that handler returns to the normal world there (docs/ffa-reference.md §3.6), before any later call.
      const timeline = spmcTimeline(run.entries, OPTEE_UNDER_HAFNIUM);
      const [raise = -1] = recordPositions(timeline, 'sri-raise');
      const [send = -1] = recordPositions(timeline, 'optee-notif-send');
      assert.equal(raise, send - 1, 'raised as the send ends');
      assert.ok(raise < returnPosition(timeline, 'a return to the NWd on CPU 0'));
    });

    it(`the notifier SP sets notifications when a workload asks (${runtime})`, async () => {
      const partitions = [{ id: 0x8005, behaviour: 'notifier' as const }];
      const hafnium = await runTable(runtime, { spmc: { profile: 'hafnium', partitions }, rows: NOTIFIER_HAFNIUM });
      assertRows(NOTIFIER_HAFNIUM, hafnium);
      assert.deepEqual(
        records(hafnium.entries, 'notifier-set').map(({ bitmap, cpu, outcome }) => ({ bitmap, cpu, outcome })),
        [
          { bitmap: '0x30', cpu: 3, outcome: 'sent' },
          { bitmap: '0x40', cpu: 0, outcome: 'DENIED' },
        ],
      );
      assert.deepEqual(records(hafnium.entries, 'sri-raise').map(({ cpu }) => cpu), [3]);
      assert.equal(records(hafnium.entries, 'control-refused').length, 1);
      const optee = await runTable(runtime, { spmc: { profile: 'optee', partitions }, rows: NOTIFIER_OPTEE });
      assertRows(NOTIFIER_OPTEE, optee);
      assert.deepEqual(records(optee.entries, 'sri-raise').map(({ cpu }) => cpu), [1]);
    });
  }
});
