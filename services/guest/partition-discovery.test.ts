/**
 * Today's partition discovery (driver.c ffa_partition_probe, docs/ffa-reference.md §4.1 step 7): when
 * FFA_FEATURES offers FFA_PARTITION_INFO_GET_REGS, the driver uses it, count first, then the
 * descriptors in x3..x17 (no RX buffer, no RX_RELEASE); the OP-TEE device it finds is where the
 * OP-TEE client binds.
 * - under Xen, the hypervisor answers it from its cached SP list (docs/ffa-reference.md §5.4, §5.6);
 * - bare metal, the Hafnium-like SPMC answers it from its partition table (Hafnium
 *   api_ffa_partition_info_get_regs), with the descriptors carried back through the SPMD's
 *   x8..x17 (both sides at v1.2, docs/ffa-reference.md §6);
 * - an SPMC that offers it in FFA_FEATURES but does not dispatch it: the driver finds no
 *   partition and ffa_init fails, as driver.c would ("failed to setup partitions");
 * - a driver from before FFA_PARTITION_INFO_GET_REGS (policy partitionInfoRegs 'never') uses the
 *   RX buffer under Xen.
 * Every test runs under both runtimes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { awaitProbe, HOST, NOTIFIER_SP_ID, probeSequence, records, runGuestWorld, type GuestWorld } from './test-support/world.ts';

const REGS_PATH = [
  'FFA_FEATURES(FFA_PARTITION_INFO_GET_REGS) → SUCCESS',
  'FFA_PARTITION_INFO_GET_REGS(start=0) → SUCCESS',
  'FFA_PARTITION_INFO_GET_REGS(start=0) → SUCCESS',
];

function assertRegsDiscovery(entries: Parameters<typeof records>[0], guest: string, ownId: number, ids: number[] = [0x8001]): void {
  assert.deepEqual(probeSequence(entries, guest).slice(-REGS_PATH.length), REGS_PATH);
  assert.ok(!probeSequence(entries, guest).some((line) => line.startsWith('FFA_PARTITION_INFO_GET(') || line.startsWith('FFA_RX_RELEASE')), 'no RX buffer path');
  assert.deepEqual(records(entries, guest, 'partitions'), [{ event: 'partitions', ids, host: ownId, hostCallback: true }]);
  assert.deepEqual(records(entries, guest, 'partition-list-mismatch'), [], 'the descriptors came in registers, not from the configured list');
  assert.deepEqual(records(entries, guest, 'done').map((d) => d['outcome']), ['ready']);
  // The OP-TEE client looks its device up by UUID (optee_ffa_device_id): the UUID came in x4/x5.
  assert.deepEqual(records(entries, guest, 'optee-client').map((r) => r['result']), ['initialized']);
  assert.deepEqual(records(entries, guest, 'optee-async-notif'), [{ event: 'optee-async-notif', id: 0 }]);
}

for (const runtime of RUNTIMES) {
  describe(`partition discovery with FFA_PARTITION_INFO_GET_REGS (${runtime})`, () => {
    it('linux-6.10 in a guest under Xen: answered from the hypervisor\'s cached SP list', async () => {
      const world: GuestWorld = {
        hypervisor: 'xen',
        spmcProfile: 'optee',
        guests: [{ name: 'vm1', vmId: 1, variant: 'linux-6.10', vcpus: 2, opteeClient: true }],
        actor: [awaitProbe('vm1')],
      };
      assertRegsDiscovery(await runGuestWorld(world, runtime), 'vm1', 1);
    });

    it('linux-6.10 in a guest under Xen with two SPs, against a Hafnium-like SPMC', async () => {
      const world: GuestWorld = {
        hypervisor: 'xen',
        spmcProfile: 'hafnium',
        notifierSp: true,
        guests: [{ name: 'vm1', vmId: 1, variant: 'linux-6.10', vcpus: 2, opteeClient: true }],
        actor: [awaitProbe('vm1')],
      };
      assertRegsDiscovery(await runGuestWorld(world, runtime), 'vm1', 1, [0x8001, NOTIFIER_SP_ID]);
    });

    it('linux-6.10 as the bare-metal host at a Hafnium-like SPMC', async () => {
      const world: GuestWorld = {
        hypervisor: 'none',
        spmcProfile: 'hafnium',
        notifierSp: true,
        guests: [{ name: HOST, variant: 'linux-6.10', vcpus: 4, opteeClient: true }],
        actor: [awaitProbe(HOST)],
      };
      assertRegsDiscovery(await runGuestWorld(world, runtime), HOST, 0, [0x8001, NOTIFIER_SP_ID]);
    });

    it('an SPMC that offers it but does not dispatch it: no partition found, ffa_init fails as driver.c would', async () => {
      const world: GuestWorld = {
        hypervisor: 'none',
        spmcProfile: 'hafnium',
        spmcPolicies: { partitionInfoGetRegs: 'not-dispatched' },
        guests: [{ name: HOST, variant: 'linux-6.10', vcpus: 4, opteeClient: true }],
        actor: [awaitProbe(HOST)],
      };
      const entries = await runGuestWorld(world, runtime);
      assert.deepEqual(probeSequence(entries, HOST).slice(-3), [
        'FFA_FEATURES(FFA_PARTITION_INFO_GET_REGS) → SUCCESS',
        'FFA_PARTITION_INFO_GET_REGS(start=0) → NOT_SUPPORTED',
        // ffa_notifications_cleanup: the host's own bitmap goes again.
        'FFA_NOTIFICATION_BITMAP_DESTROY(vm=0) → SUCCESS',
      ]);
      const logs = records(entries, HOST, 'driver-log').map((line) => line['text']);
      assert.ok(logs.includes('ARM FF-A: ffa_setup_partitions: No partitions found, error -95'), 'count = -EOPNOTSUPP');
      assert.ok(logs.includes('ARM FF-A: failed to setup partitions'));
      assert.deepEqual(records(entries, HOST, 'partitions'), []);
      assert.deepEqual(records(entries, HOST, 'probe-failed').map((r) => r['why']), ['ffa_setup_partitions -22']);
      assert.deepEqual(records(entries, HOST, 'done').map((d) => d['outcome']), ['failed']);
    });

    it('a driver from before it (partitionInfoRegs \'never\') under Xen: the RX buffer path', async () => {
      const world: GuestWorld = {
        hypervisor: 'xen',
        spmcProfile: 'optee',
        guests: [{ name: 'vm1', vmId: 1, variant: 'linux-6.10', vcpus: 2, opteeClient: true, policies: { partitionInfoRegs: 'never' } }],
        actor: [awaitProbe('vm1')],
      };
      const entries = await runGuestWorld(world, runtime);
      assert.deepEqual(probeSequence(entries, 'vm1').slice(-3), ['FFA_PARTITION_INFO_GET(count-only) → SUCCESS', 'FFA_PARTITION_INFO_GET → SUCCESS', 'FFA_RX_RELEASE → SUCCESS']);
      assert.ok(!probeSequence(entries, 'vm1').some((line) => line.includes('PARTITION_INFO_GET_REGS')), 'FEATURES(REGS) is not even asked');
      assert.deepEqual(records(entries, 'vm1', 'partitions'), [{ event: 'partitions', ids: [0x8001], host: 1, hostCallback: true }]);
      assert.deepEqual(records(entries, 'vm1', 'done').map((d) => d['outcome']), ['ready']);
    });
  });
}
