/**
 * Guests under the Xen-like hypervisor (services/hypervisor, profile xen) with the TF-A-like SPMD
 * and the OP-TEE-like SPMC (NS-virtualization: VM_CREATED, then Xen's BITMAP_CREATE for the VM):
 * - linux-6.10 probes as §4.1-§4.3 at a virtual FF-A instance (BITMAP_CREATE not offered, both
 *   interrupts mapped: SRI 9 and NPI 8), and OP-TEE's notification reaches the OP-TEE client's
 *   callback on the vCPU Xen injected the NPI into, its first online vCPU (§5.3): GET only,
 *   never INFO_GET (§4.3);
 * - linux-6.9 aborts notification setup on FFA_FEATURES(BITMAP_CREATE) = NOT_SUPPORTED, says so,
 *   and never gets a notification: OP-TEE's is never enabled, another SP's set reaches the VM as
 *   an NPI that no handler takes, and no GET ever runs;
 * - vCPUs going offline and online: the NPI follows the first online vCPU; with every vCPU offline
 *   Xen latches the notification (npi-latched) and, staying latched when a vCPU returns (Xen's
 *   behaviour), it is delivered with the next SRI.
 * Every test runs under both runtimes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import {
  awaitBottomHalf,
  awaitProbe,
  HYPERVISOR,
  notifierSet,
  opteeSend,
  probeSequence,
  records,
  recordsWithSeq,
  runGuestWorld,
  SPMC,
  vcpuLifecycle,
  virtualDeliveries,
  wait,
  type GuestSpec,
} from './test-support/world.ts';

const VM = 'vm1';
const VM_ID = 1;

/** §4.1 steps 1-5 against Xen (ffa.c handle_features answering a v1.2 guest, §5.6). */
const FFA_INIT_HEAD = [
  'FFA_VERSION(1.2) → 1.2',
  'FFA_ID_GET → SUCCESS',
  'FFA_FEATURES(FFA_RXTX_MAP_64) → SUCCESS',
  'FFA_RXTX_MAP_64(pages=1) → SUCCESS',
  'FFA_FEATURES(FFA_MEM_LEND_64) → NOT_SUPPORTED',
  'FFA_FEATURES(FFA_MEM_SHARE_64) → SUCCESS',
  // DIRECT_REQ2 is offered to v1.2 guests: RESP2 is not asked (C's ||).
  'FFA_FEATURES(FFA_MSG_SEND_DIRECT_REQ2) → SUCCESS',
  // "Physical-instance-only ABIs are not exposed to VMs".
  'FFA_FEATURES(FFA_NOTIFICATION_BITMAP_CREATE) → NOT_SUPPORTED',
];

/** Xen answers FFA_PARTITION_INFO_GET_REGS from its cached SP list (v1.2 guest): the count, then the descriptors in x3..x17. */
const PARTITIONS = [
  'FFA_FEATURES(FFA_PARTITION_INFO_GET_REGS) → SUCCESS',
  'FFA_PARTITION_INFO_GET_REGS(start=0) → SUCCESS',
  'FFA_PARTITION_INFO_GET_REGS(start=0) → SUCCESS',
];

function guest(variant: GuestSpec['variant']): GuestSpec {
  return { name: VM, vmId: VM_ID, variant, vcpus: 2, opteeClient: true };
}

