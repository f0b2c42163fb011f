/**
 * Virtual interrupts through the runtime, under both runtimes: held while the vCPU is offline and
 * delivered when it comes online, delivered wherever the vCPU runs, list registers bounded with a
 * bounded overflow queue, and a destroyed VM's state dropped. The hypervisor injects and reports
 * placement; the guest (vm1, VM ID 2) receives its own vCPUs' interrupts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { gicConfig, VM1_ID } from './test-support/configs.ts';
import { ackAndEnd, awaitRefusal, awaitSignal, awaitVirtual, handleVirtual, lifecycle, send, signal, sync, virtual } from './test-support/frames.ts';
import { deliveries, lifeOf, protocolErrors, recordsWhere } from './test-support/history.ts';
import { runGicWorld } from './test-support/run.ts';

/** Xen's NPI: virtual SGI 8 (docs/ffa-reference.md §3.7, GUEST_FFA_NOTIF_PEND_INTR_ID). */
const NPI = 8;
const vm = VM1_ID;

/** The guest subscribes to every vCPU of its VM, then tells the hypervisor. */
const guestSubscribes = [send(virtual('subscribe', 0, vm, -1)), sync, signal('hypervisor', 'subscribed')];

for (const runtime of RUNTIMES) {
  describe(`gic virtual interrupts (${runtime})`, () => {
    it('holds a virtual interrupt for an offline vCPU and delivers it when the vCPU comes online', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            vm1: { autoAck: true, autoEoi: true, steps: [...guestSubscribes, awaitVirtual(NPI, vm, 0), sync] },
            hypervisor: {
              steps: [
                awaitSignal('subscribed'),
                send(virtual('raise', NPI, vm, 0)), // vCPU 0 never ran: offline
                send(virtual('raise', NPI, vm, 0)),
                sync,
                send(lifecycle('vcpu-online', vm, 0, 1)),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(lifeOf(entries, { intid: NPI, vm, vcpu: 0 }), [
        'raise:pending',
        'hold(vcpu-offline)',
        'merge:pending',
        'release(vcpu-online)',
        'deliver>vm1',
        'ack:active',
        'eoi:inactive',
      ]);
      assert.equal(recordsWhere(entries, 'gic-deliver', { vm })[0]?.['pcpu'], 1);
      assert.deepEqual(
        deliveries(entries, 'vm1').map((d) => [d.intid, d.cpu, d.vm, d.vcpu]),
        [[NPI, -1, vm, 0]],
      );
    });

    it('keeps an injection that arrives before the guest\'s acknowledge and delivers it again after EOI (the NPI race)', async () => {
      // The guest took the NPI (its ack still on its way) and the hypervisor injects again: the
      // edge may have come after the guest read IAR, so it is kept (interrupt-state.ts).
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            vm1: {
              steps: [
                ...guestSubscribes,
                awaitVirtual(NPI, vm, 0),
                signal('hypervisor', 'delivered'),
                awaitSignal('injected-again'),
                ...ackAndEnd(virtual('ack', NPI, vm, 0), virtual('eoi', NPI, vm, 0)),
                ...handleVirtual(NPI, vm, 0),
                sync,
              ],
            },
            hypervisor: {
              steps: [
                awaitSignal('subscribed'),
                send(lifecycle('vcpu-online', vm, 0, 0)),
                send(virtual('raise', NPI, vm, 0)),
                awaitSignal('delivered'),
                send(virtual('raise', NPI, vm, 0)),
                sync,
                signal('vm1', 'injected-again'),
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(lifeOf(entries, { intid: NPI, vm, vcpu: 0 }), [
        'raise:pending',
        'deliver>vm1',
        'merge:pending',
        'ack:active+pending',
        'eoi:pending',
        'deliver>vm1',
        'ack:active',
        'eoi:inactive',
      ]);
      assert.deepEqual(recordsWhere(entries, 'gic-merge', { vm }).map((m) => m['kept']), [true]);
      assert.equal(deliveries(entries, 'vm1').length, 2);
    });

    it('delivers to the vCPU wherever it runs, and follows it across a move and an offline spell', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            vm1: {
              autoAck: true,
              autoEoi: true,
              steps: [
                ...guestSubscribes,
                awaitVirtual(NPI, vm, 0),
                sync,
                signal('hypervisor', 'got-1'),
                awaitVirtual(NPI, vm, 0),
                sync,
                signal('hypervisor', 'got-2'),
                awaitVirtual(NPI, vm, 1),
                awaitVirtual(NPI, vm, 0),
                sync,
              ],
            },
            hypervisor: {
              steps: [
                awaitSignal('subscribed'),
                send(lifecycle('vcpu-online', vm, 0, 0)),
                send(lifecycle('vcpu-online', vm, 1, 1)),
                send(virtual('raise', NPI, vm, 0)),
                awaitSignal('got-1'),
                send(lifecycle('vcpu-online', vm, 0, 1)), // vCPU 0 moves to CPU 1
                send(virtual('raise', NPI, vm, 0)),
                awaitSignal('got-2'),
                send(lifecycle('vcpu-offline', vm, 0)),
                send(virtual('raise', NPI, vm, 0)), // held
                send(virtual('raise', NPI, vm, 1)), // vCPU 1 is online
                sync,
                send(lifecycle('vcpu-online', vm, 0, 0)),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(
        recordsWhere(entries, 'gic-deliver', { vm, vcpu: 0 }).map((r) => r['pcpu']),
        [0, 1, 0],
      );
      assert.deepEqual(
        recordsWhere(entries, 'gic-deliver', { vm, vcpu: 1 }).map((r) => r['pcpu']),
        [1],
      );
      const life = lifeOf(entries, { intid: NPI, vm, vcpu: 0 });
      assert.deepEqual(life.slice(-6), ['raise:pending', 'hold(vcpu-offline)', 'release(vcpu-online)', 'deliver>vm1', 'ack:active', 'eoi:inactive']);
      assert.deepEqual(
        recordsWhere(entries, 'gic-vcpu-online', { vm, vcpu: 0 }).map((r) => [r['pcpu'], r['previousCpu']]),
        [
          [0, null],
          [1, 0],
          [0, null],
        ],
      );
    });

    it('withdraws an unacknowledged delivery when its vCPU goes offline and delivers it again when it returns', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            vm1: {
              steps: [
                ...guestSubscribes,
                awaitVirtual(NPI, vm, 0),
                awaitSignal('offline'),
                send(virtual('ack', NPI, vm, 0)), // withdrawn: refused
                awaitRefusal('NOT_ALLOWED'),
                sync,
                signal('hypervisor', 'tried'),
                awaitVirtual(NPI, vm, 0),
                send(virtual('ack', NPI, vm, 0)),
                send(virtual('eoi', NPI, vm, 0)),
                sync,
              ],
            },
            hypervisor: {
              steps: [
                awaitSignal('subscribed'),
                send(lifecycle('vcpu-online', vm, 0, 0)),
                send(virtual('raise', NPI, vm, 0)),
                send(lifecycle('vcpu-offline', vm, 0, 0)),
                sync,
                signal('vm1', 'offline'),
                awaitSignal('tried'),
                send(lifecycle('vcpu-online', vm, 0, 1)),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(lifeOf(entries, { intid: NPI, vm, vcpu: 0 }), [
        'raise:pending',
        'deliver>vm1',
        'withdraw(vcpu-offline)',
        'refused(not-delivered)',
        'release(vcpu-online)',
        'deliver>vm1',
        'ack:active',
        'eoi:inactive',
      ]);
    });

    it('bounds the list registers: overflow is queued and recorded, a full queue drops and says so', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig({ listRegisters: 2, heldQueueMax: 1 }),
          actors: {
            vm1: {
              steps: [
                ...guestSubscribes,
                awaitSignal('raised'),
                ...[1, 2, 3].flatMap((intid) => [
                  awaitVirtual(intid, vm, 0),
                  send(virtual('ack', intid, vm, 0)),
                  send(virtual('eoi', intid, vm, 0)),
                ]),
                sync,
              ],
            },
            hypervisor: {
              steps: [
                awaitSignal('subscribed'),
                send(lifecycle('vcpu-online', vm, 0, 0)),
                send(virtual('raise', 1, vm, 0)), // list register 0, delivered
                send(virtual('raise', 2, vm, 0)), // list register 1, waits for 1 (same priority)
                send(virtual('raise', 3, vm, 0)), // no list register free: queued
                send(virtual('raise', 3, vm, 0)), // merges into the queued one
                send(virtual('raise', 4, vm, 0)), // queue full: dropped
                awaitRefusal('QUEUE_FULL'),
                sync,
                signal('vm1', 'raised'),
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(
        deliveries(entries, 'vm1').map((d) => d.intid),
        [1, 2, 3],
      );
      assert.deepEqual(lifeOf(entries, { intid: 3, vm, vcpu: 0 }), [
        'raise:pending',
        'hold(list-registers-full)',
        'merge:queued',
        'release(list-register-free)',
        'deliver>vm1',
        'ack:active',
        'eoi:inactive',
      ]);
      assert.deepEqual(lifeOf(entries, { intid: 4, vm, vcpu: 0 }), ['drop(held-queue-full)']);
      assert.equal(recordsWhere(entries, 'gic-deliver', { intid: 3 })[0]?.['merges'], 1);
      assert.equal(protocolErrors(entries, 'hypervisor').length, 1);
    });

    it('drops a destroyed VM\'s interrupts: nothing is delivered when a vCPU of the new VM comes online', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            vm1: { steps: [...guestSubscribes, awaitSignal('done')] },
            hypervisor: {
              steps: [
                awaitSignal('subscribed'),
                send(virtual('raise', NPI, vm, 0)),
                send(virtual('raise', 9, vm, 1)),
                send(lifecycle('vm-destroyed', vm)),
                send(lifecycle('vcpu-online', vm, 0, 0)),
                send(lifecycle('vcpu-online', vm, 1, 0)),
                sync,
                signal('vm1', 'done'),
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(
        recordsWhere(entries, 'gic-vm-destroyed', { vm }).map((r) => r['dropped']),
        [2],
      );
      assert.deepEqual(recordsWhere(entries, 'gic-release', { vm }), []);
      assert.deepEqual(deliveries(entries, 'vm1'), []);
    });
  });
}
