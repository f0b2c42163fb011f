/**
 * A scenario's faults (docs/scenarios.md "Faults") as rules for the one interception point
 * (shared/runtime/interceptor.ts). Interrupt faults act on the interrupt's signal: the raise
 * frame that reaches the GIC (an SGI the SPMC sends for the SRI, a virtual interrupt the
 * hypervisor injects), so a dropped interrupt is one the GIC never saw, as a lost edge would be,
 * rather than one it believes delivered and waits forever to see ended; a duplicate is a second
 * signal, which the GIC merges while the first is pending (GICv3). `to` names the target: a VM
 * for its virtual interrupts, the hypervisor or the host for physical ones.
 * call faults on the calls from the first component of `between` to the second; a cut link
 * drops everything both ways until it heals.
 */
import { ffaError } from '../../shared/ffa/index.ts';
import type { FaultRule, MessageMatch } from '../../shared/runtime/interceptor.ts';
import type { Endpoint, FaultSpec } from './scenario/types.ts';

const GIC = 'gic';

/** The component an endpoint's deliveries go to: a VM's or the host's guest, the hypervisor, the SPMC for an SP. */
export function componentOf(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case 'vm':
    case 'host':
      return endpoint.name;
    case 'hypervisor':
      return 'hypervisor';
    case 'sp':
      return 'spmc';
  }
}

/** A fault as interception rules, or why it is not one (faults that act on components, not messages). */
export type RulePlan = { kind: 'rules'; rules: FaultRule[]; healAfterNs: number | null } | { kind: 'not-a-rule'; why: string };

function limits(fault: { count: number | null; probability: number | null }): Pick<FaultRule, 'count' | 'probability'> {
  return { ...(fault.count === null ? {} : { count: fault.count }), ...(fault.probability === null ? {} : { probability: fault.probability }) };
}

function raiseMatch(intid: number, to: Endpoint | null): MessageMatch {
  const target = to === null ? {} : { irqVm: to.kind === 'vm' ? to.id : -1 };
  return { kind: 'irq', to: GIC, irqOp: 'raise', intid, ...target };
}

function callMatch(fid: number | null, between: [string, string]): MessageMatch {
  return { kind: 'call', from: between[0], to: between[1], ...(fid === null ? {} : { fid: BigInt(fid) }) };
}

export function rulesFor(fault: FaultSpec, id: string): RulePlan {
  const rule = (match: MessageMatch, then: FaultRule['then'], extra: Pick<FaultRule, 'count' | 'probability'> = {}): FaultRule => ({ id, match, then, ...extra });
  switch (fault.kind) {
    case 'drop-interrupt':
      return { kind: 'rules', rules: [rule(raiseMatch(fault.intid, fault.to), { action: 'drop' }, limits(fault))], healAfterNs: null };
    case 'delay-interrupt':
      return { kind: 'rules', rules: [rule(raiseMatch(fault.intid, fault.to), { action: 'delay', byNs: fault.byNs }, limits(fault))], healAfterNs: null };
    case 'duplicate-interrupt':
      return { kind: 'rules', rules: [rule(raiseMatch(fault.intid, fault.to), { action: 'duplicate', copies: 1 }, limits(fault))], healAfterNs: null };
    case 'fail-call':
      return { kind: 'rules', rules: [rule(callMatch(fault.fid, fault.between), { action: 'fail', regs: ffaError(fault.error) }, limits(fault))], healAfterNs: null };
    case 'delay-call':
      return { kind: 'rules', rules: [rule(callMatch(fault.fid, fault.between), { action: 'delay', byNs: fault.byNs }, limits(fault))], healAfterNs: null };
    case 'cut-link': {
      const [a, b] = fault.between;
      const rules: FaultRule[] = [
        { id: `${id}:${a}→${b}`, match: { from: a, to: b }, then: { action: 'drop' } },
        { id: `${id}:${b}→${a}`, match: { from: b, to: a }, then: { action: 'drop' } },
      ];
      return { kind: 'rules', rules, healAfterNs: fault.forNs };
    }
    case 'spurious-interrupt':
      return { kind: 'not-a-rule', why: 'a spurious interrupt is raised at the GIC, not intercepted' };
    case 'crash':
    case 'stall':
      return { kind: 'not-a-rule', why: 'a component fault, applied through the world control' };
    case 'hold-interrupt':
      return { kind: 'not-a-rule', why: 'an interrupt held at the GIC, not intercepted' };
    case 'swarm':
      return { kind: 'not-a-rule', why: 'a swarm is expanded into concrete faults by the runner before the world starts' };
  }
}
