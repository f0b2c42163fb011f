/**
 * Keys the scripted actors file messages under (inbox.ts): a control message under who sent it
 * and its op, so an answer is found among the answers of one kind from one peer only.
 */
import type { Message } from '../../protocol/messages.ts';

/** A control message of `op` from `from`. */
export function controlKey(from: string, op: string): string {
  return `control ${from} ${op}`;
}

/**
 * A message's head: its kind and the field that says what it is within the kind (an interrupt
 * frame's or a control's op, a life-cycle event, a protocol error's code). Works on a message or
 * on a pattern of its fields; undefined when the head field is missing.
 */
export function messageHead(fields: { kind: Message['kind'] } & Record<string, unknown>): string | undefined {
  const field = HEAD_FIELDS[fields.kind];
  if (field === null) return fields.kind;
  const value = fields[field];
  return typeof value === 'string' ? `${fields.kind} ${value}` : undefined;
}

const HEAD_FIELDS: Record<Message['kind'], string | null> = {
  call: null,
  return: null,
  irq: 'op',
  control: 'op',
  lifecycle: 'event',
  'protocol-error': 'code',
};
