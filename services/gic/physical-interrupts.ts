/**
 * Physical interrupts: raise, acknowledge, end, subscribe and configure, over the distributor
 * (configuration, SPIs) and the redistributors (banked SGIs and PPIs), and the delivery pass that
 * a CPU interface makes after every change: whatever is now deliverable on that CPU is delivered
 * to its subscribers of the interrupt's group.
 */
import type { InterruptGroup, InterruptMessage } from '../../shared/protocol/messages.ts';
import type { Distributor, IntidSetting, SettingChange } from './distributor.ts';
import {
  acknowledgeSlot,
  keptOf,
  assertSlotInvariants,
  endSlot,
  forgetRecipient,
  holdReasonOf,
  type InterruptSlot,
  isDelivered,
  isHeld,
  raiseSlot,
  selectDeliveries,
  type TargetView,
  withdrawSlot,
} from './interrupt-state.ts';
import { type IntidClass, isBanked } from './intids.ts';
import type { Redistributor } from './redistributor.ts';
import type { Outlet } from './outlet.ts';
import { type Outcome, type Refusal, refuse } from './refusal.ts';
import { ALL_CPUS, type Subscriptions } from './subscriptions.ts';

/** A physical interrupt frame's fields, as the dispatcher hands them over. */
export interface PhysicalRequest {
  readonly intid: number;
  readonly group: InterruptGroup;
  /** The target CPU; for raising an SPI, -1 (the distributor routes it). */
  readonly cpu: number;
}

/** gic-configure's data, shape-checked by the dispatcher. */
export interface ConfigureRequest extends SettingChange {
  readonly intid: number;
  /** SGI/PPI: which CPU's copy; absent: every CPU's. */
  readonly cpu?: number | undefined;
}

/** An INTID located: its class and the slot a frame addresses. */
interface Located {
  readonly kind: IntidClass;
  readonly slot: InterruptSlot;
  readonly setting: IntidSetting;
}

export class PhysicalInterrupts {
  constructor(
    private readonly distributor: Distributor,
    private readonly redistributors: readonly Redistributor[],
    private readonly subscriptions: Subscriptions,
    private readonly out: Outlet,
  ) {}

  raise(from: string, request: PhysicalRequest): Outcome {
    const rights = this.subscriptions.rightsOf(from);
    if (!rights.raisePhysical) return refuse('no-right', `${from} may not raise physical interrupts`);
    const located = this.locateForRaise(request);
    if ('reason' in located) return located;
    const groupRefusal = this.checkGroup(from, request, located.setting);
    if (groupRefusal) return groupRefusal;
    const { slot } = located;
    const result = raiseSlot(slot, from);
    const cpu = this.cpuOf(located, request.cpu);
    const base = { intid: request.intid, cpu, group: located.setting.group, from };
    if (result === 'merged') {
      this.out.record({ event: 'gic-merge', ...base, state: slot.state, delivered: isDelivered(slot), merges: slot.merges, ...keptOf(slot) });
      return null;
    }
    this.out.record({ event: 'gic-raise', ...base, state: slot.state });
    this.deliverOn(cpu);
    if (isHeld(slot)) this.out.record({ event: 'gic-hold', ...base, reason: holdReasonOf(this.viewOf(slot, cpu)) });
    return null;
  }

  acknowledge(from: string, request: PhysicalRequest): Outcome {
    const located = this.locateAt(request);
    if ('reason' in located) return located;
    if (located.setting.group !== request.group) return this.groupMismatch(request, located.setting);
    if (located.slot.cpu !== null && located.slot.cpu !== request.cpu) {
      return refuse('not-delivered', `INTID ${request.intid} was not delivered on CPU ${request.cpu}`);
    }
    const result = acknowledgeSlot(located.slot, from);
    if (!result.ok) {
      return refuse('not-delivered', `INTID ${request.intid} on CPU ${request.cpu} is ${located.slot.state} and not delivered to ${from}`);
    }
    this.out.record({ event: 'gic-ack', intid: request.intid, cpu: request.cpu, from, state: located.slot.state });
    this.deliverOn(request.cpu);
    return null;
  }

  end(from: string, request: PhysicalRequest): Outcome {
    const located = this.locateAt(request);
    if ('reason' in located) return located;
    if (located.setting.group !== request.group) return this.groupMismatch(request, located.setting);
    if (located.slot.cpu !== null && located.slot.cpu !== request.cpu) {
      return refuse('not-active', `INTID ${request.intid} is not active on CPU ${request.cpu}`);
    }
    const result = endSlot(located.slot, from);
    if (!result.ok) return refuse(result.reason, `EOI of INTID ${request.intid} on CPU ${request.cpu} (${located.slot.state}) by ${from}`);
    this.out.record({ event: 'gic-eoi', intid: request.intid, cpu: request.cpu, from, state: result.next });
    this.deliverOn(request.cpu);
    // An SPI pending again after EOI is routed afresh, maybe elsewhere.
    if (located.kind === 'spi') this.deliverOn(this.distributor.route(request.intid));
    return null;
  }

