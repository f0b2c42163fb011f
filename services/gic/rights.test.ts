/**
 * Rights and robustness through the runtime, under both runtimes: every subscribe, raise,
 * placement report or configuration outside the sender's rights is refused, recorded and
 * answered, and disturbs nothing else; malformed or unexpected frames are answered with a
 * protocol error and never crash the broker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '../../shared/protocol/messages.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { gicConfig, RIGHTS, VM1_ID, VM2_ID } from './test-support/configs.ts';
import {
  awaitPhysical,
  awaitSignal,
  awaitVirtual,
  configure,
  lifecycle,
  physical,
  send,
  signal,
  sync,
  virtual,
} from './test-support/frames.ts';
import { deliveries, protocolErrors, records, recordsWhere } from './test-support/history.ts';
import type { ActorStep } from './test-support/irq-actor.ts';
import { runGicWorld } from './test-support/run.ts';

/** What a guest may not do: everything but receive its own VM's virtual interrupts. */
const GUEST_TRESPASSES: Message[] = [
  physical('subscribe', 0, 0), // physical interrupts of CPU 0
  physical('subscribe', 0, -1), // every CPU
  virtual('subscribe', 0, VM2_ID, -1), // another VM's interrupts
  virtual('subscribe', 0, VM2_ID, 0),
  physical('raise', 1, 0), // physical SGIs
  virtual('raise', 8, VM1_ID, 0), // injecting, even into itself
  virtual('raise', 8, VM2_ID, 0),
  lifecycle('vcpu-online', VM1_ID, 0, 1), // reporting placement
  lifecycle('vcpu-offline', VM1_ID, 0),
  lifecycle('vm-destroyed', VM2_ID),
  configure({ intid: 1, enabled: false }), // configuring
];

const sendEach = (messages: readonly Message[]): ActorStep[] => messages.map((message) => send(message));

