/**
 * Physical interrupts through the runtime, under both runtimes: edge semantics (merge, active and
 * pending), the acknowledge/EOI state machine, priority and preemption, enable, groups, banked
 * SGIs, SPI routing and fan-out. Each actor's script orders its own steps; actors order each other
 * with signals, so every assertion holds under ws concurrency too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { gicConfig } from './test-support/configs.ts';
import {
  ackAndEnd,
  awaitPhysical,
  awaitRefusal,
  awaitSignal,
  configure,
  handlePhysical,
  physical,
  send,
  signal,
  sync,
} from './test-support/frames.ts';
import { deliveries, lifeOf, protocolErrors, records, recordsWhere } from './test-support/history.ts';
import { runGicWorld } from './test-support/run.ts';

const subscribeAll = send(physical('subscribe', 0, -1));

for (const runtime of RUNTIMES) {
  describe(`gic physical interrupts (${runtime})`, () => {
    it('merges a raise while pending into it, records each merge, and delivers once', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            hypervisor: {
              steps: [
                subscribeAll,
                send(physical('raise', 1, 0)),
                send(physical('raise', 1, 0)),
                send(physical('raise', 1, 0)),
                awaitPhysical(1, 0),
                sync,
                send(physical('ack', 1, 0)),
                send(physical('eoi', 1, 0)),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(lifeOf(entries, { intid: 1, cpu: 0 }), [
        'raise:pending',
        'deliver>hypervisor',
        'merge:pending',
        'merge:pending',
        'ack:active',
        'eoi:inactive',
      ]);
      const merges = recordsWhere(entries, 'gic-merge', { intid: 1, cpu: 0 });
      assert.deepEqual(
        merges.map((m) => [m['merges'], m['delivered'], m['from']]),
        [
          [1, true, 'hypervisor'],
          [2, true, 'hypervisor'],
        ],
      );
      assert.equal(deliveries(entries, 'hypervisor').length, 1);
    });

    it('keeps a raise while active as active+pending and delivers it again after EOI', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            hypervisor: {
              steps: [
                subscribeAll,
                send(physical('raise', 2, 0)),
                awaitPhysical(2, 0),
                send(physical('ack', 2, 0)),
                send(physical('raise', 2, 0)),
                send(physical('raise', 2, 0)),
                sync,
                send(physical('eoi', 2, 0)),
                awaitPhysical(2, 0),
                send(physical('ack', 2, 0)),
                send(physical('eoi', 2, 0)),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(lifeOf(entries, { intid: 2, cpu: 0 }), [
        'raise:pending',
        'deliver>hypervisor',
        'ack:active',
        'raise:active+pending',
        'merge:active+pending',
        'eoi:pending',
        'deliver>hypervisor',
        'ack:active',
        'eoi:inactive',
      ]);
      assert.equal(deliveries(entries, 'hypervisor').length, 2);
    });

    it('keeps a raise from another component that arrives before the acknowledge, and delivers it again after EOI', async () => {
      // The SRI race of a loaded world: the hypervisor took the SRI (its ack still on its way),
      // and the SPMC raises it again. The GIC cannot tell whether that edge came before or after
      // the acknowledge, so it keeps it (interrupt-state.ts raisedWhileDelivered).
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            hypervisor: {
              steps: [
                subscribeAll,
                sync,
                signal('spmc', 'subscribed'),
                awaitPhysical(8, 0),
                signal('spmc', 'delivered'),
                awaitSignal('raised-again'),
                ...ackAndEnd(physical('ack', 8, 0), physical('eoi', 8, 0)),
                ...handlePhysical(8, 0),
                sync,
              ],
            },
            spmc: {
              steps: [
                awaitSignal('subscribed'),
                send(physical('raise', 8, 0)),
                awaitSignal('delivered'),
                send(physical('raise', 8, 0)),
                sync,
                signal('hypervisor', 'raised-again'),
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(lifeOf(entries, { intid: 8, cpu: 0 }), [
        'raise:pending',
        'deliver>hypervisor',
        'merge:pending',
        'ack:active+pending',
        'eoi:pending',
        'deliver>hypervisor',
        'ack:active',
        'eoi:inactive',
      ]);
      assert.deepEqual(recordsWhere(entries, 'gic-merge', { intid: 8, cpu: 0 }).map((m) => [m['from'], m['delivered'], m['kept']]), [['spmc', true, true]]);
      assert.equal(deliveries(entries, 'hypervisor').length, 2);
    });

    it('refuses an ack of what was not delivered and an EOI of what is not active, and goes on', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            hypervisor: {
              steps: [
                subscribeAll,
                send(physical('ack', 3, 0)), // nothing pending
                awaitRefusal('NOT_ALLOWED'),
                awaitSignal('subscribed'),
                send(physical('raise', 3, 0)),
                awaitPhysical(3, 0),
                send(physical('eoi', 3, 0)), // delivered, not acknowledged yet
                awaitRefusal('NOT_ALLOWED'),
                send(physical('ack', 3, 0)),
                send(physical('ack', 3, 0)), // already active
                awaitRefusal('NOT_ALLOWED'),
                sync,
                signal('monitor', 'acked'),
                awaitSignal('monitor-tried'),
                send(physical('eoi', 3, 0)),
                send(physical('eoi', 3, 0)), // already inactive
                awaitRefusal('NOT_ALLOWED'),
                sync,
              ],
            },
            monitor: {
              steps: [
                send(physical('subscribe', 0, 0)),
                sync,
                signal('hypervisor', 'subscribed'),
                awaitPhysical(3, 0),
                awaitSignal('acked'),
                send(physical('eoi', 3, 0)), // the hypervisor acknowledged it, not the monitor
                awaitRefusal('NOT_ALLOWED'),
                signal('hypervisor', 'monitor-tried'),
              ],
            },
          },
        },
        runtime,
      );
      const life = lifeOf(entries, { intid: 3, cpu: 0 }).filter((step) => !step.startsWith('deliver'));
      assert.deepEqual(life, [
        'refused(not-delivered)',
        'raise:pending',
        'refused(not-active)',
        'ack:active',
        'refused(not-delivered)',
        'refused(not-owner)',
        'eoi:inactive',
        'refused(not-active)',
      ]);
      assert.equal(protocolErrors(entries, 'hypervisor').length, 4);
      assert.match(protocolErrors(entries, 'monitor')[0]?.reason ?? '', /^not-owner/);
    });

    it('delivers a higher priority while a lower one is active (preemption), one per priority level', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig({
            interrupts: [
              { intid: 4, priority: 0x80 },
              { intid: 6, priority: 0xc0 },
              { intid: 7, priority: 0xc0 },
            ],
          }),
          actors: {
            hypervisor: {
              steps: [
                subscribeAll,
                send(physical('raise', 5, 0)), // 0xA0
                awaitPhysical(5, 0),
                send(physical('ack', 5, 0)), // running priority 0xA0
                send(physical('raise', 6, 0)), // 0xC0: held
                send(physical('raise', 7, 0)), // 0xC0: held
                send(physical('raise', 4, 0)), // 0x80: preempts
                awaitPhysical(4, 0),
                send(physical('ack', 4, 0)),
                send(physical('eoi', 4, 0)),
                sync,
                send(physical('eoi', 5, 0)), // idle: 6 is delivered; 7 waits (same priority outstanding)
                awaitPhysical(6, 0),
                sync,
                send(physical('ack', 6, 0)), // running priority 0xC0: 7 still waits
                sync,
                send(physical('eoi', 6, 0)),
                awaitPhysical(7, 0),
                send(physical('ack', 7, 0)),
                send(physical('eoi', 7, 0)),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(
        deliveries(entries, 'hypervisor').map((d) => d.intid),
        [5, 4, 6, 7],
      );
      assert.deepEqual(lifeOf(entries, { intid: 6, cpu: 0 }), ['raise:pending', 'hold(priority)', 'deliver>hypervisor', 'ack:active', 'eoi:inactive']);
      assert.deepEqual(lifeOf(entries, { intid: 7, cpu: 0 }), ['raise:pending', 'hold(priority)', 'deliver>hypervisor', 'ack:active', 'eoi:inactive']);
      const order = records(entries).map((r) => `${r.event}:${String(r['intid'])}`);
      assert.ok(order.indexOf('gic-deliver:4') < order.indexOf('gic-eoi:5'), 'SGI 4 preempted active SGI 5');
      assert.ok(order.indexOf('gic-deliver:7') > order.indexOf('gic-eoi:6'), 'SGI 7 waited for SGI 6 at the same priority');
    });

    it('delivers what became deliverable together in priority order', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig({ interrupts: [{ intid: 3, priority: 0x10 }, { intid: 4, priority: 0x80 }, { intid: 6, priority: 0xc0 }] }),
          actors: {
            hypervisor: {
              steps: [
                subscribeAll,
                send(physical('raise', 3, 0)),
                awaitPhysical(3, 0),
                send(physical('ack', 3, 0)), // running priority 0x10 masks everything below
                send(physical('raise', 6, 0)),
                send(physical('raise', 5, 0)),
                send(physical('raise', 4, 0)),
                sync,
                send(physical('eoi', 3, 0)),
                awaitPhysical(6, 0),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(
        deliveries(entries, 'hypervisor').map((d) => d.intid),
        [3, 4, 5, 6],
      );
    });

    it('holds a disabled interrupt pending and delivers it when enabled; withdraws a delivery on disable', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig({ interrupts: [{ intid: 1, cpu: 0, enabled: false }] }),
          actors: {
            hypervisor: {
              autoAck: false,
              steps: [
                subscribeAll,
                send(physical('raise', 1, 0)), // CPU 0's copy is disabled: held
                send(physical('raise', 1, 1)), // CPU 1's copy is enabled
                awaitPhysical(1, 1),
                send(physical('raise', 1, 0)), // merges into the held edge
                sync,
                send(configure({ intid: 1, cpu: 0, enabled: true })),
                awaitPhysical(1, 0),
                send(physical('ack', 1, 0)),
                send(physical('eoi', 1, 0)),
                send(physical('raise', 2, 0)),
                awaitPhysical(2, 0),
                send(configure({ intid: 2, enabled: false })), // withdrawn
                send(physical('ack', 2, 0)),
                awaitRefusal('NOT_ALLOWED'),
                send(configure({ intid: 2, enabled: true })),
                awaitPhysical(2, 0),
                send(physical('ack', 2, 0)),
                send(physical('eoi', 2, 0)),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(lifeOf(entries, { intid: 1, cpu: 0 }), [
        'raise:pending',
        'hold(disabled)',
        'merge:pending',
        'deliver>hypervisor',
        'ack:active',
        'eoi:inactive',
      ]);
      assert.equal(recordsWhere(entries, 'gic-merge', { intid: 1, cpu: 0 })[0]?.['delivered'], false);
      assert.deepEqual(lifeOf(entries, { intid: 2, cpu: 0 }), [
        'raise:pending',
        'deliver>hypervisor',
        'withdraw(disabled)',
        'refused(not-delivered)',
        'deliver>hypervisor',
        'ack:active',
        'eoi:inactive',
      ]);
    });

    it('never delivers a secure SGI to a non-secure subscriber; the donated SRI (SGI 8) reaches the hypervisor', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            hypervisor: {
              steps: [
                subscribeAll,
                send(physical('subscribe', 0, 0, 'secure')), // a non-secure component
                awaitRefusal('NOT_ALLOWED'),
                send(physical('raise', 10, 0, 'secure')),
                awaitRefusal('NOT_ALLOWED'),
                send(physical('raise', 10, 0, 'nonsecure')), // SGI 10 is secure: group mismatch
                awaitRefusal('INVALID_FIELD'),
                sync,
                signal('spmc', 'subscribed'),
                awaitPhysical(8, 0),
                awaitSignal('raised'),
                send(physical('ack', 8, 0)),
                send(physical('eoi', 8, 0)),
                sync,
              ],
            },
            spmc: {
              autoAck: true,
              autoEoi: true,
              steps: [
                send(physical('subscribe', 0, 0, 'secure')),
                awaitSignal('subscribed'),
                send(physical('raise', 10, 0, 'secure')),
                send(physical('raise', 8, 0)), // the SRI: SGI 8, donated to the normal world
                awaitPhysical(10, 0),
                sync,
                signal('hypervisor', 'raised'),
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(
        deliveries(entries, 'hypervisor').map((d) => [d.intid, d.group]),
        [[8, 'nonsecure']],
      );
      assert.deepEqual(
        deliveries(entries, 'spmc').map((d) => [d.intid, d.group]),
        [[10, 'secure']],
      );
      assert.deepEqual(
        recordsWhere(entries, 'gic-deliver', { intid: 10 }).map((r) => r['to']),
        ['spmc'],
      );
      assert.deepEqual(
        recordsWhere(entries, 'gic-refused', { from: 'hypervisor' }).map((r) => r['reason']),
        ['secure-group', 'secure-group', 'group-mismatch'],
      );
    });

    it('holds a secure SGI with nobody of its group to receive it, and never gives it to the hypervisor', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            hypervisor: { steps: [subscribeAll, sync, signal('spmc', 'subscribed'), awaitSignal('raised')] },
            spmc: {
              steps: [awaitSignal('subscribed'), send(physical('raise', 12, 1, 'secure')), send(physical('raise', 12, 1, 'secure')), sync, signal('hypervisor', 'raised')],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(lifeOf(entries, { intid: 12, cpu: 1 }), ['raise:pending', 'hold(no-subscriber)', 'merge:pending']);
      assert.deepEqual(deliveries(entries, 'hypervisor'), []);
    });

    it('banks SGIs per CPU: SGI 8 on CPU 1 does not touch CPU 0\'s copy', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            hypervisor: {
              steps: [
                subscribeAll,
                send(physical('raise', 8, 1)),
                awaitPhysical(8, 1),
                send(physical('ack', 8, 0)), // CPU 0's copy was not raised
                awaitRefusal('NOT_ALLOWED'),
                send(physical('ack', 8, 1)),
                send(physical('raise', 8, 0)), // a new edge on CPU 0, not a merge with CPU 1's active copy
                awaitPhysical(8, 0),
                send(physical('ack', 8, 0)),
                send(physical('eoi', 8, 1)),
                send(physical('eoi', 8, 0)),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(lifeOf(entries, { intid: 8, cpu: 1 }), ['raise:pending', 'deliver>hypervisor', 'ack:active', 'eoi:inactive']);
      assert.deepEqual(lifeOf(entries, { intid: 8, cpu: 0 }), [
        'refused(not-delivered)',
        'raise:pending',
        'deliver>hypervisor',
        'ack:active',
        'eoi:inactive',
      ]);
      assert.deepEqual(
        deliveries(entries, 'hypervisor').map((d) => [d.intid, d.cpu]),
        [
          [8, 1],
          [8, 0],
        ],
      );
    });

    it('routes an SPI to its target CPU and follows a change of route', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            monitor: {
              autoAck: true,
              autoEoi: true,
              steps: [send(physical('subscribe', 0, 0)), sync, signal('hypervisor', 'ready'), awaitPhysical(36, 0), sync],
            },
            hypervisor: {
              steps: [
                awaitSignal('ready'),
                send(physical('subscribe', 0, 1)),
                send(configure({ intid: 36, targetCpu: 1 })),
                send(physical('raise', 36, 0)), // an SPI is routed by the distributor: cpu must be -1
                awaitRefusal('INVALID_FIELD'),
                send(physical('raise', 36, -1)),
                awaitPhysical(36, 1),
                send(physical('ack', 36, 0)), // delivered on CPU 1, not 0
                awaitRefusal('NOT_ALLOWED'),
                send(physical('ack', 36, 1)),
                send(physical('eoi', 36, 1)),
                send(configure({ intid: 36, targetCpu: 0 })),
                send(physical('raise', 36, -1)),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(
        deliveries(entries, 'hypervisor').map((d) => [d.intid, d.cpu]),
        [[36, 1]],
      );
      assert.deepEqual(
        deliveries(entries, 'monitor').map((d) => [d.intid, d.cpu]),
        [[36, 0]],
      );
      assert.deepEqual(
        recordsWhere(entries, 'gic-deliver', { intid: 36 }).map((r) => [r['cpu'], r['to']]),
        [
          [1, 'hypervisor'],
          [0, 'monitor'],
        ],
      );
    });

    it('fans a delivery out to every subscriber of the target; the first ack wins; unsubscribing stops it', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            monitor: {
              steps: [
                send(physical('subscribe', 0, 0)),
                sync,
                signal('hypervisor', 'subscribed'),
                awaitPhysical(3, 0),
                awaitSignal('acked'),
                send(physical('ack', 3, 0)), // the hypervisor was first
                awaitRefusal('NOT_ALLOWED'),
                send(physical('unsubscribe', 0, 0)),
                sync,
                signal('hypervisor', 'unsubscribed'),
              ],
            },
            hypervisor: {
              steps: [
                awaitSignal('subscribed'),
                subscribeAll,
                send(physical('raise', 3, 0)),
                awaitPhysical(3, 0),
                send(physical('ack', 3, 0)),
                sync,
                signal('monitor', 'acked'),
                awaitSignal('unsubscribed'),
                send(physical('eoi', 3, 0)),
                send(physical('raise', 3, 0)),
                awaitPhysical(3, 0),
                send(physical('ack', 3, 0)),
                send(physical('eoi', 3, 0)),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(
        recordsWhere(entries, 'gic-deliver', { intid: 3, cpu: 0 }).map((r) => r['to']),
        ['hypervisor', 'monitor', 'hypervisor'],
      );
      assert.equal(deliveries(entries, 'monitor').length, 1);
      assert.equal(deliveries(entries, 'hypervisor').length, 2);
      assert.deepEqual(
        recordsWhere(entries, 'gic-ack', { intid: 3 }).map((r) => r['from']),
        ['hypervisor', 'hypervisor'],
      );
    });
  });
}