  subscribe(from: string, cpu: number, group: InterruptGroup): Outcome {
    const cpus = this.cpusAddressed(cpu);
    if (!cpus) return refuse('invalid-field', `CPU ${cpu} does not exist (${this.distributor.cpus} CPUs)`);
    const refusal = this.subscriptions.checkPhysical(from, cpus, group);
    if (refusal) return refusal;
    this.subscriptions.addPhysical(from, cpus, group);
    this.out.record({ event: 'gic-subscribe', cpu, group, from });
    for (const each of cpus) this.deliverOn(each);
    return null;
  }

  unsubscribe(from: string, cpu: number, group: InterruptGroup): Outcome {
    const cpus = this.cpusAddressed(cpu);
    if (!cpus) return refuse('invalid-field', `CPU ${cpu} does not exist (${this.distributor.cpus} CPUs)`);
    this.subscriptions.removePhysical(from, cpus, group);
    this.out.record({ event: 'gic-unsubscribe', cpu, group, from });
    for (const each of cpus) {
      for (const slot of this.slotsOn(each)) {
        if (this.distributor.setting(slot.intid, each).group !== group) continue;
        if (forgetRecipient(slot, from)) this.recordWithdraw(slot, each, 'unsubscribed');
      }
      this.deliverOn(each);
    }
    return null;
  }

  configure(from: string, request: ConfigureRequest): Outcome {
    const rights = this.subscriptions.rightsOf(from);
    if (!rights.configure) return refuse('no-right', `${from} may not configure interrupts`);
    const refusal = this.checkConfigure(request);
    if (refusal) return refusal;
    const addressed = this.distributor.settingsAddressed(request.intid, request.cpu);
    if (rights.world !== 'secure' && (request.group === 'secure' || addressed.some((s) => s.group === 'secure'))) {
      return refuse('secure-group', `${from} is non-secure: it may not configure secure-group INTID ${request.intid}`);
    }
    const groupsBefore = addressed.map((setting) => setting.group);
    this.distributor.configure(request.intid, request.cpu, request);
    this.out.record({ event: 'gic-configure', ...this.configureFields(request), from });
    this.withdrawIneligible(request.intid, addressed, groupsBefore);
    for (let cpu = 0; cpu < this.distributor.cpus; cpu++) this.deliverOn(cpu);
    return null;
  }

  /** The delivery pass of CPU `cpu`'s interface. */
  deliverOn(cpu: number): void {
    const views = this.slotsOn(cpu).map((slot) => this.viewOf(slot, cpu));
    for (const view of selectDeliveries(views)) this.deliver(view.slot, cpu);
    for (const view of views) assertSlotInvariants(view.slot, `CPU ${cpu}`);
  }

  private deliver(slot: InterruptSlot, cpu: number): void {
    const { group } = this.distributor.setting(slot.intid, cpu);
    const audience = this.subscriptions.physicalAudience(cpu, group);
    slot.deliveredTo = audience;
    slot.cpu = cpu;
    const frame: InterruptMessage = { kind: 'irq', op: 'deliver', intid: slot.intid, group, cpu, vm: -1, vcpu: -1 };
    for (const to of audience) {
      this.out.record({ event: 'gic-deliver', intid: slot.intid, cpu, group, from: slot.raisedBy, to, merges: slot.merges });
      this.out.send(to, frame);
    }
  }

  private viewOf(slot: InterruptSlot, cpu: number): TargetView {
    const setting = this.distributor.setting(slot.intid, cpu);
    return {
      slot,
      priority: setting.priority,
      enabled: setting.enabled,
      hasAudience: this.subscriptions.physicalAudience(cpu, setting.group).length > 0,
    };
  }

  /** Everything CPU `cpu`'s interface prioritises: its banked INTIDs and the SPIs routed, delivered or active there. */
  private slotsOn(cpu: number): InterruptSlot[] {
    const redistributor = this.redistributorOf(cpu);
    return [...redistributor.all(), ...this.distributor.spiSlotsFor(cpu)];
  }

  private redistributorOf(cpu: number): Redistributor {
    const redistributor = this.redistributors[cpu];
    if (!redistributor) throw new Error(`gic: no redistributor for CPU ${cpu}`);
    return redistributor;
  }

  private cpusAddressed(cpu: number): number[] | undefined {
    if (cpu !== ALL_CPUS && !this.isCpu(cpu)) return undefined;
    return this.subscriptions.cpusOf(cpu);
  }

  private isCpu(cpu: number): boolean {
    return Number.isInteger(cpu) && cpu >= 0 && cpu < this.distributor.cpus;
  }

