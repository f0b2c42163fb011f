/**
 * Today's partition discovery (driver.c ffa_partition_probe, reference §4.1 step 7): when
 * FFA_FEATURES offers FFA_PARTITION_INFO_GET_REGS, the driver uses it, count first, then the
 * descriptors in x3..x17 (no RX buffer, no RX_RELEASE); the OP-TEE device it finds is where the
 * OP-TEE client binds.
 *
 * Both firmware components that offer it here do not implement it yet: the hypervisor (Xen
 * answers it from its SP list, reference §5.4, §5.6) and the SPMC's Hafnium-like profile
 * (Hafnium api_ffa_partition_info_get_regs). Against them today's driver finds no partition and
 * ffa_init fails. These tests say what must hold and are marked todo until those components
 * answer the call; the other tests use the RX-buffer path (XEN_GUEST_POLICIES).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { awaitProbe, HOST, probeSequence, records, runGuestWorld, type GuestWorld } from './test-support/world.ts';

const REGS_PATH = [
  'FFA_FEATURES(FFA_PARTITION_INFO_GET_REGS) → SUCCESS',
  'FFA_PARTITION_INFO_GET_REGS(start=0) → SUCCESS',
  'FFA_PARTITION_INFO_GET_REGS(start=0) → SUCCESS',
];

const TODO = 'the hypervisor and the Hafnium-like SPMC offer FFA_PARTITION_INFO_GET_REGS in FFA_FEATURES but answer the call NOT_SUPPORTED';

function assertRegsDiscovery(entries: Parameters<typeof records>[0], guest: string, ownId: number): void {
  assert.deepEqual(probeSequence(entries, guest).slice(-REGS_PATH.length), REGS_PATH);
  assert.deepEqual(records(entries, guest, 'partitions'), [{ event: 'partitions', ids: [0x8001], host: ownId, hostCallback: true }]);
  assert.deepEqual(records(entries, guest, 'done').map((d) => d['outcome']), ['ready']);
  assert.deepEqual(records(entries, guest, 'optee-async-notif'), [{ event: 'optee-async-notif', id: 0 }]);
}

for (const runtime of RUNTIMES) {
  describe(`partition discovery with FFA_PARTITION_INFO_GET_REGS (${runtime})`, () => {
    it('linux-6.10 in a guest under Xen', { todo: TODO }, async () => {
      const world: GuestWorld = {
        hypervisor: 'xen',
        spmcProfile: 'optee',
        guests: [{ name: 'vm1', vmId: 1, variant: 'linux-6.10', vcpus: 2, opteeClient: true }],
        actor: [awaitProbe('vm1')],
      };
      assertRegsDiscovery(await runGuestWorld(world, runtime), 'vm1', 1);
    });

    it('linux-6.10 as the bare-metal host at a Hafnium-like SPMC', { todo: TODO }, async () => {
      const world: GuestWorld = {
        hypervisor: 'none',
        spmcProfile: 'hafnium',
        guests: [{ name: HOST, variant: 'linux-6.10', vcpus: 4, opteeClient: true }],
        actor: [awaitProbe(HOST)],
      };
      assertRegsDiscovery(await runGuestWorld(world, runtime), HOST, 0);
    });
  });
}
