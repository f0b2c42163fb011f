/**
 * The GIC broker's one entry point: check the frame (the sim runtime hands frames over as sent;
 * the ws runtime has checked their types, not what they mean to a GIC), then one exhaustive switch
 * on the frame's kind and operation that hands off to small handlers. A refusal is recorded and
 * answered with a protocol-error frame; a frame never crashes the broker, only a broker bug does.
 *
 * Frames the broker takes (from = the runtime's name of the sender, never a field):
 * - irq raise / ack / eoi / subscribe / unsubscribe: physical when vm = vcpu = -1 (cpu names the
 *   CPU; -1 raises an SPI, or subscribes to every CPU), virtual when cpu = -1 (vm, vcpu name the
 *   vCPU; vcpu -1 subscribes to every vCPU of the VM). A subscription is per target and group,
 *   not per INTID (the INTID is ignored), as a CPU interface sees every interrupt of its group;
 * - lifecycle subject 'vm': vcpu-online [vm, vcpu, pcpu], vcpu-offline [vm, vcpu(, pcpu)], vm-destroyed [vm];
 * - lifecycle vm-assigned [vm], subject = a component name (configure right): that component
 *   receives the VM's virtual interrupts until vm-destroyed (a guest that registered);
 * - control gic-configure {intid, group?, enabled?, priority?, cpu?, targetCpu?};
 * - control gic-sync (any data): answered with control gic-synced (the same data when it is a
 *   primitive), after everything the sender sent before it has been handled.
 */
import {
  type ControlMessage,
  INTERRUPT_GROUPS,
  INTERRUPT_OPS,
  type InterruptGroup,
  type InterruptMessage,
  type LifecycleMessage,
  type Message,
  MESSAGE_KINDS,
} from '../../shared/protocol/messages.ts';
import type { Outlet } from './outlet.ts';
import type { ConfigureRequest, PhysicalInterrupts, PhysicalRequest } from './physical-interrupts.ts';
import { type Outcome, type Refusal, refuse } from './refusal.ts';
import { type Target, targetFields } from './targets.ts';
import { VIRTUAL_GROUP, type VirtualInterrupts, type VirtualRequest } from './virtual-interrupts.ts';
import { assertNever } from '../../shared/protocol/assert-never.ts';
import { type ControlOp, isOneOf, isSyncToken } from '../../shared/protocol/control.ts';

/** The control ops the broker takes (control.ts). */
const GIC_CONTROL_OPS = ['gic-configure', 'gic-sync'] as const satisfies readonly ControlOp[];

/** Bound on a protocol-error reason (the wire's reasonLength). */
const REASON_LENGTH_MAX = 1024;
/** Bound on a component name a vm-assigned names (the configs' name bound). */
const COMPONENT_NAME_MAX = 64;

/** What a refusal is about, for its record. */
interface Subject {
  readonly op: string;
  readonly intid?: number;
  readonly target?: Target;
  /** The call ID a refused call frame carried, so the caller can match the error; -1 otherwise. */
  readonly ref?: number;
}

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

function isGroup(value: unknown): value is InterruptGroup {
  return INTERRUPT_GROUPS.includes(value as InterruptGroup);
}

/** Physical or virtual, per messages.ts: physical frames carry vm = vcpu = -1, virtual ones cpu = -1. */
function addressOf(frame: InterruptMessage): Target | Refusal {
  const { cpu, vm, vcpu } = frame;
  if (!isInteger(cpu) || !isInteger(vm) || !isInteger(vcpu)) return refuse('invalid-field', 'cpu, vm and vcpu must be integers');
  if (vm === -1 && vcpu === -1 && cpu >= -1) return { kind: 'physical', cpu };
  if (cpu === -1 && vm >= 0 && vcpu >= -1) return { kind: 'virtual', vm, vcpu };
  return refuse('invalid-field', `cpu ${cpu}, vm ${vm}, vcpu ${vcpu}: a physical frame has vm = vcpu = -1, a virtual one cpu = -1`);
}

function checkIrqFields(frame: InterruptMessage): Outcome {
  if (!INTERRUPT_OPS.includes(frame.op)) return refuse('unexpected', `irq op ${String(frame.op)} is not one the GIC takes`);
  if (!isInteger(frame.intid) || frame.intid < 0) return refuse('invalid-field', `INTID ${String(frame.intid)} is not an INTID`);
  if (!isGroup(frame.group)) return refuse('invalid-field', `group ${String(frame.group)} is not secure or nonsecure`);
  return null;
}

function checkVirtualGroup(group: InterruptGroup): Outcome {
  return group === VIRTUAL_GROUP ? null : refuse('group-mismatch', `virtual interrupts of VMs are ${VIRTUAL_GROUP}, the frame says ${group}`);
}

