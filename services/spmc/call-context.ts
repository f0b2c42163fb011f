/**
 * What every handler is given: the SPMC's state, who is calling (decided by the link, never by
 * frame fields), and the call; and what every handler gives back: an answer now, or "held" when
 * the answer comes later (a raw SP's response, a parked FFA_MSG_WAIT).
 */
import type { ComponentContext } from '../../shared/runtime/component.ts';
import type { CallMessage } from '../../shared/protocol/messages.ts';
import {
  enforce,
  ffaError,
  type BufferWrite,
  type CallCheck,
  type DecodedCall,
  type FfaErrorName,
  hex,
  type RegisterFile,
} from '../../shared/ffa/index.ts';
import type { ResolvedSpmcConfig } from './config.ts';
import type { NotificationState } from './notification-state.ts';
import type { Partition, PartitionTable } from './partitions.ts';
import type { PolicyValues } from './policies.ts';
import type { Mailboxes } from './rx-buffers.ts';
import type { ScheduleReceiverInterrupt } from './schedule-receiver-interrupt.ts';

/**
 * Who made a call:
 * - nwd: the normal world as forwarded by the SPMD; the SPMC sees one physical instance (the
 *   hypervisor or the bare-metal kernel), and which VM a call concerns comes from its registers;
 * - sp: the SP named in the relayed call's `endpoint`.
 */
export type Origin = { readonly kind: 'nwd' } | { readonly kind: 'sp'; readonly partition: Partition };

/** A call whose answer is deferred, with what is needed to answer it. */
export interface HeldCall {
  readonly from: string;
  readonly call: CallMessage;
  readonly origin: Origin;
}

export interface SpmcState {
  readonly ctx: ComponentContext;
  readonly config: ResolvedSpmcConfig;
  readonly policies: PolicyValues;
  readonly partitions: PartitionTable;
  readonly notifications: NotificationState;
  readonly mailboxes: Mailboxes;
  readonly sri: ScheduleReceiverInterrupt;
  /** The FF-A version the normal world negotiated (through the SPMD's framework message). */
  nwdVersion: number;
  /** Answer a held call (a return to the NWd fires a delayed SRI first), with what it wrote into an RX buffer, if anything. */
  complete(held: HeldCall, regs: RegisterFile, memory?: BufferWrite | null): void;
}

export interface CallContext {
  readonly spmc: SpmcState;
  readonly origin: Origin;
  readonly from: string;
  readonly call: CallMessage;
  readonly regs: RegisterFile;
}

/** An answer now, with what the call wrote into an RX buffer on the caller's side (null: nothing), or later. */
export type Answer = { readonly kind: 'reply'; readonly regs: RegisterFile; readonly memory: BufferWrite | null } | { readonly kind: 'held' };

export const HELD: Answer = { kind: 'held' };

export function reply(regs: RegisterFile, memory: BufferWrite | null = null): Answer {
  return { kind: 'reply', regs, memory };
}

/** A protocol outcome: FFA_ERROR with a log line saying why (Hafnium's dlog_verbose habit). */
export function refuse(cc: CallContext, code: FfaErrorName, why: string): Answer {
  cc.spmc.ctx.log.debug({ fid: `0x${cc.regs[0]?.toString(16)}`, origin: originLabel(cc.origin), code }, why);
  return reply(ffaError(code));
}

export function originLabel(origin: Origin): string {
  return origin.kind === 'nwd' ? 'nwd' : `sp ${hex(origin.partition.id)}`;
}

/** The FF-A ID a call is made as: the SP's own, or the NWd physical instance's (0). */
export function callerId(origin: Origin): number {
  return origin.kind === 'nwd' ? 0 : origin.partition.id;
}

/** The FF-A version the caller runs at. */
export function callerVersion(cc: CallContext): number {
  return cc.origin.kind === 'nwd' ? cc.spmc.nwdVersion : cc.origin.partition.version;
}

/** A protocol refusal decided away from a call (shared by calls and internal requests). */
export interface Refusal {
  readonly error: FfaErrorName;
  readonly why: string;
}

export function refusal(error: FfaErrorName, why: string): Refusal {
  return { error, why };
}

export function answerRefusal(cc: CallContext, found: Refusal): Answer {
  return refuse(cc, found.error, found.why);
}

/**
 * The reserved-bit rules the reservedBitChecks policy enforces (shared/ffa call-checks.ts), the
 * rules named in `first` checked first: an implementation checks its registers in its own order
 * (e.g. OP-TEE handle_notification_bind tests a5..a7 before a2).
 */
export function checkRegisters<Args>(spmc: SpmcState, decoded: DecodedCall<Args>, first: readonly string[] = []): CallCheck<Args> {
  const rank = (rule: string): number => {
    const index = first.indexOf(rule);
    return index < 0 ? first.length : index;
  };
  const violations = [...decoded.violations].sort((a, b) => rank(a.rule) - rank(b.rule));
  return enforce({ args: decoded.args, violations }, spmc.policies.reservedBitChecks);
}
