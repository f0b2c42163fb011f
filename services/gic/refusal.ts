/**
 * Why the broker did not do what a frame asked: a protocol outcome, so a value. The dispatcher
 * records it (`gic-refused`, or `gic-drop` for a bounded queue that was full) and answers the
 * sender with a protocol-error frame carrying `code`.
 */
import type { ProtocolErrorCode } from '../../shared/protocol/messages.ts';

export type RefusalReason =
  /** A field is out of range or of the wrong shape for the GIC (the wire accepted it). */
  | 'invalid-field'
  /** A frame the GIC does not take (a call, a deliver sent to it, an unknown control op). */
  | 'unexpected'
  /** The sender's rights (config.rights) do not cover it. */
  | 'no-right'
  /** A non-secure component touching a secure-group interrupt. */
  | 'secure-group'
  /** The frame's group is not the INTID's configured group. */
  | 'group-mismatch'
  /** An acknowledge for an interrupt not delivered to the sender (or not pending). */
  | 'not-delivered'
  /** An EOI for an interrupt that is not active. */
  | 'not-active'
  /** An EOI by a component other than the one that acknowledged. */
  | 'not-owner'
  /** More VMs than config.maxVms. */
  | 'too-many-vms'
  /** The vCPU's list registers and held queue are full: the interrupt is dropped. */
  | 'held-queue-full';

export interface Refusal {
  readonly reason: RefusalReason;
  readonly code: ProtocolErrorCode;
  /** A sentence for the history and the sender. */
  readonly detail: string;
}

const CODES: Record<RefusalReason, ProtocolErrorCode> = {
  'invalid-field': 'INVALID_FIELD',
  unexpected: 'UNKNOWN_KIND',
  'no-right': 'NOT_ALLOWED',
  'secure-group': 'NOT_ALLOWED',
  'group-mismatch': 'INVALID_FIELD',
  'not-delivered': 'NOT_ALLOWED',
  'not-active': 'NOT_ALLOWED',
  'not-owner': 'NOT_ALLOWED',
  'too-many-vms': 'QUEUE_FULL',
  'held-queue-full': 'QUEUE_FULL',
};

export function refuse(reason: RefusalReason, detail: string): Refusal {
  return { reason, code: CODES[reason], detail };
}

/** A handler's outcome: done (null) or refused. */
export type Outcome = Refusal | null;