/** gic-configure's data, or why it is not usable. */
function configureRequestOf(data: unknown): ConfigureRequest | Refusal {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return refuse('invalid-field', 'gic-configure data must be an object');
  const fields = data as Record<string, unknown>;
  const known = ['intid', 'group', 'enabled', 'priority', 'cpu', 'targetCpu'];
  const unknown = Object.keys(fields).filter((key) => !known.includes(key));
  if (unknown.length > 0) return refuse('invalid-field', `gic-configure: unknown field(s) ${unknown.join(', ')}`);
  const { intid, group, enabled, priority, cpu, targetCpu } = fields;
  if (!isInteger(intid)) return refuse('invalid-field', 'gic-configure: intid must be an integer');
  if (group !== undefined && !isGroup(group)) return refuse('invalid-field', 'gic-configure: group must be secure or nonsecure');
  if (enabled !== undefined && typeof enabled !== 'boolean') return refuse('invalid-field', 'gic-configure: enabled must be a boolean');
  if (priority !== undefined && !(isInteger(priority) && priority >= 0 && priority <= 0xff)) {
    return refuse('invalid-field', 'gic-configure: priority must be an integer in 0..255');
  }
  if (cpu !== undefined && !isInteger(cpu)) return refuse('invalid-field', 'gic-configure: cpu must be an integer');
  if (targetCpu !== undefined && !isInteger(targetCpu)) return refuse('invalid-field', 'gic-configure: targetCpu must be an integer');
  return { intid, group, enabled, priority, cpu, targetCpu };
}

function isRefusal(value: object): value is Refusal {
  return 'reason' in value && 'code' in value;
}

export class Dispatcher {
  constructor(
    private readonly physical: PhysicalInterrupts,
    private readonly virtual: VirtualInterrupts,
    private readonly out: Outlet,
  ) {}

  dispatch(from: string, message: Message): void {
    if (typeof message !== 'object' || message === null || !MESSAGE_KINDS.includes(message.kind)) {
      this.answer(from, { op: 'unknown' }, refuse('unexpected', 'the frame is not a message the runtime knows'));
      return;
    }
    switch (message.kind) {
      case 'irq':
        this.onIrq(from, message);
        return;
      case 'lifecycle':
        this.onLifecycle(from, message);
        return;
      case 'control':
        this.onControl(from, message);
        return;
      case 'protocol-error':
        // Never answered: two components answering each other's errors would loop.
        this.out.record({ event: 'gic-peer-error', from, code: message.code, reason: message.reason });
        return;
      case 'call':
      case 'return':
        this.answer(from, { op: message.kind, ref: message.id }, refuse('unexpected', `the GIC takes no FF-A ${message.kind}s`));
        return;
      default:
        assertNever(message, 'the GIC message switch');
    }
  }

  private onIrq(from: string, frame: InterruptMessage): void {
    const op = String(frame.op);
    const address = checkIrqFields(frame) ?? addressOf(frame);
    if (isRefusal(address)) {
      this.answer(from, { op, intid: frame.intid }, address);
      return;
    }
    this.answer(from, { op, intid: frame.intid, target: address }, this.handleIrq(from, frame, address));
  }

  private handleIrq(from: string, frame: InterruptMessage, target: Target): Outcome {
    switch (frame.op) {
      case 'raise':
        return this.onRaise(from, frame, target);
      case 'ack':
        return this.onAcknowledge(from, frame, target);
      case 'eoi':
        return this.onEnd(from, frame, target);
      case 'subscribe':
        return this.onSubscribe(from, frame.group, target);
      case 'unsubscribe':
        return this.onUnsubscribe(from, frame.group, target);
      case 'deliver':
        return refuse('unexpected', 'deliver frames come from the GIC, not to it');
      default:
        return assertNever(frame.op, 'the GIC irq switch');
    }
  }

  private onRaise(from: string, frame: InterruptMessage, target: Target): Outcome {
    if (target.kind === 'physical') return this.physical.raise(from, this.physicalRequest(frame, target.cpu));
    return checkVirtualGroup(frame.group) ?? this.virtual.raise(from, this.virtualRequest(frame, target));
  }

  private onAcknowledge(from: string, frame: InterruptMessage, target: Target): Outcome {
    if (target.kind === 'physical') return this.physical.acknowledge(from, this.physicalRequest(frame, target.cpu));
    return checkVirtualGroup(frame.group) ?? this.virtual.acknowledge(from, this.virtualRequest(frame, target));
  }

  private onEnd(from: string, frame: InterruptMessage, target: Target): Outcome {
    if (target.kind === 'physical') return this.physical.end(from, this.physicalRequest(frame, target.cpu));
    return checkVirtualGroup(frame.group) ?? this.virtual.end(from, this.virtualRequest(frame, target));
  }

