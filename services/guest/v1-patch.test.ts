/**
 * Experiment 1 (docs/design.md §10): the March 2024 v1 of "firmware: arm_ffa: support running as
 * a guest in a vm" (docs/ffa-reference.md §4.6) in a guest, as the review predicted.
 *
 * 1. Xen as its early-2024 FF-A patches had it: only the NPI offered, and the guest's INFO_GET
 *    passed through to a destructive (Hafnium-like) SPMC, while Xen's own SRI handler also calls
 *    INFO_GET. The v1 driver maps the NPI with the INFO_GET handler. Xen's INFO_GET takes the
 *    report (Hafnium marks it retrieved), injects the NPI; the guest's INFO_GET then gets NO_DATA
 *    and no GET is ever made: the notification is lost. Lorenzo Pieralisi, 8 Mar 2024: INFO_GET
 *    "is destructive (calling it again in the notified *guest* … would not return the pending
 *    notifications for it)".
 * 2. Today's Xen (NPI 8 and SRI 9 offered, INFO_GET answered by Xen): the v1 driver finds the SRI
 *    first and maps SGI 9, which Xen never raises; Xen's NPI 8 arrives with no handler, and again
 *    no GET is made.
 * The Hafnium-like SPMC here raises the SRI at once (sriTiming immediate): OP-TEE's send stands
 * for an interrupt taken in the secure world, with no later return to the normal world on that
 * CPU to flush a delayed SRI. Every test runs under both runtimes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FFA_FIDS } from '../../shared/ffa/index.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import {
  awaitProbe,
  GIC,
  HYPERVISOR,
  opteeSend,
  probeSequence,
  records,
  runGuestWorld,
  spmcAnswers,
  SPMC,
  virtualDeliveries,
  wait,
  type GuestSpec,
} from './test-support/world.ts';

const VM = 'vm1';
const VM_ID = 1;

const guest: GuestSpec = { name: VM, vmId: VM_ID, variant: 'linux-v1-patch', vcpus: 2, opteeClient: true };

const FFA_INIT_HEAD = [
  'FFA_VERSION(1.2) → 1.2',
  'FFA_ID_GET → SUCCESS',
  'FFA_FEATURES(FFA_RXTX_MAP_64) → SUCCESS',
  'FFA_RXTX_MAP_64(pages=1) → SUCCESS',
  'FFA_FEATURES(FFA_MEM_LEND_64) → NOT_SUPPORTED',
  'FFA_FEATURES(FFA_MEM_SHARE_64) → SUCCESS',
  'FFA_FEATURES(FFA_MSG_SEND_DIRECT_REQ2) → SUCCESS',
  // v1: "stopped aborting when FFA_FEATURES(BITMAP_CREATE) fails".
  'FFA_FEATURES(FFA_NOTIFICATION_BITMAP_CREATE) → NOT_SUPPORTED',
];
/** Xen answers FFA_PARTITION_INFO_GET_REGS from its cached SP list (v1.2 guest): the count, then the descriptors in x3..x17. */
const PARTITIONS = [
  'FFA_FEATURES(FFA_PARTITION_INFO_GET_REGS) → SUCCESS',
  'FFA_PARTITION_INFO_GET_REGS(start=0) → SUCCESS',
  'FFA_PARTITION_INFO_GET_REGS(start=0) → SUCCESS',
];

