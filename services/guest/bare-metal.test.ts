/**
 * The bare-metal host (hypervisor none): the kernel is the NS physical instance, FF-A ID 0, and
 * calls the TF-A-like SPMD with SMCs; the SPMC is OP-TEE-like without NS-virtualization (one
 * bitmap, for VM 0). Each variant's probe is compared, call by call, with docs/ffa-reference.md §4.1-§4.3
 * (today's ffa_init) and §4.6 (the 2024 variants); linux-6.10 creates its own bitmap and gets
 * OP-TEE's notification through the SRI path (INFO_GET → its own ID → GET on that CPU →
 * callback → OP-TEE's bottom half); a CPU that is offline takes its SRI when it comes back.
 * Every test runs under both runtimes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import {
  awaitBottomHalf,
  awaitProbe,
  GIC,
  guestControl,
  HOST,
  opteeSend,
  probeSequence,
  records,
  runGuestWorld,
  wait,
  type GuestWorld,
} from './test-support/world.ts';

const CPUS = 4;

/**
 * §4.1 steps 1-5 at TF-A + OP-TEE (FEATURES answered by OP-TEE's handle_features table):
 * DIRECT_REQ2 is offered once the normal world negotiated v1.2, so RESP2 is not asked (C's ||).
 */
const FFA_INIT_HEAD = [
  'FFA_VERSION(1.2) → 1.2',
  'FFA_ID_GET → SUCCESS',
  'FFA_FEATURES(FFA_RXTX_MAP_64) → SUCCESS',
  'FFA_RXTX_MAP_64(pages=1) → SUCCESS',
  'FFA_FEATURES(FFA_MEM_LEND_64) → NOT_SUPPORTED',
  'FFA_FEATURES(FFA_MEM_SHARE_64) → SUCCESS',
  'FFA_FEATURES(FFA_MSG_SEND_DIRECT_REQ2) → SUCCESS',
];

/** §4.2 at the NS physical instance: OP-TEE supports BITMAP_CREATE, so the host creates its bitmap. */
const BITMAP = ['FFA_FEATURES(FFA_NOTIFICATION_BITMAP_CREATE) → SUCCESS', `FFA_NOTIFICATION_BITMAP_CREATE(vm=0,vcpus=${CPUS}) → SUCCESS`];

/** §4.1 step 7: OP-TEE has no PARTITION_INFO_GET_REGS, so the RX buffer path (count, then the descriptors, then release). */
const PARTITIONS = [
  'FFA_FEATURES(FFA_PARTITION_INFO_GET_REGS) → NOT_SUPPORTED',
  'FFA_PARTITION_INFO_GET(count-only) → SUCCESS',
  'FFA_PARTITION_INFO_GET → SUCCESS',
  'FFA_RX_RELEASE → SUCCESS',
];

function bareMetal(variant: GuestWorld['guests'][number]['variant'], actor: GuestWorld['actor'], opteeClient = true): GuestWorld {
  return { hypervisor: 'none', spmcProfile: 'optee', cpus: CPUS, guests: [{ name: HOST, variant, vcpus: CPUS, opteeClient }], actor };
}

