/**
 * Reading the caller's RX buffer after FFA_PARTITION_INFO_GET (docs/ffa-reference.md §2.7): the
 * descriptors go to the buffer, not to the registers, so `expect: { success: { partitions } }`
 * compares what the call's writer put in the caller's buffer:
 * - the SPMC, for an SP, the bare-metal host or the raw hypervisor (the NWd physical instance,
 *   ID 0): its `rx-partition-info` record, `owner` = the caller's ID (services/spmc
 *   setup-and-discovery.ts writePartitionInfo);
 * - Xen, for a guest: its own record, `vm` = the guest's ID, from the SP list it cached at probe
 *   (xen/arch/arm/tee/ffa_partinfo.c ffa_handle_partition_info_get, services/hypervisor).
 * Buffers are not modelled byte by byte: the writer records what it wrote into whose buffer, and
 * the caller reads that back, as a driver reads its RX page after the call returns.
 */
import { FFA_FIDS } from '../../shared/ffa/index.ts';
import type { HistoryEvent } from '../../shared/runtime/history.ts';
import type { Step } from './scenario/types.ts';

type CallStep = Extract<Step, { kind: 'call' }>;

/** What the caller reads from its RX buffer: whose record, and which of its records is about this caller. */
export interface RxRead {
  readonly writer: 'spmc' | 'hypervisor';
  readonly event: 'rx-partition-info';
  readonly matches: (event: HistoryEvent) => boolean;
  readonly what: string;
}

/** The RX buffer read a call step's expectation needs, or null when it compares registers only. */
export function rxReadOf(step: CallStep): RxRead | null {
  if (step.fid !== FFA_FIDS.FFA_PARTITION_INFO_GET || step.expect.kind !== 'success-fields' || !('partitions' in step.expect.fields)) return null;
  const writer = step.from.kind === 'vm' ? 'hypervisor' : 'spmc';
  const ownerField = writer === 'hypervisor' ? 'vm' : 'owner';
  const owner = step.from.kind === 'sp' || step.from.kind === 'vm' ? step.from.id : 0;
  return {
    writer,
    event: 'rx-partition-info',
    matches: (event) => event.type === 'record' && event.component === writer && event.data['event'] === 'rx-partition-info' && event.data[ownerField] === owner,
    what: `the partition descriptors ${writer === 'hypervisor' ? 'Xen' : 'the SPMC'} wrote to ${step.from.name}'s RX buffer`,
  };
}

/** The fields a caller reads from its RX buffer, from the writer's record. */
export function rxFields(event: HistoryEvent): Record<string, unknown> {
  if (event.type !== 'record') throw new Error('bug: an RX buffer read matched a non-record event');
  return { partitions: event.data['partitions'] };
}