for (const runtime of RUNTIMES) {
  describe(`gic rights and robustness (${runtime})`, () => {
    it('refuses what is outside a component\'s rights, answers each refusal, and disturbs nothing else', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            vm1: {
              autoAck: true,
              autoEoi: true,
              steps: [
                send(virtual('subscribe', 0, VM1_ID, -1)),
                ...sendEach(GUEST_TRESPASSES),
                sync,
                signal('hypervisor', 'trespassed'),
                awaitVirtual(8, VM1_ID, 0),
                sync,
              ],
            },
            stranger: { steps: [...sendEach([physical('subscribe', 0, 1), physical('raise', 2, 1), virtual('subscribe', 0, VM1_ID, -1)]), sync] },
            monitor: { steps: [send(physical('subscribe', 0, 1)), send(physical('subscribe', 0, -1)), sync] },
            hypervisor: {
              autoAck: true,
              autoEoi: true,
              steps: [
                send(physical('subscribe', 0, -1)),
                awaitSignal('trespassed'),
                send(physical('raise', 1, 0)),
                awaitPhysical(1, 0),
                send(lifecycle('vcpu-online', VM1_ID, 0, 0)),
                send(virtual('raise', 8, VM1_ID, 0)),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      const refusedBy = (from: string) => recordsWhere(entries, 'gic-refused', { from }).map((r) => r['reason']);
      assert.deepEqual(refusedBy('vm1'), new Array(GUEST_TRESPASSES.length).fill('no-right'));
      assert.deepEqual(
        protocolErrors(entries, 'vm1').map((e) => e.code),
        new Array(GUEST_TRESPASSES.length).fill('NOT_ALLOWED'),
      );
      assert.deepEqual(refusedBy('stranger'), ['no-right', 'no-right', 'no-right']);
      assert.deepEqual(refusedBy('monitor'), ['no-right', 'no-right']);
      assert.equal(protocolErrors(entries, 'monitor').length, 2);
      // Nothing the trespassers asked for happened: the only state changes are the legitimate ones.
      for (const from of ['vm1', 'stranger', 'monitor']) {
        const done = records(entries).filter((r) => r['from'] === from && r.event !== 'gic-refused' && r.event !== 'gic-ack' && r.event !== 'gic-eoi');
        const expected = from === 'vm1' ? [{ event: 'gic-subscribe', vm: VM1_ID, vcpu: -1, from }] : [];
        assert.deepEqual(done, expected, `${from} changed something`);
      }
      // And the world went on: the hypervisor's SGI, and the guest's own virtual interrupt.
      assert.deepEqual(
        deliveries(entries, 'hypervisor').map((d) => d.intid),
        [1],
      );
      assert.deepEqual(
        deliveries(entries, 'vm1').map((d) => [d.intid, d.vm, d.vcpu]),
        [[8, VM1_ID, 0]],
      );
      assert.deepEqual(deliveries(entries, 'monitor'), []);
      assert.deepEqual(deliveries(entries, 'stranger'), []);
    });

    it('answers malformed and unexpected frames with a protocol error and keeps working', async () => {
      const call: Message = { kind: 'call', id: 77, conduit: 'smc', endpoint: 1, vcpu: 0, cpu: 0, regs: new Array<bigint>(18).fill(0n), memory: null };
      const bad: [Message, string][] = [
        [physical('raise', 200, 0), 'INVALID_FIELD'], // 8 SPIs: INTIDs end at 39
        [physical('raise', 1, 5), 'INVALID_FIELD'], // 2 CPUs
        [{ kind: 'irq', op: 'raise', intid: 1, group: 'nonsecure', cpu: 0, vm: VM1_ID, vcpu: 0 }, 'INVALID_FIELD'], // both physical and virtual
        [physical('deliver', 1, 0), 'UNKNOWN_KIND'], // deliveries come from the GIC
        [virtual('raise', 8, VM1_ID, 99), 'INVALID_FIELD'], // vCPU out of range
        [virtual('raise', 8, 0x8001, 0), 'INVALID_FIELD'], // not a VM ID
        [{ ...virtual('raise', 8, VM1_ID, 0), group: 'secure' }, 'INVALID_FIELD'],
        [call, 'UNKNOWN_KIND'],
        [lifecycle('teleport', VM1_ID), 'UNKNOWN_KIND'],
        [lifecycle('vcpu-online', VM1_ID, 0), 'INVALID_FIELD'], // pcpu missing
        [lifecycle('vcpu-online', VM1_ID, 0, 7), 'INVALID_FIELD'], // no CPU 7
        [{ kind: 'lifecycle', event: 'vcpu-online', subject: 'sp', args: [1, 0, 0] }, 'UNKNOWN_KIND'],
        [{ kind: 'control', op: 'frobnicate', data: null }, 'UNKNOWN_KIND'],
        [{ kind: 'control', op: 'gic-configure', data: 'enable everything' }, 'INVALID_FIELD'],
        [configure({ intid: 1, priority: 300 }), 'INVALID_FIELD'],
        [configure({ intid: 1, colour: 'blue' }), 'INVALID_FIELD'],
        [configure({ intid: 36, cpu: 0, enabled: true }), 'INVALID_FIELD'], // an SPI has no banked copies
      ];
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            hypervisor: {
              autoAck: true,
              autoEoi: true,
              steps: [
                send(physical('subscribe', 0, -1)),
                ...sendEach(bad.map(([message]) => message)),
                send({ kind: 'protocol-error', code: 'MALFORMED_FRAME', reason: 'a peer complains', ref: -1 }), // never answered
                send(physical('raise', 1, 0)),
                awaitPhysical(1, 0),
                sync,
              ],
            },
          },
        },
        runtime,
      );
      const errors = protocolErrors(entries, 'hypervisor');
      assert.deepEqual(
        errors.map((e) => e.code),
        bad.map(([, code]) => code),
      );
      assert.equal(errors[bad.findIndex(([m]) => m.kind === 'call')]?.ref, 77);
      assert.equal(records(entries, 'gic-peer-error').length, 1);
      assert.deepEqual(
        deliveries(entries, 'hypervisor').map((d) => d.intid),
        [1],
      );
    });

    it('refuses to start with a bad configuration, naming the field', async () => {
      const { runWorldInMemory } = await import('../../shared/runtime/run-world.ts');
      const { gicWorld } = await import('./test-support/world.ts');
      const spec = gicWorld({ gic: { cpus: 2, rights: { ...RIGHTS, vm1: { subscribeVirtual: [0x8001] } } }, actors: { hypervisor: { steps: [] } } });
      await assert.rejects(runWorldInMemory(spec, { runtime, timeoutMs: 10_000 }), /rights\.vm1\.subscribeVirtual\[0\]/);
    });
  });
}
