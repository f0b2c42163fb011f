/**
 * The control plane, declared once: every control op a component sends (messages.ts
 * ControlMessage), with the shape of its data, and beside it the shape of its answer
 * (`<op>-result`, or the GIC's gic-synced) where it has one. Senders are typed against this
 * table (ComponentContext.send takes a SentMessage), and each service's control dispatcher
 * switches over its own ops of CONTROL_OPS, so a renamed op or a changed data shape fails `tsc`
 * at both ends.
 *
 * This is compile-time typing only: the wire checks a control frame's op is a bounded string and
 * its data plain data (shared/wire/validate.ts), and the receiver still narrows the op against
 * CONTROL_OPS and checks the data itself, since a peer process may run another build.
 */
import type { BufferContent, BufferWrite } from '../ffa/buffer-content.ts';
import type { RegisterFile } from '../ffa/registers.ts';
import type { InterruptGroup } from './messages.ts';
import type { RecordData } from './records.ts';
import { listOfEvery } from './union-list.ts';

/** A gic-sync token: a primitive is echoed in gic-synced, anything else comes back as null. */
export type SyncToken = null | number | string | boolean;

export function isSyncToken(value: unknown): value is SyncToken {
  return value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean';
}

/** The answer of a barrier (hypervisor-sync, spmc-sync): false when too many were already waiting. */
export interface SyncAnswer {
  ok: boolean;
}

/** A refused control op's answer (the guest answers every refusal; the label lets a waiter match it). */
export interface ControlRefusal {
  ok: false;
  why: string;
  label?: string;
}

/** A hypervisor life-cycle request's answer: ok, or why not, with the request's fields (name, id, …). */
export type LifecycleAnswer = { readonly ok: boolean; readonly reason: string | null } & Readonly<Record<string, string | number | boolean | null>>;

/** The bare-metal guest's answer to its own CPU hotplug (services/guest/guest.ts). */
export interface HotplugAnswer {
  ok: true;
  vcpu: number;
  online: boolean;
}

/** What the hypervisor tells a controller about itself (services/hypervisor/hypervisor.ts status). */
export interface HypervisorStatus {
  firmware: string;
  notifications: boolean;
  sriIntid: number | null;
  sriTaken: number;
  sriLoopsCompleted: number;
  sriLoopRunning: boolean;
  lifecycleQueued: number;
  lifecycleBusy: boolean;
  pendingGuestCalls: number;
  vms: {
    name: string;
    id: number;
    state: string;
    securePending: boolean;
    online: number[];
    /** What an orchestrator needs to find and dial a registered guest; url and driver are null for VMs from config or controllers. */
    component: string;
    vcpus: number;
    url: string | null;
    driver: string | null;
    /** The machine a registered guest said it runs on; null when it said none. */
    host: string | null;
  }[];
}

/** A register value in control data: a bigint, a safe integer or a "0x…" string. */
export type RegisterValue = bigint | number | string;

/** The notifier API's answer (services/guest/controls.ts): the errno and the request's fields. */
export interface NotifierAnswer {
  ok: true;
  op: 'notify-request' | 'notify-relinquish' | 'notify-send' | 'sched-recv-register';
  result: number;
  errno: string;
  sender?: number;
  receiver?: number;
  partition?: number;
  id?: number;
  perVcpu?: boolean;
  targetVcpu?: number;
  vcpu?: number;
}

/** A raw call's answer: what the call returned (regs empty when it never did). */
export interface RawCallAnswer {
  ok: true;
  label: string;
  vcpu: number;
  result: string;
  regs: RegisterFile | [];
  /** What the call wrote into the caller's RX buffer (shared/ffa/buffer-content.ts), or null. */
  memory: BufferWrite | null;
}

/** What `world.component` does to the component behind the node (shared/runtime/ws/world-channel.ts). */
export type WorldComponentOp = 'crash' | 'restart' | 'stall' | 'resume';

/** Every control op, with its data. */
export interface ControlOps {
  // ---- The GIC broker (services/gic/dispatcher.ts).
  /** Configure an INTID (group, enable, priority, routing); a refusal comes back as a protocol error. */
  'gic-configure': { intid: number; group?: InterruptGroup; enabled?: boolean; priority?: number; cpu?: number; targetCpu?: number };
  /** A barrier: answered once the GIC has handled everything the sender sent before it. */
  'gic-sync': SyncToken;
  'gic-synced': SyncToken;

