/**
 * Applying a scenario's faults (docs/scenarios.md "Faults"; docs/design.md §7): message faults
 * become rules at the one interception point (faults.ts), component faults are the experimenter's
 * powers over the world (ctx.world: crash, stall), an interrupt held back is a change at the GIC.
 * Every fault applied is an event in the history: fault-installed, fault-healed, fault-refused,
 * and `swarm` for the faults a swarm drew.
 */
import type { HistoryEvent } from '../../shared/runtime/history.ts';
import type { ComponentContext, WorldControl } from '../../shared/runtime/component.ts';
import type { OrchestratorAwaiting } from './awaiting.ts';
import { type OrchestratorConfig, vmCreateRequest } from './config.ts';
import { shown } from './expect.ts';
import { componentOf, rulesFor } from './faults.ts';
import type { FaultSpec } from './scenario/types.ts';
import { type Finish, ms } from './step-outcome.ts';

export class FaultApplier {
  private faultSerial = 0;
  /** Faults installed whose heal is still to come: the world is not idle while one is. */
  private pendingHeals = 0;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly config: OrchestratorConfig,
    private readonly awaiting: OrchestratorAwaiting,
  ) {}

  /** Delay rules installed, by rule id: how long each holds a frame back. */
  private readonly delayOfRule = new Map<string, number>();
  /**
   * When the last interrupt frame a delay fault held back is due (runtime ns): until then a frame
   * is in flight though nothing is recorded, so the world is quiet, not idle.
   */
  delayedUntilNs = 0;

  /** Whether a fault's heal is still to come (a held interrupt is quiet, not done). */
  get healing(): boolean {
    return this.pendingHeals > 0;
  }

  /** An observed event: a delay fault applied moves when the world can next be idle. */
  observe(t: number, event: HistoryEvent): void {
    if (event.type === 'fault' && event.action === 'delay') this.delayedUntilNs = Math.max(this.delayedUntilNs, t + (this.delayOfRule.get(event.rule) ?? 0));
  }

  /** Applies `fault` as rule `<id>:<kind>#<serial>`; `finish` once it is in place (or refused). `where` names a swarm's draw. */
  apply(fault: FaultSpec, id: string, finish: Finish, where: string): void {
    const ruleId = `${id}:${fault.kind}#${this.faultSerial++}`;
    const world = this.ctx.world;
    if (!world) throw new Error('bug: the orchestrator was started without world control');
    switch (fault.kind) {
      case 'swarm':
        return this.swarm(where, ruleId, finish);
      case 'spurious-interrupt':
        return this.spurious(fault, ruleId, finish);
      case 'crash':
        return this.crash(world, fault, ruleId, finish);
      case 'stall':
        return this.stall(world, fault, ruleId, finish);
      case 'hold-interrupt':
        return this.hold(fault, ruleId, finish);
      default:
        return this.installRules(world, fault, ruleId, finish);
    }
  }

  private installRules(world: WorldControl, fault: FaultSpec, ruleId: string, finish: Finish): void {
    const plan = rulesFor(fault, ruleId);
    if (plan.kind === 'not-a-rule') {
      this.ctx.record({ event: 'fault-refused', id: ruleId, fault: fault.kind, why: plan.why });
      return finish(false, plan.why);
    }
    const heal = plan.healAfterNs;
    if (heal !== null) this.pendingHeals++; // from now: the world is not idle until it heals
    for (const rule of plan.rules) if (rule.then.action === 'delay') this.delayOfRule.set(rule.id, rule.then.byNs);
    world.installFaults(plan.rules, () => {
      this.ctx.record({ event: 'fault-installed', id: ruleId, fault: fault.kind, rules: plan.rules.map((r) => r.id), spec: shown(fault) });
      if (heal !== null) {
        this.pendingHeals--;
        this.healLater(heal, () => world.removeFaults(plan.rules.map((r) => r.id), () => this.ctx.record({ event: 'fault-healed', id: ruleId, fault: fault.kind })));
      }
      finish(true, `${fault.kind} installed as ${ruleId}`);
    });
  }

  /**
   * A crash: the component's state is gone. A guest's crash is its VM's: the toolstack destroys
   * the domain (Xen's ffa_domain_teardown: VM_DESTROYED to subscribed SPs, BITMAP_DESTROY) and,
   * with restart-after, creates it again, and the fresh kernel probes from scratch. Any other
   * component restarts fresh from its configuration.
   */
  private crash(world: WorldControl, fault: Extract<FaultSpec, { kind: 'crash' }>, id: string, finish: Finish): void {
    const vm = this.config.vms.find((v) => v.name === fault.component);
    const underHypervisor = vm !== undefined && this.config.hypervisor;
    const restartAfter = fault.restartAfterNs;
    if (restartAfter !== null) this.pendingHeals++;
    world.crash(fault.component, `fault ${id}`, () => {
      if (underHypervisor) this.ctx.send('hypervisor', { kind: 'control', op: 'vm-destroy', data: { name: fault.component } });
      this.ctx.record({ event: 'fault-installed', id, fault: fault.kind, rules: [], spec: shown(fault) });
      if (restartAfter !== null) {
        this.pendingHeals--;
        this.healLater(restartAfter, () =>
          world.restart(fault.component, `fault ${id} healed`, () => {
            if (underHypervisor) this.ctx.send('hypervisor', { kind: 'control', op: 'vm-create', data: vmCreateRequest(this.config, fault.component) });
            this.ctx.record({ event: 'fault-healed', id, fault: fault.kind });
          }),
        );
      }
      finish(true, `${fault.component} crashed${restartAfter === null ? '' : `, restarting after ${ms(restartAfter)}`}`);
    });
  }

  private stall(world: WorldControl, fault: Extract<FaultSpec, { kind: 'stall' }>, id: string, finish: Finish): void {
    this.pendingHeals++;
    world.stall(fault.component, () => {
      this.pendingHeals--;
      this.ctx.record({ event: 'fault-installed', id, fault: fault.kind, rules: [], spec: shown(fault) });
      this.healLater(fault.forNs, () => world.resume(fault.component, () => this.ctx.record({ event: 'fault-healed', id, fault: fault.kind })));
      finish(true, `${fault.component} stalled for ${ms(fault.forNs)}`);
    });
  }

  /** The INTID disabled at the GIC: its interrupts stay pending while it is masked, then it is enabled again. */
  private hold(fault: Extract<FaultSpec, { kind: 'hold-interrupt' }>, id: string, finish: Finish): void {
    this.ctx.send('gic', { kind: 'control', op: 'gic-configure', data: { intid: fault.intid, enabled: false } });
    this.pendingHeals++;
    // gic-sync: the GIC answers once it has taken the change, so the next step cannot race it.
    this.ctx.send('gic', { kind: 'control', op: 'gic-sync', data: null });
    this.awaiting.awaitControl('gic', 'gic-synced', '', () => {
      this.pendingHeals--;
      this.ctx.record({ event: 'fault-installed', id, fault: fault.kind, rules: [], spec: shown(fault) });
      this.healLater(fault.forNs, () => {
        this.ctx.send('gic', { kind: 'control', op: 'gic-configure', data: { intid: fault.intid, enabled: true } });
        this.ctx.record({ event: 'fault-healed', id, fault: fault.kind });
      });
      finish(true, `INTID ${fault.intid} held at the GIC for ${ms(fault.forNs)}`);
    }, finish);
  }

  /** A fault's heal, after `delayNs`; until then the world does not count as idle (a held interrupt is quiet, not done). */
  private healLater(delayNs: number, heal: () => void): void {
    this.pendingHeals++;
    this.ctx.setTimer(delayNs, () => {
      this.pendingHeals--;
      heal();
    });
  }

  /** A swarm: the faults the runner drew for this seed, applied together. */
  private swarm(where: string, id: string, finish: Finish): void {
    const drawn = this.config.swarms.find((swarm) => swarm.where === where);
    if (!drawn) throw new Error(`bug: no swarm was drawn for ${where}`);
    this.ctx.record({ event: 'swarm', id, where, faults: drawn.faults.map((fault) => shown(fault)) });
    drawn.faults.forEach((fault, index) => this.apply(fault, `${id}.${index}`, () => {}, `${where}.${index}`));
    finish(true, `swarm of ${drawn.faults.length} faults: ${drawn.faults.map((f) => f.kind).join(', ') || 'none drawn'}`);
  }

  /** A spurious interrupt: raised at the GIC for a target that nothing made pending. */
  private spurious(fault: Extract<FaultSpec, { kind: 'spurious-interrupt' }>, id: string, finish: Finish): void {
    const to = fault.to;
    const virtual = to.kind === 'vm';
    const irq = virtual
      ? { kind: 'irq' as const, op: 'raise' as const, intid: fault.intid, group: 'nonsecure' as const, cpu: -1, vm: to.id, vcpu: fault.vcpu }
      : { kind: 'irq' as const, op: 'raise' as const, intid: fault.intid, group: 'nonsecure' as const, cpu: fault.vcpu % this.config.cpus, vm: -1, vcpu: -1 };
    this.ctx.send('gic', irq);
    this.ctx.record({ event: 'fault-installed', id, fault: fault.kind, rules: [], spec: shown(fault) });
    finish(true, `spurious interrupt ${fault.intid} raised for ${componentOf(to)}`);
  }
}
