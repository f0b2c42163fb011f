/**
 * Hand-made histories for the checkers' tests: the events a run would record, written directly
 * (calls and returns as send + deliver pairs, interrupt frames, records), and small edits of real
 * histories (what a buggy component would have done instead).
 */
import type { RegisterFile } from '../../../../shared/ffa/registers.ts';
import type { HistoryEntry, HistoryEvent } from '../../../../shared/runtime/history.ts';
import type { CallMessage, Conduit, InterruptMessage } from '../../../../shared/protocol/messages.ts';
import type { RecordData } from '../../../../shared/protocol/records.ts';
import type { WorldModel } from '../../scenario/types.ts';

export interface CallOptions {
  conduit?: Conduit;
  endpoint?: number;
  vcpu?: number;
  cpu?: number;
}

export class HistoryBuilder {
  readonly entries: HistoryEntry[] = [];
  private nextId = 1;
  private now = 0;

  private push(event: HistoryEvent): HistoryEntry {
    this.now += 1000;
    const entry: HistoryEntry = { seq: this.entries.length, t: this.now, event };
    this.entries.push(entry);
    return entry;
  }

  /** Time passes with nothing recorded (each event is otherwise 1 µs after the one before). */
  wait(ns: number): void {
    this.now += ns;
  }

  record(component: string, data: RecordData): HistoryEntry {
    return this.push({ type: 'record', component, data });
  }

  /** A call sent and delivered; returns its id. */
  call(from: string, to: string, regs: RegisterFile, options: CallOptions = {}): number {
    const id = this.nextId++;
    const message: CallMessage = { kind: 'call', id, conduit: options.conduit ?? 'hvc', endpoint: options.endpoint ?? 0, vcpu: options.vcpu ?? 0, cpu: options.cpu ?? 0, regs, memory: null };
    this.push({ type: 'send', from, to, message });
    this.push({ type: 'deliver', from, to, message });
    return id;
  }

  /** The callee's answer to call `id`, sent and delivered. */
  answer(callee: string, caller: string, id: number, regs: RegisterFile): void {
    this.push({ type: 'send', from: callee, to: caller, message: { kind: 'return', id, regs, memory: null } });
    this.push({ type: 'deliver', from: callee, to: caller, message: { kind: 'return', id, regs, memory: null } });
  }

  /** The callee's answer to call `id`, dropped by a fault as it left the callee. */
  dropAnswer(callee: string, caller: string, id: number, regs: RegisterFile, rule = 'drop-answer'): void {
    this.push({ type: 'fault', rule, action: 'drop', from: callee, to: caller, message: { kind: 'return', id, regs, memory: null } });
  }

  roundTrip(caller: string, callee: string, regs: RegisterFile, answer: RegisterFile, options: CallOptions = {}): void {
    this.answer(callee, caller, this.call(caller, callee, regs, options), answer);
  }

  /**
   * A guest's call mediated down a path (e.g. vm1 → hypervisor → spmd → spmc: an HVC, then SMCs),
   * and the answer back up it, hop by hop.
   */
  mediated(path: readonly string[], regs: RegisterFile, answer: RegisterFile): void {
    const ids = path.slice(1).map((to, hop) => this.call(path[hop] as string, to, regs, hop === 0 ? {} : { conduit: 'smc' }));
    for (let hop = ids.length - 1; hop >= 0; hop--) this.answer(path[hop + 1] as string, path[hop] as string, ids[hop] as number, answer);
  }

  /** An interrupt frame sent and delivered (after `heldNs` more in flight); returns the delivery. */
  irq(from: string, to: string, frame: Omit<InterruptMessage, 'kind'>, heldNs = 0): HistoryEntry {
    const message: InterruptMessage = { kind: 'irq', ...frame };
    this.push({ type: 'send', from, to, message });
    this.wait(heldNs);
    return this.push({ type: 'deliver', from, to, message });
  }

  /** A control message sent and delivered; returns the delivery. */
  control(from: string, to: string, op: string, data: Record<string, unknown>): HistoryEntry {
    this.push({ type: 'send', from, to, message: { kind: 'control', op, data } });
    return this.push({ type: 'deliver', from, to, message: { kind: 'control', op, data } });
  }
}

/** A model for hand-made histories: vm1 (ID 1) and vm2 (ID 2) under Xen, OP-TEE as SPMC. */
export function syntheticModel(overrides: Partial<WorldModel> = {}): WorldModel {
  return {
    gic: 'gic',
    spmd: 'spmd',
    spmc: 'spmc',
    hypervisor: 'hypervisor',
    orchestrator: 'orchestrator',
    guests: [
      { component: 'vm1', vmId: 1, vcpus: 2, driver: 'linux-6.10' },
      { component: 'vm2', vmId: 2, vcpus: 2, driver: 'linux-6.10' },
    ],
    spIds: [0x8001],
    spmcProfile: 'optee',
    hypervisorProfile: 'xen',
    lastFaultHealNs: null,
    livenessBoundNs: 1_000_000,
    ...overrides,
  };
}

/** A copy of `entries` with the return registers of the first matching return send/deliver replaced. */
export function withReturnRegs(entries: readonly HistoryEntry[], from: string, to: string, id: number, edit: (regs: RegisterFile) => RegisterFile): HistoryEntry[] {
  return entries.map((entry) => {
    const { event } = entry;
    if ((event.type !== 'send' && event.type !== 'deliver') || event.from !== from || event.to !== to) return entry;
    if (event.message.kind !== 'return' || event.message.id !== id) return entry;
    return { ...entry, event: { ...event, message: { ...event.message, regs: edit([...event.message.regs]) } } };
  });
}