  // ---- A component's barrier towards the GIC (shared/runtime/gic-sync-barrier.ts); the data is not read.
  /** The hypervisor's injections so far have reached the GIC. */
  'hypervisor-sync': null;
  'hypervisor-sync-result': SyncAnswer;
  /** The SPMC's SRIs so far have reached the GIC. */
  'spmc-sync': null;
  'spmc-sync-result': SyncAnswer;

  // ---- The hypervisor's life-cycle requests from its controllers (services/hypervisor/vm-lifecycle.ts).
  /** Create a VM: id defaults to the lowest free one, component to name, pcpus to vCPU i on CPU i mod cpus. */
  'vm-create': { name: string; id?: number; vcpus: number; component?: string; pcpus?: number[] };
  'vm-create-result': LifecycleAnswer;
  'vm-destroy': { name: string };
  'vm-destroy-result': LifecycleAnswer;
  'vm-reboot': { name: string };
  'vm-reboot-result': LifecycleAnswer;
  /** A vCPU online: at the hypervisor `vm` names the VM; the bare-metal guest takes its own vCPU's hotplug. */
  'vcpu-online': { vm?: string; vcpu: number; pcpu?: number | null };
  'vcpu-online-result': LifecycleAnswer | HotplugAnswer | ControlRefusal;
  'vcpu-offline': { vm?: string; vcpu: number };
  'vcpu-offline-result': LifecycleAnswer | HotplugAnswer | ControlRefusal;
  /** What the hypervisor holds (the data, a poller's label at most, is not read). */
  'hypervisor-status': null | string;
  'hypervisor-status-result': HypervisorStatus;

  // ---- A guest's registration with the hypervisor (services/hypervisor/registration.ts).
  'register': { vcpus: number; url: string | null; driver: string | null; host?: string | null };
  'register-result': { ok: boolean; reason: string | null; name: string; id: number | null };

  // ---- The guest's controls (services/guest/controls.ts); vcpu is the vCPU that runs the op (default 0).
  'notify-request': { sender: number; id: number; perVcpu?: boolean; vcpu?: number };
  'notify-request-result': NotifierAnswer | ControlRefusal;
  'notify-relinquish': { sender: number; id: number; vcpu?: number };
  'notify-relinquish-result': NotifierAnswer | ControlRefusal;
  'notify-send': { receiver: number; id: number; perVcpu?: boolean; targetVcpu?: number; vcpu?: number };
  'notify-send-result': NotifierAnswer | ControlRefusal;
  'sched-recv-register': { partition: number; vcpu?: number };
  'sched-recv-register-result': NotifierAnswer | ControlRefusal;
  /** A raw FF-A call: the registers, or an ABI of shared/ffa with named args. */
  /** `tx`: what the caller's TX buffer holds for the call (a BufferContent of shared/ffa/buffer-content.ts). */
  'call': ({ regs: RegisterValue[] } | { abi: string; args?: Record<string, unknown> }) & { tx?: BufferContent; vcpu?: number; label?: string };
  'call-result': RawCallAnswer | ControlRefusal;
  /** A guest's milestone to its observers: the record it made, and which guest. */
  'guest-event': RecordData & { guest: string };

  // ---- The SPMC's SPs, driven by a workload (services/spmc/sp-behaviours.ts); no answer, a record says what happened.
  /** OP-TEE's notif_send_async(NOTIF_VALUE_DO_BOTTOM_HALF, vm) on `cpu`. */
  'optee-notif-send': { vm: number; cpu?: number };
  /** A notifier SP sets `bitmap` for `receiver` on `cpu`. */
  'notifier-set': { sp: number; receiver: number; bitmap: RegisterValue; cpu?: number };

  // ---- The world channel between an attached orchestrator and each component's node (shared/runtime/ws/world-channel.ts).
  'world.subscribe': Record<string, never>;
  /** The node's clock base (a bigint's decimal digits) and how many history lines it is about to send. */
  'world.clock': { name: string; baseNs: string; backlog: number };
  /** History lines as text parts, and how many lines the backlog's bound dropped. */
  'world.history': { parts: string[]; lost: number };
  /** Fault rules (JSON text parts) to install and rule IDs to remove. */
  'world.faults': { ref: number; rules: string[]; remove: string[] };
  'world.component': { ref: number; op: WorldComponentOp; detail: string };
  'world.ack': { ref: number; ok: boolean; reason: string | null };

  // ---- A link's clock exchange, answered by the node (shared/runtime/ws/link-clocks.ts): absolute
  // monotonic ns as decimal strings, and the kernel's boot ID (null where unknown).
  'link.clock-probe': { t1: string; boot: string | null };
  'link.clock-reply': { t1: string; t2: string; t3: string; boot: string | null };

