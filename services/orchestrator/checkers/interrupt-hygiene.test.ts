/**
 * interrupt-hygiene: a clean run holds; a dropped SRI delivery (never acknowledged), a dropped
 * EOI (acknowledged, never ended) and an INFO_GET loop against a non-destructive SPMC that always
 * says "more pending" (docs/ffa-reference.md §3.5) each fail; withdrawn interrupts and a destroyed VM's are
 * excused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FaultRule } from '../../../shared/runtime/interceptor.ts';
import { awaitBottomHalf, awaitProbe, configureAtGic, guestControl, HOST, NOTIFIER_SP_ID, notifierSet, opteeSend, wait, type GuestWorld } from '../../guest/test-support/world.ts';
import { HistoryBuilder, syntheticModel } from './test-support/synthetic.ts';
import { AWAIT_NS, check, runUnderSim, xenSends, xenWorld } from './test-support/worlds.ts';

const drop = (id: string, match: FaultRule['match']): FaultRule => ({ id, match, then: { action: 'drop' }, count: 1 });
const oneSend = xenWorld([awaitProbe('dom0'), awaitProbe('vm1'), opteeSend(1, 0), awaitBottomHalf('dom0', AWAIT_NS)]);

/** The bare-metal host over a Hafnium-like SPMC that never clears INFO_GET's report (services/guest/info-get.test.ts). */
function endlessInfoGet(): GuestWorld {
  const vms = [1, 2];
  return {
    hypervisor: 'none',
    spmcProfile: 'hafnium',
    spmcPolicies: { infoGetDestructiveness: 'none', infoGetMorePending: 'pending-not-retrieved' },
    notifierSp: true,
    actorAtGic: true,
    guests: [{ name: HOST, variant: 'linux-6.10', vcpus: 4, policies: { infoGetLoopBound: 5 } }],
    actor: [
      awaitProbe(HOST),
      ...vms.flatMap((vm) => [
        guestControl(HOST, 'call', { abi: 'FFA_NOTIFICATION_BITMAP_CREATE', args: { vm, vcpus: 1 }, label: `create ${vm}` }),
        guestControl(HOST, 'call', { abi: 'FFA_NOTIFICATION_BIND', args: { sender: NOTIFIER_SP_ID, receiver: vm, flags: 0, bitmap: 1n }, label: `bind ${vm}` }),
      ]),
      ...configureAtGic(8, false),
      ...vms.map((vm) => notifierSet(vm, 1, 0)),
      ...configureAtGic(8, true),
      wait(100_000_000),
    ],
  };
}

describe('interrupt-hygiene', () => {
  it('holds on a clean run', async () => {
    const { entries, model } = await runUnderSim(xenSends(2));
    const result = check(entries, model, 'interrupt-hygiene');
    assert.equal(result.held, true, result.detail);
    assert.equal(result.detail, '8 interrupt deliveries');
  });

  it('fails when a delivered SRI is never acknowledged (its delivery dropped)', async () => {
    const { entries, model } = await runUnderSim(oneSend, [drop('drop-sri', { kind: 'irq', from: 'gic', to: 'hypervisor', intid: 8, irqOp: 'deliver' })]);
    const result = check(entries, model, 'interrupt-hygiene');
    assert.equal(result.held, false);
    assert.equal(result.failures[0]?.message, 'INTID 8 on CPU 0, delivered to hypervisor, was never acknowledged by the end of the run');
    assert.deepEqual(result.failures[0]?.endpoints, ['gic', 'hypervisor']);
    assert.ok(result.failures[0]?.events.some((e) => e.what.startsWith('fault drop (rule drop-sri)')));
  });

  it('fails when the guest\'s EOI of the NPI is lost', async () => {
    const { entries, model } = await runUnderSim(oneSend, [drop('drop-eoi', { kind: 'irq', from: 'dom0', to: 'gic', irqOp: 'eoi' })]);
    const result = check(entries, model, 'interrupt-hygiene');
    assert.deepEqual(result.failures.map((f) => f.message), ['INTID 8 of VM 1 vCPU 0, delivered to dom0, was acknowledged but never ended (no EOI) by the end of the run']);
  });

  it('fails when a handler loop runs into its bound', async () => {
    const { entries, model } = await runUnderSim(endlessInfoGet());
    const result = check(entries, model, 'interrupt-hygiene');
    // Once per SRI the host took: a raise that reached the GIC before the host's acknowledge is
    // delivered again after its EOI (services/gic/interrupt-state.ts raisedWhileDelivered).
    const messages = new Set(result.failures.map((f) => f.message));
    assert.ok(result.failures.length >= 1);
    assert.deepEqual([...messages], ['host: a handler loop ran into its bound (info-get-loop-bound, 5 iterations)']);
  });

  it('excuses interrupts the GIC withdrew or dropped with their VM (synthetic)', () => {
    const h = new HistoryBuilder();
    h.record('gic', { event: 'gic-deliver', intid: 8, cpu: 1, group: 'nonsecure', from: 'spmc', to: 'hypervisor', merges: 0 });
    h.record('gic', { event: 'gic-withdraw', intid: 8, cpu: 1, reason: 'disabled' });
    h.record('gic', { event: 'gic-deliver', intid: 8, vm: 2, vcpu: 0, pcpu: 0, group: 'nonsecure', from: 'hypervisor', to: 'vm2', merges: 0 });
    h.record('gic', { event: 'gic-ack', intid: 8, vm: 2, vcpu: 0, from: 'vm2' });
    h.record('gic', { event: 'gic-vm-destroyed', vm: 2, dropped: 1, from: 'hypervisor' });
    h.record('gic', { event: 'gic-deliver', intid: 8, vm: 1, vcpu: 1, pcpu: 1, group: 'nonsecure', from: 'hypervisor', to: 'vm1', merges: 0 });
    const result = check(h.entries, syntheticModel(), 'interrupt-hygiene');
    assert.deepEqual(result.failures.map((f) => f.message), ['INTID 8 of VM 1 vCPU 1, delivered to vm1, was never acknowledged by the end of the run']);
  });
});
