/**
 * The messages components exchange, declared once for both runtimes (docs/design.md §4).
 *
 * Every message kind has a fixed set of keys (no optional keys): the ws runtime's msgpackr
 * structure table (shared/wire/structures.ts) lists exactly these key sets, so a frame of a
 * known kind never carries a record definition that a later frame depends on.
 */

import type { BufferWrite } from '../ffa/buffer-content.ts';
import { REGISTER_COUNT, type RegisterFile } from '../ffa/registers.ts';
import type { SentControlMessage } from './control.ts';

export { REGISTER_COUNT, type BufferWrite, type RegisterFile };

/** The conduit a call arrived on: SMC to EL3, HVC to EL2, or an in-world relay (SPMC to an SP). */
export type Conduit = 'smc' | 'hvc' | 'relay';
export const CONDUITS: readonly Conduit[] = ['smc', 'hvc', 'relay'];

/**
 * An FF-A call: the register file the caller left, plus who is calling. The vCPU and physical
 * CPU matter for per-vCPU notifications, "raise the SRI on the current CPU" and GET's vCPU field.
 */
export interface CallMessage {
  kind: 'call';
  /** Correlation ID, unique per caller component while the call is in flight. */
  id: number;
  conduit: Conduit;
  /** FF-A endpoint ID of the caller (16 bits). */
  endpoint: number;
  /** The caller's vCPU index. */
  vcpu: number;
  /** The physical CPU the caller runs on. */
  cpu: number;
  regs: RegisterFile;
  /**
   * The caller's TX buffer as the callee reads it (an indirect message, a forwarded FFA_RXTX_MAP's
   * descriptor), or null: buffers are memory the callee has mapped, kept as data
   * (shared/ffa/buffer-content.ts).
   */
  memory: BufferWrite | null;
}

/** The register file the callee left, for the call with the same `id`. */
export interface ReturnMessage {
  kind: 'return';
  id: number;
  regs: RegisterFile;
  /** What the callee (or one it called) wrote into an RX buffer on the caller's side during the call, or null. */
  memory: BufferWrite | null;
}

/** GIC interrupt groups (GICv3: group 0 / secure group 1 are "secure", NS group 1 "nonsecure"). */
export type InterruptGroup = 'secure' | 'nonsecure';
export const INTERRUPT_GROUPS: readonly InterruptGroup[] = ['secure', 'nonsecure'];

/**
 * Interrupt life-cycle operations. `raise` goes to the GIC broker; `deliver` comes from it; `ack`
 * and `eoi` go back to it. Subscriptions say which deliveries a component may see.
 */
export type InterruptOp = 'raise' | 'deliver' | 'ack' | 'eoi' | 'subscribe' | 'unsubscribe';
export const INTERRUPT_OPS: readonly InterruptOp[] = [
  'raise',
  'deliver',
  'ack',
  'eoi',
  'subscribe',
  'unsubscribe',
];

/**
 * An interrupt frame. Physical interrupts name a physical CPU and use vm = -1, vcpu = -1;
 * virtual interrupts name the VM (FF-A ID) and vCPU and use cpu = -1.
 */
export interface InterruptMessage {
  kind: 'irq';
  op: InterruptOp;
  intid: number;
  group: InterruptGroup;
  cpu: number;
  vm: number;
  vcpu: number;
}

/** Component and world life-cycle events (a VM created, a vCPU offline, a component restarting). */
export interface LifecycleMessage {
  kind: 'lifecycle';
  event: string;
  subject: string;
  /** Event-specific numbers (e.g. a VM's ID and vCPU count); validated by the receiver. */
  args: number[];
}

/**
 * Orchestrator ↔ component control (start a workload, report state, shut down), as it arrives:
 * the wire checks only that op is a bounded string and data plain data, so the receiver narrows
 * op against control.ts's CONTROL_OPS and checks the data itself. A component sends the typed
 * form, SentControlMessage (control.ts).
 */
export interface ControlMessage {
  kind: 'control';
  op: string;
  /** Operation-specific data; msgpack-able, validated by the receiver. */
  data: unknown;
}

/** A frame that could not be used. `ref` is the offending call ID, or -1. */
export interface ProtocolErrorMessage {
  kind: 'protocol-error';
  code: ProtocolErrorCode;
  reason: string;
  ref: number;
}

export type ProtocolErrorCode =
  | 'MALFORMED_FRAME'
  | 'UNKNOWN_KIND'
  | 'INVALID_FIELD'
  | 'NOT_ALLOWED'
  | 'UNKNOWN_DESTINATION'
  | 'QUEUE_FULL'
  | 'TOO_MANY_IN_FLIGHT'
  | 'HELLO_REQUIRED'
  | 'HELLO_REFUSED';

export type Message =
  | CallMessage
  | ReturnMessage
  | InterruptMessage
  | LifecycleMessage
  | ControlMessage
  | ProtocolErrorMessage;

/** What a component sends: any message, with a control message's op and data typed by control.ts. */
export type SentMessage = Exclude<Message, ControlMessage> | SentControlMessage;

export type MessageKind = Message['kind'];
export const MESSAGE_KINDS: readonly MessageKind[] = [
  'call',
  'return',
  'irq',
  'lifecycle',
  'control',
  'protocol-error',
];

/** A message in transit between two named components. */
export interface Envelope {
  from: string;
  to: string;
  message: Message;
}
