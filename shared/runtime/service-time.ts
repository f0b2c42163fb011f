/**
 * Service times under the sim runtime (docs/load-and-benchmarks.md "Protocol capacity"): each
 * handler occupies the processor it runs on for a while, so work that contends for one processor
 * queues as it would on hardware, and a world's capacity is the protocol's, not the host's.
 *
 * - The processor: a platform component (hypervisor at EL2, SPMD at EL3, SPMC at S-EL1/S-EL2) runs
 *   on the physical CPU of the call or interrupt it handles, and a guest's vCPU on the physical CPU
 *   it is pinned to (the world's placement), so a guest's handler, Xen's INFO_GET and the SPMC's
 *   answer all take turns on one CPU. The GIC broker is one distributor. The orchestrator and test
 *   components stand for the world outside and take no time.
 * - The time: a table per role, by ABI for calls, by operation for interrupt frames and control
 *   messages, with a default for the rest. A table is data (ServiceTimeTable); named tables with
 *   the source of each figure live with the scenario format (services/orchestrator/scenario).
 * - What it does not model: a call chain does not hold its CPU while it waits for the answer
 *   (each hop is its own slot), and caches, frequency and preemption at EL3/S-EL1 are left out.
 */
import { abiNameOf } from '../ffa/function-ids.ts';
import type { Envelope, Message } from '../protocol/messages.ts';
import type { Role } from '../protocol/roles.ts';

/** One role's service times, in ns. */
export interface RoleServiceTimes {
  /** A call handled, by ABI name (FFA_NOTIFICATION_GET…); calls not listed take `call`. */
  calls?: Readonly<Record<string, number>>;
  call?: number;
  /** A return taken back by the caller. */
  return?: number;
  /** An interrupt frame handled, by operation (raise, deliver, ack, eoi…); others take `irq`. */
  irqs?: Readonly<Record<string, number>>;
  irq?: number;
  /** A control message handled, by op (optee-notif-send…); others take `control`. */
  controls?: Readonly<Record<string, number>>;
  control?: number;
}

/** A named table: each role's times. Roles not listed take no time. */
export interface ServiceTimeTable {
  name: string;
  roles: Partial<Readonly<Record<Role, RoleServiceTimes>>>;
}

/** A world's service times: the table, and the physical CPU each guest vCPU is pinned to. */
export interface ServiceTimeSpec {
  table: ServiceTimeTable;
  /** Guest component → physical CPU of each vCPU (index = vCPU). */
  vcpuPlacement: Readonly<Record<string, readonly number[]>>;
}

/** Where a handler runs and for how long; null: it takes no time. */
export interface ServiceSlot {
  processor: string;
  ns: number;
}

/** Calls in flight remembered for their returns' processor (each vCPU has at most a few in flight). */
const CALLS_REMEMBERED_MAX = 100_000;

/** The processor and time of a message's handling at `to`, given the calls in flight. */
export class ServiceTimeModel {
  /** The CPU (platform) or vCPU (guest) of each call in flight, by `${caller}#${id}`, so its return is handled there too. */
  private readonly callPlaces = new Map<string, { cpu: number; vcpu: number }>();

  private readonly table: ServiceTimeTable;

  constructor(
    private readonly spec: ServiceTimeSpec,
    private readonly roles: ReadonlyMap<string, Role>,
  ) {
    this.table = spec.table;
  }

  /** Called for every envelope handed to the network, before `slotOf` for its delivery. */
  noteSent(envelope: Envelope): void {
    const { message } = envelope;
    if (message.kind !== 'call') return;
    // Bounded: a call whose return a fault dropped is forgotten, oldest first.
    if (this.callPlaces.size >= CALLS_REMEMBERED_MAX) this.callPlaces.delete(this.callPlaces.keys().next().value as string);
    this.callPlaces.set(`${envelope.from}#${message.id}`, { cpu: message.cpu, vcpu: message.vcpu });
  }

  slotOf(envelope: Envelope): ServiceSlot | null {
    const role = this.roles.get(envelope.to);
    const times = role ? this.table.roles[role] : undefined;
    if (!role || !times) return null;
    const ns = this.timeOf(times, envelope.message);
    if (!(ns > 0)) return null;
    const processor = this.processorOf(role, envelope);
    return processor === null ? null : { processor, ns };
  }

  private timeOf(times: RoleServiceTimes, message: Message): number {
    switch (message.kind) {
      case 'call': {
        const abi = abiNameOf(Number(message.regs[0] ?? 0n));
        return (abi == null ? undefined : times.calls?.[abi]) ?? times.call ?? 0;
      }
      case 'return':
        return times.return ?? 0;
      case 'irq':
        return times.irqs?.[message.op] ?? times.irq ?? 0;
      case 'control':
        return times.controls?.[message.op] ?? times.control ?? 0;
      case 'lifecycle':
      case 'protocol-error':
        return 0;
    }
  }

  private processorOf(role: Role, envelope: Envelope): string | null {
    const place = this.placeOf(envelope);
    switch (role) {
      case 'guest':
        return `cpu${this.spec.vcpuPlacement[envelope.to]?.[place.vcpu] ?? 0}`;
      case 'gic':
        return 'gic';
      case 'hypervisor':
      case 'spmd':
      case 'spmc':
        return `cpu${Math.max(0, place.cpu)}`;
      case 'orchestrator':
      case 'test':
        return null;
    }
  }

  /** The CPU and vCPU a message is handled on: its own fields, its call's for a return, CPU 0 otherwise. */
  private placeOf({ to, message }: Envelope): { cpu: number; vcpu: number } {
    switch (message.kind) {
      case 'call':
        return { cpu: message.cpu, vcpu: message.vcpu };
      case 'return': {
        const key = `${to}#${message.id}`;
        const place = this.callPlaces.get(key);
        this.callPlaces.delete(key);
        return place ?? { cpu: 0, vcpu: 0 };
      }
      case 'irq':
        return { cpu: message.cpu, vcpu: message.vcpu };
      case 'control': {
        const data = message.data as { cpu?: unknown } | null;
        const cpu = typeof data?.cpu === 'number' && Number.isInteger(data.cpu) ? data.cpu : 0;
        return { cpu, vcpu: 0 };
      }
      case 'lifecycle':
      case 'protocol-error':
        return { cpu: 0, vcpu: 0 };
    }
  }
}

/** Each processor's queue: a handler starts when its processor is free, and holds it for its time. */
export class ProcessorQueues {
  private readonly busyUntilNs = new Map<string, number>();
  /** Total busy time per processor (utilisation = busy / elapsed). */
  readonly busyNs = new Map<string, number>();

  /** When a handler that became ready at `readyNs` starts, and until when it holds its processor. */
  take(slot: ServiceSlot, readyNs: number): { startNs: number; endNs: number } {
    const startNs = Math.max(readyNs, this.busyUntilNs.get(slot.processor) ?? 0);
    const endNs = startNs + slot.ns;
    this.busyUntilNs.set(slot.processor, endNs);
    this.busyNs.set(slot.processor, (this.busyNs.get(slot.processor) ?? 0) + slot.ns);
    return { startNs, endNs };
  }
}
