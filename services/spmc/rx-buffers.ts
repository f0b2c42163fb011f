/**
 * RX/TX buffer pairs mapped at the SPMC (FFA_RXTX_MAP), with the RX buffer's ownership: the SPMC
 * may write it only while it owns it; a write (partition info, an indirect message) hands it to
 * the owner until FFA_RX_RELEASE gives it back (OP-TEE thread_spmc.c tx_is_mine, Hafnium
 * mailbox.state EMPTY/FULL). One pair for the NWd physical instance (key 0) and one per SP: at
 * most partitions + 1 entries. Memory itself is not modelled; what was written is kept as data.
 */
import type { PartitionInfo } from '../../shared/ffa/index.ts';

export const PAGE_SIZE = 4096;

export type RxContent =
  | { readonly kind: 'partition-info'; readonly partitions: readonly PartitionInfo[]; readonly descriptorSize: number }
  | { readonly kind: 'message'; readonly sender: number; readonly receiver: number; readonly size: number };

/** Who may use the RX buffer: the SPMC (it is empty) or its owner (it holds something to read). */
export type RxOwnership = 'spmc' | 'owner';

export interface Mailbox {
  readonly pageCount: number;
  rx: RxOwnership;
  content: RxContent | null;
}

export type MailboxOwner = number;

export class Mailboxes {
  private readonly boxes = new Map<MailboxOwner, Mailbox>();

  get(owner: MailboxOwner): Mailbox | undefined {
    return this.boxes.get(owner);
  }

  map(owner: MailboxOwner, pageCount: number): void {
    this.boxes.set(owner, { pageCount, rx: 'spmc', content: null });
  }

  unmap(owner: MailboxOwner): void {
    this.boxes.delete(owner);
  }

  /** Write into an RX buffer the SPMC owns, handing it to its owner. */
  fill(mailbox: Mailbox, content: RxContent): void {
    if (mailbox.rx !== 'spmc') throw new Error('bug: wrote into an RX buffer the SPMC does not own');
    mailbox.content = content;
    mailbox.rx = 'owner';
  }

  /** Hand the RX buffer to its owner with nothing in it (OP-TEE's error exits of PARTITION_INFO_GET). */
  handOver(mailbox: Mailbox): void {
    mailbox.content = null;
    mailbox.rx = 'owner';
  }

  /** FFA_RX_RELEASE: ownership back to the SPMC. */
  release(mailbox: Mailbox): void {
    mailbox.content = null;
    mailbox.rx = 'spmc';
  }
}