for (const runtime of RUNTIMES) {
  describe(`guest under Xen (${runtime})`, () => {
    it('linux-6.10: probes as §4.1-§4.3 and gets OP-TEE\'s notification on the vCPU the NPI was injected into', async () => {
      const entries = await runGuestWorld(
        { hypervisor: 'xen', spmcProfile: 'optee', guests: [guest('linux-6.10')], actor: [awaitProbe(VM), opteeSend(VM_ID, 0), awaitBottomHalf(VM)] },
        runtime,
      );
      assert.deepEqual(probeSequence(entries, VM), [
        ...FFA_INIT_HEAD,
        // §4.2: no bitmap to create; both interrupts offered (Xen: SRI 9, NPI 8) and both mapped.
        'FFA_FEATURES(SRI) → SUCCESS',
        'FFA_FEATURES(NPI) → SUCCESS',
        ...PARTITIONS,
      ]);
      assert.deepEqual(records(entries, VM, 'notifications-enabled'), [{ event: 'notifications-enabled', sri: 9, npi: 8, bitmapCreated: false }]);
      assert.deepEqual(records(entries, VM, 'optee-async-notif'), [{ event: 'optee-async-notif', id: 0 }]);

      const injected = records(entries, HYPERVISOR, 'npi-inject');
      assert.equal(injected.length, 1);
      assert.deepEqual({ vm: injected[0]?.['vm'], vcpu: injected[0]?.['vcpu'], intid: injected[0]?.['intid'] }, { vm: VM_ID, vcpu: 0, intid: 8 });
      assert.deepEqual(virtualDeliveries(entries, VM_ID, 8).map((d) => d['vcpu']), [0]);
      // notif_pend_irq_handler → notif_pcpu_work on that vCPU → GET with all four bitmaps, no INFO_GET.
      assert.deepEqual(records(entries, VM, 'irq-handled'), [{ event: 'irq-handled', intid: 8, kind: 'npi', vcpu: 0 }]);
      assert.deepEqual(records(entries, VM, 'info-get'), []);
      assert.deepEqual(records(entries, VM, 'notification-get'), [
        { event: 'notification-get', vcpu: 0, result: 'SUCCESS', sp: '0x1', vm: '0x0', spm: '0x0', hyp: '0x0' },
      ]);
      assert.deepEqual(records(entries, VM, 'notification-callback'), [{ event: 'notification-callback', id: 0, type: 'sp', vcpu: 0, sender: 0x8001 }]);
      assert.deepEqual(records(entries, VM, 'optee-bottom-half'), [{ event: 'optee-bottom-half', id: 0, vcpu: 0 }]);
    });

    it('linux-6.9: FEATURES(BITMAP_CREATE) NOT_SUPPORTED aborts notification setup; it says why and never gets a notification', async () => {
      const actor = [awaitProbe(VM), opteeSend(VM_ID, 0), notifierSet(VM_ID, 0x20, 1), wait(500_000_000)];
      const entries = await runGuestWorld({ hypervisor: 'xen', spmcProfile: 'optee', notifierSp: true, guests: [guest('linux-6.9')], actor }, runtime);
      assert.deepEqual(probeSequence(entries, VM), [...FFA_INIT_HEAD, ...PARTITIONS]);
      assert.deepEqual(records(entries, VM, 'notifications-disabled'), [
        { event: 'notifications-disabled', reason: 'FFA_FEATURES(FFA_NOTIFICATION_BITMAP_CREATE) NOT_SUPPORTED' },
      ]);
      const logs = records(entries, VM, 'driver-log').map((line) => line['text']);
      assert.ok(logs.includes('ARM FF-A: Notifications not supported, continuing with it ..'));
      // OP-TEE's client: notify_request is -EOPNOTSUPP, so async notifications are never enabled…
      assert.deepEqual(records(entries, VM, 'optee-notify-request'), [{ event: 'optee-notify-request', id: 0, result: '-EOPNOTSUPP' }]);
      assert.ok(logs.includes('optee: Failed to initialize async notifications: -95'));
      assert.deepEqual(records(entries, SPMC, 'optee-notif-send').map((r) => r['outcome']), ['not-enabled']);
      // …and another SP's notification reaches the VM as Xen's NPI, which no handler takes.
      assert.deepEqual(records(entries, SPMC, 'notifier-set').map((r) => r['outcome']), ['sent']);
      assert.equal(records(entries, HYPERVISOR, 'npi-inject').length, 1);
      assert.deepEqual(records(entries, VM, 'irq-unhandled').map((r) => r['intid']), [8]);
      assert.deepEqual(records(entries, VM, 'notification-get'), [], 'no GET: the set bit stays pending at the SPMC');
      assert.deepEqual(records(entries, VM, 'notification-callback'), []);
    });

    it('vCPU offline/online: the NPI goes to the first online vCPU; with none online it is latched until the next SRI', async () => {
      const actor = [
        awaitProbe(VM),
        vcpuLifecycle('vcpu-offline', VM, 0),
        opteeSend(VM_ID, 2),
        awaitBottomHalf(VM),
        vcpuLifecycle('vcpu-offline', VM, 1),
        opteeSend(VM_ID, 3),
        wait(200_000_000),
        vcpuLifecycle('vcpu-online', VM, 1),
        wait(200_000_000),
        opteeSend(VM_ID, 1),
        awaitBottomHalf(VM),
      ];
      const entries = await runGuestWorld({ hypervisor: 'xen', spmcProfile: 'optee', guests: [guest('linux-6.10')], actor }, runtime);
      const states = records(entries, VM, 'vcpu-state').map((s) => [s['vcpu'], s['online']]);
      assert.deepEqual(states, [
        [0, true],
        [1, true],
        [0, false],
        [1, false],
        [1, true],
      ]);
      // First send: vCPU 0 offline, so the NPI goes to vCPU 1 and everything runs there.
      // Second send: no vCPU online: Xen latches it; vCPU 1 coming back does not re-inject (Xen).
      // Third send: the SRI names the VM again; the NPI to vCPU 1; one GET returns the bit.
      assert.deepEqual(records(entries, HYPERVISOR, 'npi-inject').map((r) => r['vcpu']), [1, 1]);
      assert.equal(records(entries, HYPERVISOR, 'npi-latched').length, 1);
      assert.deepEqual(virtualDeliveries(entries, VM_ID, 8).map((d) => d['vcpu']), [1, 1]);
      assert.deepEqual(records(entries, VM, 'notification-get').map((g) => [g['vcpu'], g['sp']]), [
        [1, '0x1'],
        [1, '0x1'],
      ]);
      assert.deepEqual(records(entries, VM, 'optee-bottom-half').map((b) => b['vcpu']), [1, 1]);
      // Nothing reached the guest while both vCPUs were offline.
      const offline = recordsWithSeq(entries, VM, 'vcpu-state').find((s) => s.data['vcpu'] === 1 && s.data['online'] === false)?.seq ?? 0;
      const backOnline = recordsWithSeq(entries, VM, 'vcpu-state').find((s) => s.data['vcpu'] === 1 && s.data['online'] === true && s.seq > offline)?.seq ?? 0;
      const handled = recordsWithSeq(entries, VM, 'irq-handled').map((h) => h.seq);
      assert.ok(handled.every((seq) => seq < offline || seq > backOnline));
    });

    it('two VMs, one driver each: each gets its own notification on its own vCPU, and nothing of the other\'s', async () => {
      const vm2: GuestSpec = { ...guest('linux-6.10'), name: 'vm2', vmId: 2, pcpus: [2, 3] };
      const actor = [awaitProbe(VM), awaitProbe('vm2'), opteeSend(2, 3), awaitBottomHalf('vm2'), opteeSend(VM_ID, 0), awaitBottomHalf(VM)];
      const entries = await runGuestWorld({ hypervisor: 'xen', spmcProfile: 'optee', guests: [guest('linux-6.10'), vm2], actor }, runtime);
      for (const [name, id] of [
        [VM, VM_ID],
        ['vm2', 2],
      ] as const) {
        assert.deepEqual(records(entries, name, 'probe-call').find((c) => c['abi'] === 'FFA_ID_GET')?.['value'], id);
        assert.deepEqual(virtualDeliveries(entries, id, 8).map((d) => [d['vcpu'], d['to']]), [[0, name]]);
        assert.deepEqual(records(entries, name, 'notification-get').map((g) => g['sp']), ['0x1']);
        assert.deepEqual(records(entries, name, 'optee-bottom-half'), [{ event: 'optee-bottom-half', id: 0, vcpu: 0 }]);
        assert.deepEqual(records(entries, name, 'irq-unhandled'), []);
      }
    });

    it('vm-rebooted: the kernel boots again at the next vcpu-online, probes afresh and gets notifications again', async () => {
      const reboot = { do: 'control', label: 'reboot vm1', to: HYPERVISOR, op: 'vm-reboot', data: { name: VM }, awaitOp: 'vm-reboot-result' } as const;
      const actor = [awaitProbe(VM), reboot, awaitProbe(VM), opteeSend(VM_ID, 1), awaitBottomHalf(VM)];
      const entries = await runGuestWorld({ hypervisor: 'xen', spmcProfile: 'optee', guests: [guest('linux-6.10')], actor }, runtime);
      assert.equal(records(entries, VM, 'guest-rebooted').length, 1);
      const probes = records(entries, VM, 'probe-call').filter((c) => c['abi'] === 'FFA_VERSION');
      assert.equal(probes.length, 2, 'ffa_init ran once per boot');
      assert.deepEqual(records(entries, VM, 'optee-async-notif'), [
        { event: 'optee-async-notif', id: 0 },
        { event: 'optee-async-notif', id: 0 },
      ]);
      assert.deepEqual(records(entries, VM, 'optee-bottom-half'), [{ event: 'optee-bottom-half', id: 0, vcpu: 0 }]);
    });
  });
}