for (const runtime of RUNTIMES) {
  describe(`linux-v1-patch in a guest (${runtime})`, () => {
    it('NPI only + INFO_GET passed through to a destructive SPMC: Xen\'s INFO_GET takes the report, the guest\'s gets NO_DATA, the notification is lost', async () => {
      const entries = await runGuestWorld(
        {
          hypervisor: 'xen',
          spmcProfile: 'hafnium',
          spmcPolicies: { sriTiming: 'immediate' },
          hypervisorPolicies: { guestInterrupts: 'npi-only', guestInfoGet: 'passthrough' },
          guests: [guest],
          actor: [awaitProbe(VM), opteeSend(VM_ID, 0), wait(500_000_000)],
        },
        runtime,
      );
      // ffa_get_notif_intid: SRI first, not offered; then NPI: the one interrupt, with the INFO_GET handler.
      assert.deepEqual(probeSequence(entries, VM), [...FFA_INIT_HEAD, 'FFA_FEATURES(SRI) → NOT_SUPPORTED', 'FFA_FEATURES(NPI) → SUCCESS', ...PARTITIONS]);
      assert.deepEqual(records(entries, VM, 'notifications-enabled'), [{ event: 'notifications-enabled', sri: null, npi: 8, bitmapCreated: false }]);
      assert.deepEqual(records(entries, VM, 'optee-async-notif'), [{ event: 'optee-async-notif', id: 0 }]);
      assert.deepEqual(records(entries, SPMC, 'optee-notif-send').map((r) => r['outcome']), ['sent']);

      // Xen's SRI handler: INFO_GET took the report for VM 1, then the NPI.
      assert.deepEqual(records(entries, HYPERVISOR, 'info-get').map((r) => [r['result'], r['ids']]), [['OK', [VM_ID]]]);
      assert.equal(records(entries, HYPERVISOR, 'npi-inject').length, 1);
      // The guest's NPI handler ran the INFO_GET loop (v1), passed through to the SPMC: NO_DATA.
      assert.deepEqual(records(entries, VM, 'irq-handled'), [{ event: 'irq-handled', intid: 8, kind: 'npi', vcpu: 0 }]);
      assert.equal(records(entries, HYPERVISOR, 'info-get-passthrough').length, 1);
      assert.deepEqual(records(entries, VM, 'info-get').map((r) => r['result']), ['NO_DATA']);
      // At the SPMC, in its own order: the first INFO_GET (Xen's) got VM 1, the second (the guest's) nothing.
      assert.deepEqual(spmcAnswers(entries, FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64), ['SUCCESS', 'NO_DATA']);
      // The set bit is never returned by a GET: lost.
      assert.deepEqual(records(entries, VM, 'notification-get'), []);
      assert.deepEqual(records(entries, VM, 'optee-bottom-half'), []);
    });

    it('today\'s Xen (NPI 8 and SRI 9 offered): the v1 driver maps SRI 9, which is never raised, and the NPI goes unhandled', async () => {
      const entries = await runGuestWorld(
        { hypervisor: 'xen', spmcProfile: 'optee', guests: [guest], actor: [awaitProbe(VM), opteeSend(VM_ID, 0), wait(500_000_000)] },
        runtime,
      );
      // The SRI is found first, so FEATURES(NPI) is never asked.
      assert.deepEqual(probeSequence(entries, VM), [...FFA_INIT_HEAD, 'FFA_FEATURES(SRI) → SUCCESS', ...PARTITIONS]);
      assert.deepEqual(records(entries, VM, 'notifications-enabled'), [{ event: 'notifications-enabled', sri: 9, npi: null, bitmapCreated: false }]);
      assert.deepEqual(records(entries, SPMC, 'optee-notif-send').map((r) => r['outcome']), ['sent']);
      assert.deepEqual(virtualDeliveries(entries, VM_ID, 9), [], 'Xen never raises the virtual SRI it offers');
      assert.deepEqual(records(entries, GIC, 'gic-raise').filter((r) => r['vm'] === VM_ID).map((r) => r['intid']), [8]);
      assert.deepEqual(records(entries, VM, 'irq-unhandled').map((r) => [r['intid'], r['vcpu']]), [[8, 0]]);
      assert.deepEqual(records(entries, VM, 'info-get'), []);
      assert.deepEqual(records(entries, VM, 'notification-get'), []);
      assert.deepEqual(records(entries, VM, 'optee-bottom-half'), []);
    });
  });
}
