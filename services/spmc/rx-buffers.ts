/**
 * The RX/TX buffer pairs mapped at the SPMC (FFA_RXTX_MAP), each RX buffer with its state and
 * what it holds: the buffers are memory the SPMC maps, kept as data (shared/ffa/buffer-content.ts).
 * One pair per SP, one for the normal world's physical instance (owner 0: the hypervisor or the
 * bare-metal kernel) and, at a Hafnium SPMC, one per VM whose buffers the hypervisor forwarded
 * (api.c api_ffa_rxtx_map with the descriptor in the hypervisor's TX buffer). Bounded by the
 * partitions, VM 0 and the VM slots (`limit`).
 */
import type { BufferContent } from '../../shared/ffa/index.ts';

/**
 * Who may use an RX buffer: FF-A v1.1 §6.2.2.4.2 as Hafnium inc/hf/vm.h `enum mailbox_state`
 * spells it, and OP-TEE thread_spmc.c `tx_is_mine` (true: empty; false: full).
 */
export type RxState =
  /** Nothing to read: the SPMC, the buffer's producer, owns it and may write it. */
  | 'empty'
  /** Written, and owned by its consumer (the endpoint) until FFA_RX_RELEASE (or FFA_MSG_WAIT, Hafnium). */
  | 'full'
  /**
   * A VM's buffer the hypervisor took with FFA_RX_ACQUIRE to write it itself (Hafnium
   * MAILBOX_STATE_OTHER_WORLD_OWNED: "the Hypervisor/OS Kernel owns the RX buffer"), until it
   * forwards the VM's FFA_RX_RELEASE. SPs never reach it.
   */
  | 'other-world-owned';

export interface Mailbox {
  readonly owner: number;
  readonly pageCount: number;
  state: RxState;
  /** What the RX buffer holds since the SPMC last wrote it; null once released. */
  content: BufferContent | null;
}

export class Mailboxes {
  private readonly boxes = new Map<number, Mailbox>();

  constructor(private readonly limit: number) {}

  get(owner: number): Mailbox | undefined {
    return this.boxes.get(owner);
  }

  map(owner: number, pageCount: number): Mailbox {
    if (this.boxes.has(owner)) throw new Error(`bug: RX/TX buffers of ${owner} mapped twice`);
    if (this.boxes.size >= this.limit) throw new Error(`bug: more than ${this.limit} RX/TX buffer pairs mapped`);
    const mailbox: Mailbox = { owner, pageCount, state: 'empty', content: null };
    this.boxes.set(owner, mailbox);
    return mailbox;
  }

  unmap(owner: number): void {
    this.boxes.delete(owner);
  }

  /** Write into an RX buffer the SPMC owns, handing it to its owner. */
  fill(mailbox: Mailbox, content: BufferContent): void {
    if (mailbox.state !== 'empty') throw new Error(`bug: wrote into the RX buffer of ${mailbox.owner} while it is ${mailbox.state}`);
    mailbox.content = content;
    mailbox.state = 'full';
  }

  /** Hand the RX buffer to its owner with nothing in it (OP-TEE's error exits of PARTITION_INFO_GET). */
  handOver(mailbox: Mailbox): void {
    mailbox.content = null;
    mailbox.state = 'full';
  }

  /** FFA_RX_ACQUIRE: the hypervisor takes a VM's empty buffer to write it itself. */
  acquire(mailbox: Mailbox): void {
    if (mailbox.state !== 'empty') throw new Error(`bug: acquired the RX buffer of ${mailbox.owner} while it is ${mailbox.state}`);
    mailbox.state = 'other-world-owned';
  }

  /** FFA_RX_RELEASE: ownership back to the SPMC. */
  release(mailbox: Mailbox): void {
    mailbox.content = null;
    mailbox.state = 'empty';
  }
}