for (const runtime of RUNTIMES) {
  describe(`bare-metal host (${runtime})`, () => {
    it('linux-6.10: probes as §4.1-§4.3, creates its own bitmap (vm 0), and takes an OP-TEE notification through the SRI path', async () => {
      const entries = await runGuestWorld(bareMetal('linux-6.10', [awaitProbe(HOST), opteeSend(0, 2), awaitBottomHalf(HOST)]), runtime);
      assert.deepEqual(probeSequence(entries, HOST), [
        ...FFA_INIT_HEAD,
        ...BITMAP,
        // §4.2: both interrupts are asked for; OP-TEE offers only the SRI (SGI 8 on QEMU).
        'FFA_FEATURES(SRI) → SUCCESS',
        'FFA_FEATURES(NPI) → NOT_SUPPORTED',
        ...PARTITIONS,
      ]);
      assert.deepEqual(records(entries, HOST, 'notifications-enabled'), [{ event: 'notifications-enabled', sri: 8, npi: null, bitmapCreated: true }]);
      assert.deepEqual(records(entries, HOST, 'partitions'), [{ event: 'partitions', ids: [0x8001], host: 0, hostCallback: true }]);

      // The SPMC raised the SRI on CPU 2; the host's SRI handler ran there: INFO_GET named ID 0
      // (itself), so ffa_self_notif_handle made GET (SP|SPM, vm_id 0) on that CPU.
      assert.deepEqual(records(entries, HOST, 'irq-handled'), [{ event: 'irq-handled', intid: 8, kind: 'sri', vcpu: 2 }]);
      const infoGets = records(entries, HOST, 'info-get');
      assert.equal(infoGets[0]?.['result'], 'SUCCESS');
      assert.deepEqual(infoGets[0]?.['lists'], [{ id: 0, vcpus: [] }]);
      const gets = records(entries, HOST, 'notification-get');
      assert.equal(gets.length, 1);
      assert.deepEqual({ vcpu: gets[0]?.['vcpu'], sp: gets[0]?.['sp'] }, { vcpu: 2, sp: '0x1' });
      assert.deepEqual(records(entries, HOST, 'notification-callback'), [{ event: 'notification-callback', id: 0, type: 'sp', vcpu: 2, sender: 0x8001 }]);
      assert.deepEqual(records(entries, HOST, 'optee-bottom-half'), [{ event: 'optee-bottom-half', id: 0, vcpu: 2 }]);
      // The GET went to the SPMD as FFA_NOTIFICATION_GET(w1 = 2 << 16 | 0, w2 = SP|SPM).
      assert.deepEqual(records(entries, HOST, 'irq-unhandled'), []);
    });

    it('linux-6.9: BITMAP_CREATE is supported here, so setup completes with the SRI only (no NPI is asked for)', async () => {
      const entries = await runGuestWorld(bareMetal('linux-6.9', [awaitProbe(HOST), opteeSend(0, 1), awaitBottomHalf(HOST)]), runtime);
      assert.deepEqual(probeSequence(entries, HOST), [...FFA_INIT_HEAD, ...BITMAP, 'FFA_FEATURES(SRI) → SUCCESS', ...PARTITIONS]);
      assert.deepEqual(records(entries, HOST, 'notifications-enabled'), [{ event: 'notifications-enabled', sri: 8, npi: null, bitmapCreated: true }]);
      assert.deepEqual(records(entries, HOST, 'optee-bottom-half'), [{ event: 'optee-bottom-half', id: 0, vcpu: 1 }]);
    });

    it('linux-v1-patch: the SRI is offered, so it is the one interrupt mapped and FEATURES(NPI) is never asked', async () => {
      const entries = await runGuestWorld(bareMetal('linux-v1-patch', [awaitProbe(HOST), opteeSend(0, 3), awaitBottomHalf(HOST)]), runtime);
      assert.deepEqual(probeSequence(entries, HOST), [...FFA_INIT_HEAD, ...BITMAP, 'FFA_FEATURES(SRI) → SUCCESS', ...PARTITIONS]);
      assert.deepEqual(records(entries, HOST, 'notifications-enabled'), [{ event: 'notifications-enabled', sri: 8, npi: null, bitmapCreated: true }]);
      assert.deepEqual(records(entries, HOST, 'optee-bottom-half'), [{ event: 'optee-bottom-half', id: 0, vcpu: 3 }]);
    });

    it('raw: no call at probe; the scenario makes every call and sees each result', async () => {
      const actor = [
        awaitProbe(HOST),
        guestControl(HOST, 'call', { abi: 'FFA_VERSION', args: { version: 0x1_0002 }, label: 'version' }),
        guestControl(HOST, 'call', { abi: 'FFA_ID_GET', vcpu: 1, label: 'id' }),
        guestControl(HOST, 'call', { abi: 'FFA_NOTIFICATION_INFO_GET_64', label: 'info-get' }),
      ];
      const entries = await runGuestWorld(bareMetal('raw', actor, false), runtime);
      assert.deepEqual(probeSequence(entries, HOST), []);
      assert.deepEqual(records(entries, HOST, 'done'), [{ event: 'done', outcome: 'raw', vcpu: 0 }]);
      const results = records(entries, HOST, 'raw-result').map((r) => [r['label'], r['vcpu'], r['result']]);
      assert.deepEqual(results, [
        ['version', 0, '0x10002'],
        ['id', 1, 'SUCCESS'],
        ['info-get', 0, 'NO_DATA'],
      ]);
      assert.deepEqual(records(entries, HOST, 'notifications-enabled'), []);
    });

    it('CPU hotplug: an SRI raised on an offline CPU waits at the GIC and is handled on that CPU once it is back', async () => {
      const actor = [
        awaitProbe(HOST),
        guestControl(HOST, 'vcpu-offline', { vcpu: 1 }),
        opteeSend(0, 1),
        wait(200_000_000),
        guestControl(HOST, 'vcpu-online', { vcpu: 1 }),
        awaitBottomHalf(HOST),
      ];
      const entries = await runGuestWorld(bareMetal('linux-6.10', actor), runtime);
      const states = records(entries, HOST, 'vcpu-state').filter((r) => r['vcpu'] === 1);
      assert.deepEqual(states.map((r) => r['online']), [true, false, true]);
      // At the GIC (its own order is causal under ws too): CPU 1's interface off, the SRI raised
      // there and held, the interface back on, then the one delivery.
      const atGic = entries.flatMap((entry) => {
        const event = entry.event;
        if (event.type !== 'record' || event.component !== GIC) return [];
        const { data } = event;
        if ((data['event'] === 'gic-subscribe' || data['event'] === 'gic-unsubscribe') && data['cpu'] === 1) return [String(data['event'])];
        if ((data['event'] === 'gic-raise' || data['event'] === 'gic-deliver') && data['intid'] === 8 && data['cpu'] === 1) return [String(data['event'])];
        return [];
      });
      assert.deepEqual(atGic, ['gic-unsubscribe', 'gic-raise', 'gic-subscribe', 'gic-deliver']);
      assert.deepEqual(records(entries, HOST, 'optee-bottom-half'), [{ event: 'optee-bottom-half', id: 0, vcpu: 1 }]);
    });
  });
}
