/**
 * The notifier API (struct ffa_notifier_ops, docs/ffa-reference.md §4.4) as a client driver calls it, driven by
 * control messages on the bare-metal host, with errno semantics as Linux returns them:
 * notify_request → BIND (DENIED → -EACCES: "taken, try the next ID", which is how OP-TEE's client
 * found ID 0 free), notify_relinquish → UNBIND (-EINVAL with no callback to remove),
 * notify_send → SET, IDs ≥ 64 → -EINVAL, sched_recv_cb_register once per partition.
 * Per-vCPU requests (experiment 7): OP-TEE refuses the per-vCPU flag with DENIED (-EACCES),
 * today's Hafnium with INVALID_PARAMETERS (-EINVAL), and a Hafnium that still supports per-vCPU
 * notifications binds it. Every test runs under both runtimes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { awaitProbe, guestControl, HOST, records, runGuestWorld, type GuestWorld } from './test-support/world.ts';

const OPTEE = 0x8001;

function world(spmcProfile: 'optee' | 'hafnium', actor: GuestWorld['actor'], spmcPolicies: Record<string, unknown> = {}): GuestWorld {
  return { hypervisor: 'none', spmcProfile, spmcPolicies, guests: [{ name: HOST, variant: 'linux-6.10', vcpus: 4, opteeClient: true }], actor };
}

function results(entries: Parameters<typeof records>[0]): unknown[][] {
  return records(entries, HOST, 'notifier-result').map((r) => [r['op'], r['id'] ?? r['partition'], r['errno']]);
}

for (const runtime of RUNTIMES) {
  describe(`notifier API on the host (${runtime})`, () => {
    it('request/relinquish/send/sched_recv_cb_register give Linux\'s errnos against OP-TEE', async () => {
      const actor = [
        awaitProbe(HOST),
        guestControl(HOST, 'notify-request', { sender: OPTEE, id: 0 }),
        guestControl(HOST, 'notify-request', { sender: OPTEE, id: 1, perVcpu: true, vcpu: 2 }),
        guestControl(HOST, 'notify-request', { sender: OPTEE, id: 1 }),
        guestControl(HOST, 'notify-request', { sender: OPTEE, id: 1 }),
        guestControl(HOST, 'notify-relinquish', { sender: OPTEE, id: 1 }),
        guestControl(HOST, 'notify-relinquish', { sender: OPTEE, id: 1 }),
        guestControl(HOST, 'notify-send', { receiver: OPTEE, id: 2 }),
        guestControl(HOST, 'notify-request', { sender: OPTEE, id: 64 }),
        guestControl(HOST, 'sched-recv-register', { partition: OPTEE }),
        guestControl(HOST, 'sched-recv-register', { partition: OPTEE }),
        guestControl(HOST, 'sched-recv-register', { partition: 0x8005 }),
      ];
      const entries = await runGuestWorld(world('optee', actor), runtime);
      // OP-TEE's client took ID 0 first (its bind loop: -EACCES means taken).
      assert.deepEqual(records(entries, HOST, 'optee-notify-request'), [{ event: 'optee-notify-request', id: 0, result: '0' }]);
      assert.deepEqual(results(entries), [
        ['notify-request', 0, '-EACCES'], // already bound: OP-TEE BIND → DENIED
        ['notify-request', 1, '-EACCES'], // per-vCPU: OP-TEE "only global notifications" → DENIED
        ['notify-request', 1, '0'],
        ['notify-request', 1, '-EACCES'], // bound now
        ['notify-relinquish', 1, '0'], // callback out, UNBIND
        ['notify-relinquish', 1, '-EINVAL'], // "Could not unregister notification callback"
        ['notify-send', 2, '-EOPNOTSUPP'], // OP-TEE does not dispatch FFA_NOTIFICATION_SET
        ['notify-request', 64, '-EINVAL'], // FFA_MAX_NOTIFICATIONS
        ['sched-recv-register', OPTEE, '0'],
        ['sched-recv-register', OPTEE, '-EINVAL'], // one callback per partition
        ['sched-recv-register', 0x8005, '-EINVAL'], // no such partition
      ]);
      // The per-vCPU request ran on vCPU 2 (its BIND is that vCPU's call).
      assert.equal(records(entries, HOST, 'notifier-result')[1]?.['vcpu'], 2);
    });

    it('per-vCPU notify_request: -EINVAL against today\'s Hafnium, 0 where per-vCPU notifications are supported', async () => {
      const actor = [awaitProbe(HOST), guestControl(HOST, 'notify-request', { sender: OPTEE, id: 3, perVcpu: true })];
      const rejecting = await runGuestWorld(world('hafnium', actor), runtime);
      assert.deepEqual(results(rejecting), [['notify-request', 3, '-EINVAL']]);
      const supporting = await runGuestWorld(world('hafnium', actor, { perVcpuNotifications: 'supported' }), runtime);
      assert.deepEqual(results(supporting), [['notify-request', 3, '0']]);
    });
  });
}
