/**
 * A rule of the world over the order of the steps (pass 3, meaning): under Xen a guest must
 * negotiate its FF-A version first. Xen's ffa_negotiate_version (xen/arch/arm/tee/ffa.c;
 * docs/ffa-reference.md §5.4) answers every call but FFA_VERSION with NOT_SUPPORTED until the guest has
 * called FFA_VERSION, and a new domain (a created or rebooted VM) starts over. A Linux driver
 * negotiates at probe; a `raw` driver never calls anything by itself, so a scenario that calls
 * from such a VM before its own FFA_VERSION step and expects the call to do anything but fail
 * with NOT_SUPPORTED cannot pass. It is refused here, with the reason, instead of failing at run
 * time with a bare NOT_SUPPORTED.
 *
 * Only what is certain is refused: any FFA_VERSION step counts as a negotiation (whatever it
 * asks and expects), and a crash fault or anything else the steps cannot tell about is left to
 * the run (expect.ts says the same there).
 */
import { FFA_FIDS } from '../../../../shared/ffa/index.ts';
import type { ScenarioSource } from '../errors.ts';
import type { Expectation, Step, WorldDescription } from '../types.ts';
import { Problems } from './problems.ts';

/** Where a raw-driver VM stands, as far as the steps tell. */
interface GuestNegotiation {
  running: boolean;
  negotiated: boolean;
  /** Since when it has not negotiated, for the message: "since it booted", "since steps[4] rebooted it". */
  since: string;
}

export function checkVersionNegotiation(world: WorldDescription, steps: readonly Step[], source: ScenarioSource): void {
  if (world.hypervisor.profile !== 'xen') return;
  const guests = new Map<string, GuestNegotiation>();
  for (const vm of world.vms) {
    if (vm.driver === 'raw') guests.set(vm.name, { running: vm.boot, negotiated: false, since: 'since it booted' });
  }
  const problems = new Problems();
  for (const step of steps) {
    if (step.kind === 'vm') lifecycle(guests.get(step.vm), step.op, step.index);
    if (step.kind !== 'call' || step.from.kind !== 'vm') continue;
    const guest = guests.get(step.from.name);
    if (guest === undefined || !guest.running) continue;
    if (step.fid === FFA_FIDS.FFA_VERSION) guest.negotiated = true;
    else if (!guest.negotiated && step.abi !== null && cannotPass(step.expect)) problems.note(source.error(['steps', step.index, 'expect'], refusal(step.from.name, step.abi, guest.since)));
  }
  problems.throwIfAny();
}

/** Xen ffa_domain_init: a new domain has negotiated nothing. */
function lifecycle(guest: GuestNegotiation | undefined, op: 'create' | 'destroy' | 'reboot', index: number): void {
  if (guest === undefined) return;
  guest.running = op !== 'destroy';
  guest.negotiated = false;
  guest.since = `since steps[${index}] ${op === 'reboot' ? 'rebooted' : 'created'} it`;
}

/** Whether NOT_SUPPORTED fails the expectation. */
function cannotPass(expect: Expectation): boolean {
  if (expect.kind === 'success' || expect.kind === 'success-fields') return true;
  return expect.kind === 'error' && expect.code !== 'NOT_SUPPORTED';
}

function refusal(vm: string, abi: string, since: string): string {
  return (
    `${vm} calls ${abi} before it negotiated an FF-A version (${since}), and Xen answers every call but FFA_VERSION ` +
    'with NOT_SUPPORTED until the guest has (xen/arch/arm/tee/ffa.c ffa_negotiate_version); ' +
    `${vm}'s driver is raw, so nothing calls FFA_VERSION for it: add { from: ${vm}, call: FFA_VERSION, args: { version: "1.2" } } ` +
    'before this step, or expect { error: NOT_SUPPORTED }'
  );
}