  private onSubscribe(from: string, group: InterruptGroup, target: Target): Outcome {
    if (target.kind === 'physical') return this.physical.subscribe(from, target.cpu, group);
    return checkVirtualGroup(group) ?? this.virtual.subscribe(from, target.vm, target.vcpu);
  }

  private onUnsubscribe(from: string, group: InterruptGroup, target: Target): Outcome {
    if (target.kind === 'physical') return this.physical.unsubscribe(from, target.cpu, group);
    return checkVirtualGroup(group) ?? this.virtual.unsubscribe(from, target.vm, target.vcpu);
  }

  private physicalRequest(frame: InterruptMessage, cpu: number): PhysicalRequest {
    return { intid: frame.intid, group: frame.group, cpu };
  }

  private virtualRequest(frame: InterruptMessage, target: Target & { kind: 'virtual' }): VirtualRequest {
    return { intid: frame.intid, vm: target.vm, vcpu: target.vcpu };
  }

  private onLifecycle(from: string, message: LifecycleMessage): void {
    const subject: Subject = { op: `lifecycle:${String(message.event)}` };
    this.answer(from, subject, this.handleLifecycle(from, message));
  }

  private handleLifecycle(from: string, message: LifecycleMessage): Outcome {
    if (message.event === 'vm-assigned') return this.onAssigned(from, message);
    if (message.subject !== 'vm') return refuse('unexpected', `lifecycle subject ${String(message.subject)}: the GIC follows only 'vm'`);
    const args = Array.isArray(message.args) ? message.args : [];
    if (!args.every(isInteger)) return refuse('invalid-field', 'lifecycle args must be integers');
    const [vm = -1, vcpu = -1, pcpu = -1] = args;
    switch (message.event) {
      case 'vcpu-online':
        if (args.length !== 3) return refuse('invalid-field', 'vcpu-online args are [vm, vcpu, pcpu]');
        return this.virtual.online(from, vm, vcpu, pcpu);
      case 'vcpu-offline':
        if (args.length !== 2 && args.length !== 3) return refuse('invalid-field', 'vcpu-offline args are [vm, vcpu] or [vm, vcpu, pcpu]');
        return this.virtual.offline(from, vm, vcpu);
      case 'vm-destroyed':
        if (args.length !== 1) return refuse('invalid-field', 'vm-destroyed args are [vm]');
        return this.virtual.destroyed(from, vm);
      default:
        return refuse('unexpected', `lifecycle event ${String(message.event)} is not one the GIC follows`);
    }
  }

  /** vm-assigned: the subject is the component the VM is assigned to, args [vm]. */
  private onAssigned(from: string, message: LifecycleMessage): Outcome {
    const { subject, args } = message;
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > COMPONENT_NAME_MAX) {
      return refuse('invalid-field', `vm-assigned subject must be a component name of 1..${COMPONENT_NAME_MAX} characters`);
    }
    if (!Array.isArray(args) || args.length !== 1 || !isInteger(args[0])) return refuse('invalid-field', 'vm-assigned args are [vm]');
    return this.virtual.assign(from, subject, args[0]);
  }

  private onControl(from: string, message: ControlMessage): void {
    const { op } = message;
    if (!isOneOf(GIC_CONTROL_OPS, op)) {
      this.answer(from, { op: `control:${String(op)}` }, refuse('unexpected', `control op ${String(op)} is not one the GIC takes`));
      return;
    }
    switch (op) {
      case 'gic-configure': {
        const request = configureRequestOf(message.data);
        const subject: Subject = { op: 'control:gic-configure', ...(isRefusal(request) ? {} : { intid: request.intid }) };
        this.answer(from, subject, isRefusal(request) ? request : this.physical.configure(from, request));
        return;
      }
      case 'gic-sync': {
        const { data } = message;
        this.out.send(from, { kind: 'control', op: 'gic-synced', data: isSyncToken(data) ? data : null });
        return;
      }
      default:
        assertNever(op, 'the GIC control switch');
    }
  }

  /** Record a refusal (or a drop) and tell the sender; nothing to do when the outcome is done. */
  private answer(from: string, subject: Subject, outcome: Outcome): void {
    if (outcome === null) return;
    const event = outcome.reason === 'held-queue-full' ? 'gic-drop' : 'gic-refused';
    this.out.record({
      event,
      reason: outcome.reason,
      code: outcome.code,
      op: subject.op,
      ...(subject.intid !== undefined ? { intid: subject.intid } : {}),
      ...(subject.target ? targetFields(subject.target) : {}),
      from,
      detail: outcome.detail,
    });
    const reason = `${outcome.reason}: ${outcome.detail}`.slice(0, REASON_LENGTH_MAX);
    this.out.send(from, { kind: 'protocol-error', code: outcome.code, reason, ref: subject.ref ?? -1 });
  }
}