  // ---- Test support (services/gic/test-support/irq-actor.ts, shared/runtime/ws/test-support/flooder.ts).
  /** One test actor tells another it reached a point of its script. */
  'actor-signal': string;
  /** A flooder's filler message. */
  'flood': { i: number; payload: string };
}

export type ControlOp = keyof ControlOps;
export type ControlData<Op extends ControlOp> = ControlOps[Op];

/** Every op, for the checks that narrow a received op. */
export const CONTROL_OPS = listOfEvery<ControlOp>()([
  'gic-configure',
  'gic-sync',
  'gic-synced',
  'hypervisor-sync',
  'hypervisor-sync-result',
  'spmc-sync',
  'spmc-sync-result',
  'vm-create',
  'vm-create-result',
  'vm-destroy',
  'vm-destroy-result',
  'vm-reboot',
  'vm-reboot-result',
  'vcpu-online',
  'vcpu-online-result',
  'vcpu-offline',
  'vcpu-offline-result',
  'hypervisor-status',
  'hypervisor-status-result',
  'register',
  'register-result',
  'notify-request',
  'notify-request-result',
  'notify-relinquish',
  'notify-relinquish-result',
  'notify-send',
  'notify-send-result',
  'sched-recv-register',
  'sched-recv-register-result',
  'call',
  'call-result',
  'guest-event',
  'optee-notif-send',
  'notifier-set',
  'world.subscribe',
  'world.clock',
  'world.history',
  'world.faults',
  'world.component',
  'world.ack',
  'link.clock-probe',
  'link.clock-reply',
  'actor-signal',
  'flood',
]);

export function isControlOp(op: string): op is ControlOp {
  return (CONTROL_OPS as readonly string[]).includes(op);
}

/** A received op as a ControlOp, or null when this build declares no such op: comparisons with it are then checked names. */
export function knownControlOp(op: string): ControlOp | null {
  return isControlOp(op) ? op : null;
}

/** Whether `op` is one of `ops` (a service's own ops), narrowing it. */
export function isOneOf<Op extends ControlOp>(ops: readonly Op[], op: string): op is Op {
  return (ops as readonly string[]).includes(op);
}

declare const answerToAnyOp: unique symbol;
/** The answer op for a refused op this build may not declare (`<op>-result`); made only by answerOpOf. */
export type RefusalAnswerOp = `${string}-result` & { readonly [answerToAnyOp]: true };

/** `<op>-result`, for answering a refusal of whatever op arrived. */
export function answerOpOf(op: string): RefusalAnswerOp {
  return `${op}-result` as RefusalAnswerOp;
}

/** An op and its data, as one value: the union over every op (a refusal's answer included). */
export type ControlRequest = { [Op in ControlOp]: { op: Op; data: ControlData<Op> } }[ControlOp] | { op: RefusalAnswerOp; data: ControlRefusal };

/** A control message as a component sends it. */
export type SentControlMessage = { kind: 'control' } & ControlRequest;

/** The ops answered with `<op>-result`. */
export type AnsweredOp = { [Op in ControlOp]: `${Op}-result` extends ControlOp ? Op : never }[ControlOp];
export type AnswerOf<Op extends AnsweredOp> = ControlData<`${Op}-result`>;

/** The `<op>-result` answer to `op`. */
export function answerMessage<Op extends AnsweredOp>(op: Op, data: AnswerOf<Op>): SentControlMessage {
  return controlMessageOf({ op: `${op}-result`, data } as ControlRequest);
}

/** An op a controller may wait for: a declared op, or the refusal answer to one (`<op>-result`). */
export type AwaitedOp = ControlOp | `${ControlOp}-result`;

/** The ops whose data may be a string (a poller sends its label). */
export type LabelDataOp = { [Op in ControlOp]: string extends ControlData<Op> ? Op : never }[ControlOp];

/**
 * The message of a request held as a value, maybe among other fields (a test step): its op and
 * data only, so nothing else reaches the wire. The one place the message is built from an op and
 * data whose pairing TypeScript cannot follow once they are read apart.
 */
export function controlMessageOf(request: ControlRequest): SentControlMessage {
  return { kind: 'control', op: request.op, data: request.data } as SentControlMessage;
}

/** An op and its data as a ControlRequest, for an op whose name is a type parameter (a generic sender). */
export function controlRequest<Op extends ControlOp>(op: Op, data: ControlData<Op>): ControlRequest {
  return { op, data } as ControlRequest;
}

/** The message of an op whose name is a type parameter. */
export function controlMessage<Op extends ControlOp>(op: Op, data: ControlData<Op>): SentControlMessage {
  return controlMessageOf(controlRequest(op, data));
}
