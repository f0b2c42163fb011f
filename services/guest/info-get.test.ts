/**
 * ffa_notification_info_get on the bare-metal host, the primary scheduler (docs/ffa-reference.md §4.3, §8.15,
 * §3.5), against a Hafnium-like SPMC holding pending notifications for 20 VMs whose bitmaps the
 * host created (as a hypervisor at the NS physical instance would):
 * - the `max_ids - 1` quirk (policy maxIdsQuirk, default on, as Linux): a full 64-bit return
 *   carries 20 IDs and Linux processes 19; the 20th is never handed to a scheduler callback, and
 *   Hafnium's destructive INFO_GET will not report it again. With the policy off, all 20.
 * - the "more pending" loop against an SPMC whose INFO_GET is not destructive and keeps saying
 *   "more pending" (experiment 4's shape at the host): Linux loops for ever; the bound
 *   (policy infoGetLoopBound) stops it and says so.
 * The SRI is held back at the GIC while the notifications are set, so one INFO_GET sees them all.
 * Every test runs under both runtimes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import {
  awaitProbe,
  configureAtGic,
  guestControl,
  HOST,
  NOTIFIER_SP_ID,
  notifierSet,
  records,
  runGuestWorld,
  wait,
  type GuestPolicies,
  type GuestWorld,
} from './test-support/world.ts';

const VMS = Array.from({ length: 20 }, (_, index) => index + 1);

function world(policies: Partial<GuestPolicies>, spmcPolicies: Record<string, unknown>): GuestWorld {
  const setup = VMS.flatMap((vm) => [
    guestControl(HOST, 'call', { abi: 'FFA_NOTIFICATION_BITMAP_CREATE', args: { vm, vcpus: 1 }, label: `create ${vm}` }),
    guestControl(HOST, 'call', { abi: 'FFA_NOTIFICATION_BIND', args: { sender: NOTIFIER_SP_ID, receiver: vm, flags: 0, bitmap: 1n }, label: `bind ${vm}` }),
  ]);
  return {
    hypervisor: 'none',
    spmcProfile: 'hafnium',
    spmcPolicies,
    notifierSp: true,
    vmSlots: 24,
    actorAtGic: true,
    guests: [{ name: HOST, variant: 'linux-6.10', vcpus: 4, policies }],
    actor: [
      awaitProbe(HOST),
      ...setup,
      ...configureAtGic(8, false),
      ...VMS.map((vm) => notifierSet(vm, 1, 0)),
      wait(500_000_000),
      ...configureAtGic(8, true),
      wait(500_000_000),
    ],
  };
}

for (const runtime of RUNTIMES) {
  describe(`INFO_GET at the host (${runtime})`, () => {
    it('a full return of 20 IDs: Linux processes 19 (maxIdsQuirk), all 20 without the quirk', async () => {
      for (const [quirk, handled] of [
        [true, 19],
        [false, 20],
      ] as const) {
        const entries = await runGuestWorld(world({ maxIdsQuirk: quirk }, {}), runtime);
        assert.deepEqual(records(entries, HOST, 'raw-result').map((r) => r['result']), VMS.flatMap(() => ['SUCCESS', 'SUCCESS']));
        const infoGets = records(entries, HOST, 'info-get');
        assert.equal(infoGets.length, 1, 'one SRI, one INFO_GET (no more pending)');
        assert.deepEqual(infoGets[0]?.['lists'], VMS.map((id) => ({ id, vcpus: [] })));
        assert.equal(infoGets[0]?.['idsSkipped'], 20 - handled);
        // No device for those VMs here: each ID handled reaches __do_sched_recv_cb's "Invalid partition ID".
        const handedOver = records(entries, HOST, 'sched-recv-invalid-partition').map((r) => r['partition']);
        assert.deepEqual(handedOver, VMS.slice(0, handled));
      }
    });

    it('a non-destructive INFO_GET that always says "more pending": the loop stops at its bound', async () => {
      const entries = await runGuestWorld(world({ infoGetLoopBound: 5 }, { infoGetDestructiveness: 'none', infoGetMorePending: 'pending-not-retrieved' }), runtime);
      const infoGets = records(entries, HOST, 'info-get');
      assert.deepEqual(infoGets.map((r) => [r['iteration'], r['morePending']]), [1, 2, 3, 4, 5].map((iteration) => [iteration, true]));
      assert.deepEqual(records(entries, HOST, 'info-get-loop-bound').map((r) => r['iterations']), [5]);
    });
  });
}
