/**
 * What a caller reads from its RX buffer after a call (docs/ffa-reference.md §2.7, §3.8): the
 * partition descriptors FFA_PARTITION_INFO_GET wrote there, or the message an SP or VM sent,
 * which an FFA_NOTIFICATION_GET reporting the RX-buffer-full framework notification tells it to
 * read. The buffer is memory on the caller's side: the return of the call that wrote it (or of
 * that GET) carries what was written and whose buffer it is (shared/ffa/buffer-content.ts), so
 * `expect: { success: { partitions } }` or `{ success: { message } }` compares what the caller
 * finds in its own buffer, whoever wrote it: the SPMC (for an SP, the bare-metal host, the raw
 * hypervisor, or a VM whose buffers Xen mapped there) or Xen (for its guests).
 */
import type { BufferWrite } from '../../shared/ffa/index.ts';
import type { Endpoint, Expectation } from './scenario/types.ts';

/** The success fields read from the caller's RX buffer rather than from registers, per ABI. */
const RX_FIELDS: Readonly<Record<string, readonly string[]>> = {
  FFA_PARTITION_INFO_GET: ['partitions'],
  FFA_NOTIFICATION_GET: ['message'],
};

/** The RX-buffer fields an expectation names; none when it compares registers only. */
export function rxFieldsExpected(abi: string | null, expect: Expectation): string[] {
  if (abi === null || expect.kind !== 'success-fields') return [];
  return (RX_FIELDS[abi] ?? []).filter((field) => field in expect.fields);
}

/** Whose RX buffer a caller reads: its own FF-A ID (the host and the hypervisor are 0). */
export function rxOwnerOf(from: Endpoint): number {
  return from.kind === 'vm' || from.kind === 'sp' ? from.id : 0;
}

/** The fields the caller reads when `memory` is a write into its own RX buffer; nothing otherwise. */
export function rxFields(memory: BufferWrite | null, owner: number): Record<string, unknown> {
  if (memory === null || memory.buffer !== 'rx' || memory.owner !== owner) return {};
  const { content } = memory;
  switch (content.kind) {
    case 'partition-info':
      return { partitions: content.partitions };
    case 'message':
      return { message: { sender: content.sender, receiver: content.receiver, size: content.size, offset: content.offset, uuid: content.uuid } };
    case 'rxtx-descriptor':
      return {};
  }
}

/** Why an expectation that reads the RX buffer cannot be judged: the call wrote none of what it names there; null when it did. */
export function rxMissing(expected: readonly string[], read: Readonly<Record<string, unknown>>, caller: string): string | null {
  const missing = expected.filter((field) => !(field in read));
  return missing.length === 0 ? null : `nothing in ${caller}'s RX buffer to read ${missing.join(' or ')} from: the call wrote no ${missing.join(' or ')} there`;
}
