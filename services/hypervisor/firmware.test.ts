/**
 * The hypervisor's bounds on guest calls pending at the firmware (firmware.ts): each VM has its
 * own share (config.maxPendingGuestCallsPerVm), so one VM's flood gets BUSY without taking any
 * other VM's; the world's bound (config.maxPendingGuestCalls) still holds over all.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FFA_FIDS, registers } from '../../shared/ffa/index.ts';
import type { CallOutcome, ComponentContext } from '../../shared/runtime/component.ts';
import { FirmwareLink } from './firmware.ts';

/** A context whose SMCs stay pending until the test answers them. */
function pendingContext(): { ctx: ComponentContext; answer(): void; made: () => number } {
  const waiting: ((outcome: CallOutcome) => void)[] = [];
  let made = 0;
  const ctx = {
    call: (_to: string, _request: unknown, onReturn: (outcome: CallOutcome) => void) => {
      made++;
      waiting.push(onReturn);
    },
  } as unknown as ComponentContext;
  return { ctx, made: () => made, answer: () => waiting.shift()?.({ ok: true, regs: registers(FFA_FIDS.FFA_SUCCESS_32), memory: null }) };
}

describe('guest calls pending at the firmware', () => {
  const GET = registers(FFA_FIDS.FFA_NOTIFICATION_GET);
  // cpu = vm, so the per-CPU SMC queue (8 in flight) never holds a call back here.
  const call = (link: FirmwareLink, vm: number) => link.callForGuest(GET, vm, vm, () => {});

  it('a VM past its own share gets refused ("vm") while another VM still gets its calls made', () => {
    const { ctx, made } = pendingContext();
    const link = new FirmwareLink(ctx, 'spmd', 100, 3);
    const flood = Array.from({ length: 10 }, () => call(link, 1));
    assert.deepEqual(flood, [null, null, null, 'vm', 'vm', 'vm', 'vm', 'vm', 'vm', 'vm']);
    assert.deepEqual([call(link, 2), call(link, 2), call(link, 2)], [null, null, null], 'VM 2 keeps its whole share');
    assert.equal(made(), 6);
  });

  it('the world bound still holds over all VMs ("world"), and an answer frees its VM\'s slot', () => {
    const { ctx, answer } = pendingContext();
    const link = new FirmwareLink(ctx, 'spmd', 4, 3);
    assert.deepEqual([call(link, 1), call(link, 1), call(link, 2), call(link, 2)], [null, null, null, null]);
    assert.equal(call(link, 3), 'world');
    answer();
    assert.equal(link.pending, 3);
    assert.equal(call(link, 3), null, 'the freed slot is anyone\'s');
  });
});
