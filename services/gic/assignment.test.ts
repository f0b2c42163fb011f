/**
 * vm-assigned through the runtime, under both runtimes: the hypervisor (configure right) assigns a
 * VM to a component no config names (a guest that registered, services/hypervisor
 * registration.ts); the component then receives the VM's virtual interrupts on every vCPU, until
 * vm-destroyed drops the grant and the subscription. An assignment from a component without the
 * configure right, or with bad fields, is refused on the usual path (gic-refused, protocol-error).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '../../shared/protocol/messages.ts';
import { RUNTIMES } from '../../shared/runtime/run-world.ts';
import { gicConfig, VM1_ID } from './test-support/configs.ts';
import { awaitRefusal, awaitSignal, awaitVirtual, lifecycle, send, signal, sync, virtual } from './test-support/frames.ts';
import { deliveries, protocolErrors, records, recordsWhere } from './test-support/history.ts';
import { runGicWorld } from './test-support/run.ts';

const NPI = 8;
const vm = VM1_ID;
/** A registered guest: no rights of its own in the config (configs.ts RIGHTS does not name it). */
const GUEST = 'guest1';

function assigned(component: string, ...args: unknown[]): Message {
  return { kind: 'lifecycle', event: 'vm-assigned', subject: component, args } as Message;
}

for (const runtime of RUNTIMES) {
  describe(`gic vm-assigned (${runtime})`, () => {
    it('an assigned component receives the VM\'s virtual interrupts on every vCPU, until vm-destroyed ends it', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            [GUEST]: {
              autoAck: true,
              autoEoi: true,
              steps: [
                awaitVirtual(NPI, vm, 0),
                awaitVirtual(NPI, vm, 1),
                signal('hypervisor', 'got'),
                awaitSignal('destroyed'),
                // Its grant went with the VM: subscribing itself is outside its rights again.
                send(virtual('subscribe', 0, vm, -1)),
                awaitRefusal('NOT_ALLOWED'),
                sync,
                signal('hypervisor', 'tried'),
              ],
            },
            hypervisor: {
              steps: [
                send(assigned(GUEST, vm)),
                send(lifecycle('vcpu-online', vm, 0, 0)),
                send(lifecycle('vcpu-online', vm, 1, 1)),
                send(virtual('raise', NPI, vm, 0)),
                send(virtual('raise', NPI, vm, 1)),
                awaitSignal('got'),
                send(lifecycle('vm-destroyed', vm)),
                // The same ID again, not assigned this time: nothing reaches the old guest.
                send(lifecycle('vcpu-online', vm, 0, 0)),
                send(virtual('raise', NPI, vm, 0)),
                sync,
                signal(GUEST, 'destroyed'),
                awaitSignal('tried'),
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(records(entries, 'gic-vm-assigned'), [{ event: 'gic-vm-assigned', vm, to: GUEST, from: 'hypervisor' }]);
      assert.deepEqual(deliveries(entries, GUEST).map((d) => [d.intid, d.vm, d.vcpu]), [
        [NPI, vm, 0],
        [NPI, vm, 1],
      ]);
      assert.deepEqual(records(entries, 'gic-vm-unassigned'), [{ event: 'gic-vm-unassigned', vm, to: GUEST, from: 'hypervisor' }]);
      assert.equal(recordsWhere(entries, 'gic-refused', { from: GUEST, reason: 'no-right' }).length, 1);
      assert.equal(recordsWhere(entries, 'gic-deliver', { vm }).length, 2, 'the raise after vm-destroyed had no audience');
    });

    it('refuses vm-assigned without the configure right, and with bad fields; nothing is granted', async () => {
      const entries = await runGicWorld(
        {
          gic: gicConfig(),
          actors: {
            // vm1 has subscribeVirtual rights for its own VM, but not configure.
            vm1: { steps: [send(assigned(GUEST, vm)), awaitRefusal('NOT_ALLOWED'), sync] },
            hypervisor: {
              steps: [
                send(assigned(GUEST)), // no VM
                send(assigned(GUEST, vm, 0)), // too many args
                send(assigned(GUEST, 1.5)), // not an integer
                send(assigned(GUEST, 0)), // not a VM ID
                send(assigned('', vm)), // no component
                send(assigned('x'.repeat(65), vm)), // a name longer than any config allows
                sync,
              ],
            },
          },
        },
        runtime,
      );
      assert.deepEqual(records(entries, 'gic-vm-assigned'), []);
      const refused = records(entries, 'gic-refused').map((r) => [r['from'], r['op'], r['reason']]);
      assert.deepEqual(refused.filter(([from]) => from === 'vm1'), [['vm1', 'lifecycle:vm-assigned', 'no-right']]);
      assert.deepEqual(
        refused.filter(([from]) => from === 'hypervisor').map(([, , reason]) => reason),
        Array.from({ length: 6 }, () => 'invalid-field'),
      );
      assert.equal(protocolErrors(entries, 'hypervisor').length, 6);
    });
  });
}
