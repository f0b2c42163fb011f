/**
 * no-leak: a clean run holds; hand-made histories where a guest learns another VM's
 * notifications (its own GET for another receiver, or a hypervisor forwarding another VM's GET),
 * another VM's virtual interrupt, a physical interrupt, or another VM's ID from INFO_GET.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ffaError } from '../../../shared/ffa/errors.ts';
import { notificationGet, notificationInfoGet64 } from '../../../shared/ffa/notifications.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import { HistoryBuilder, syntheticModel } from './test-support/synthetic.ts';
import { check, runUnderSim, xenSends } from './test-support/worlds.ts';

const get = (receiver: number, vcpu = 0): RegisterFile => notificationGet.encodeCall({ receiver, vcpu, flags: 0xf });
const getSecure = (receiver: number): RegisterFile => notificationGet.encodeCall({ receiver, vcpu: 0, flags: 0x5 });
const bits = (spBitmap: bigint): RegisterFile => notificationGet.success?.encode({ spBitmap }) ?? [];
const model = syntheticModel();

describe('no-leak', () => {
  it('holds on a clean run', async () => {
    const { entries, model: world } = await runUnderSim(xenSends(1));
    const result = check(entries, world, 'no-leak');
    assert.equal(result.held, true, result.detail);
  });

  it('fails when a guest gets bits from a GET for another receiver', () => {
    const h = new HistoryBuilder();
    h.roundTrip('vm1', 'hypervisor', get(2), bits(1n), { endpoint: 1 });
    h.roundTrip('vm1', 'hypervisor', get(2), ffaError('INVALID_PARAMETERS'), { endpoint: 1 }); // refused: no leak
    const result = check(h.entries, model, 'no-leak');
    assert.equal(result.held, false);
    assert.deepEqual(result.failures.map((f) => [f.message, f.endpoints]), [['vm1 (ID 1) got a GET answer with notifications of vm2', ['vm1', 'vm2']]]);
  });

  it('fails when the hypervisor serves a guest\'s GET with another VM\'s bits', () => {
    const h = new HistoryBuilder();
    const guestCall = h.call('vm1', 'hypervisor', get(1), { endpoint: 1 });
    const forwarded = h.call('hypervisor', 'spmd', getSecure(2), { conduit: 'smc' });
    const atSpmc = h.call('spmd', 'spmc', getSecure(2), { conduit: 'smc' });
    h.answer('spmc', 'spmd', atSpmc, bits(4n));
    h.answer('spmd', 'hypervisor', forwarded, bits(4n));
    h.answer('hypervisor', 'vm1', guestCall, bits(4n));
    const result = check(h.entries, model, 'no-leak');
    assert.equal(result.held, false);
    assert.equal(result.failures[0]?.message, 'vm1 (ID 1) got a GET answer with notifications of vm2');
    assert.equal(result.failures[0]?.events.length, 4, 'the guest\'s call, the SPMC\'s GET and answer, and the delivery');
  });

  it('fails on another VM\'s virtual interrupt, and on a physical one under a hypervisor', () => {
    const h = new HistoryBuilder();
    h.irq('gic', 'vm1', { op: 'deliver', intid: 8, group: 'nonsecure', cpu: -1, vm: 1, vcpu: 0 }); // its own
    h.irq('gic', 'vm1', { op: 'deliver', intid: 8, group: 'nonsecure', cpu: -1, vm: 2, vcpu: 1 });
    h.irq('gic', 'vm2', { op: 'deliver', intid: 8, group: 'nonsecure', cpu: 3, vm: -1, vcpu: -1 });
    const result = check(h.entries, model, 'no-leak');
    assert.deepEqual(result.failures.map((f) => f.message), ['vm1 (ID 1) got virtual INTID 8 of vm2', 'vm2 (a VM) got physical INTID 8 on CPU 3']);
  });

  it('fails when INFO_GET tells a guest another VM\'s ID; the bare-metal host may see every ID', () => {
    const info = notificationInfoGet64.success?.encode({ morePending: false, lists: [{ id: 1, vcpus: [] }, { id: 2, vcpus: [] }, { id: 0x8001, vcpus: [] }] }) ?? [];
    const h = new HistoryBuilder();
    h.roundTrip('vm1', 'hypervisor', notificationInfoGet64.encodeCall({}), info, { endpoint: 1 });
    const result = check(h.entries, model, 'no-leak');
    assert.deepEqual(result.failures.map((f) => f.message), ['vm1 (ID 1) got an INFO_GET answer listing vm2']);
    const bareMetal = syntheticModel({ hypervisor: null, hypervisorProfile: 'none', guests: [{ component: 'vm1', vmId: 0, vcpus: 2, driver: 'linux-6.10' }] });
    assert.equal(check(h.entries, bareMetal, 'no-leak').held, true);
  });
});