  /** A raise names the target CPU of an SGI or PPI; an SPI is routed by the distributor, so cpu is -1. */
  private locateForRaise(request: PhysicalRequest): Located | Refusal {
    const kind = this.distributor.classify(request.intid);
    if (kind === undefined) return this.noSuchIntid(request.intid);
    if (kind === 'spi') {
      if (request.cpu !== -1) return refuse('invalid-field', `SPI ${request.intid} is routed by the distributor: raise it with cpu -1`);
      return { kind, slot: this.distributor.spiSlot(request.intid), setting: this.distributor.setting(request.intid, 0) };
    }
    return this.locateAt(request);
  }

  /** Acknowledge and EOI name the CPU the interrupt was delivered on, for every kind. */
  private locateAt(request: PhysicalRequest): Located | Refusal {
    const kind = this.distributor.classify(request.intid);
    if (kind === undefined) return this.noSuchIntid(request.intid);
    if (!this.isCpu(request.cpu)) return refuse('invalid-field', `CPU ${request.cpu} does not exist (${this.distributor.cpus} CPUs)`);
    const slot = kind === 'spi' ? this.distributor.spiSlot(request.intid) : this.redistributorOf(request.cpu).slot(request.intid);
    return { kind, slot, setting: this.distributor.setting(request.intid, request.cpu) };
  }

  private cpuOf(located: Located, requestCpu: number): number {
    return located.kind === 'spi' ? (located.slot.cpu ?? this.distributor.route(located.slot.intid)) : requestCpu;
  }

  private noSuchIntid(intid: number): Refusal {
    return refuse('invalid-field', `INTID ${intid} is not an SGI, PPI or one of the ${this.distributor.spis} SPIs`);
  }

  private checkGroup(from: string, request: PhysicalRequest, setting: IntidSetting): Outcome {
    if (setting.group !== request.group) return this.groupMismatch(request, setting);
    if (setting.group === 'secure' && this.subscriptions.rightsOf(from).world !== 'secure') {
      return refuse('secure-group', `${from} is non-secure: it may not raise secure-group INTID ${request.intid}`);
    }
    return null;
  }

  private groupMismatch(request: PhysicalRequest, setting: IntidSetting): Outcome {
    return refuse('group-mismatch', `INTID ${request.intid} is ${setting.group}, the frame says ${request.group}`);
  }

  private checkConfigure(request: ConfigureRequest): Outcome {
    const kind = this.distributor.classify(request.intid);
    if (kind === undefined) return this.noSuchIntid(request.intid);
    if (kind === 'spi' && request.cpu !== undefined) return refuse('invalid-field', `SPI ${request.intid} is not banked: use targetCpu`);
    if (kind !== 'spi' && request.targetCpu !== undefined) return refuse('invalid-field', `INTID ${request.intid} is banked: targetCpu applies to SPIs`);
    const cpu = request.cpu ?? request.targetCpu;
    if (cpu !== undefined && !this.isCpu(cpu)) return refuse('invalid-field', `CPU ${cpu} does not exist (${this.distributor.cpus} CPUs)`);
    return null;
  }

  private configureFields(request: ConfigureRequest): Record<string, unknown> {
    const fields: Record<string, unknown> = { intid: request.intid, cpu: request.cpu ?? 'all' };
    if (request.group !== undefined) fields['group'] = request.group;
    if (request.enabled !== undefined) fields['enabled'] = request.enabled;
    if (request.priority !== undefined) fields['priority'] = request.priority;
    if (request.targetCpu !== undefined) fields['targetCpu'] = request.targetCpu;
    return fields;
  }

  /**
   * A delivered interrupt that was disabled or moved to another group is withdrawn (the CPU
   * interface stops signalling it, IHI 0069 §4.1.2), and held until it is deliverable again.
   */
  private withdrawIneligible(intid: number, addressed: readonly IntidSetting[], groupsBefore: readonly InterruptGroup[]): void {
    for (let cpu = 0; cpu < this.distributor.cpus; cpu++) {
      const slot = isBanked(intid) ? this.redistributorOf(cpu).slot(intid) : this.distributor.spiSlot(intid);
      if (!isDelivered(slot) || slot.cpu !== cpu) continue;
      const setting = this.distributor.setting(intid, cpu);
      const index = addressed.indexOf(setting);
      if (index === -1) continue;
      const groupChanged = groupsBefore[index] !== setting.group;
      if (setting.enabled && !groupChanged) continue;
      withdrawSlot(slot);
      this.recordWithdraw(slot, cpu, setting.enabled ? 'group-changed' : 'disabled');
    }
  }

  private recordWithdraw(slot: InterruptSlot, cpu: number, reason: string): void {
    this.out.record({ event: 'gic-withdraw', intid: slot.intid, cpu, reason });
  }
}
