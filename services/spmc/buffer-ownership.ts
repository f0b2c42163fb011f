/**
 * RX/TX buffers at the SPMC (docs/ffa-reference.md §2.7, §3.8): FFA_RXTX_MAP and FFA_RXTX_UNMAP,
 * and the RX buffer's ownership, FFA_RX_RELEASE and FFA_RX_ACQUIRE, per profile (policy
 * rxBufferRules):
 * - hafnium (src/api.c api_ffa_rxtx_map, api_vm_configure_pages, api_ffa_rxtx_unmap,
 *   api_ffa_rx_release, api_release_mailbox, api_ffa_rx_acquire): the hypervisor may map, unmap,
 *   release and acquire a VM's buffers on its behalf, which is how a VM's RX buffer comes to be at
 *   the SPMC at all (Xen ffa_rxtx.c forwards the VM's FFA_RXTX_MAP when the SPMC has RX_ACQUIRE);
 * - optee (thread_spmc.c spmc_handle_rxtx_map, _unmap, spmc_handle_rx_release): one pair for the
 *   normal world, which the SPMC tracks with `tx_is_mine`; no FFA_RX_ACQUIRE.
 * States: rx-buffers.ts RxState.
 */
import {
  FFA_PAGE_SIZE,
  ffaRxAcquire,
  ffaRxRelease,
  ffaRxtxMap32,
  ffaRxtxMap64,
  ffaRxtxUnmap,
  ffaSuccess32,
  hex,
  isSecureId,
  violation,
  type RxtxDescriptor,
  type Violation,
} from '../../shared/ffa/index.ts';
import { callerId, checkRegisters, reply, refuse, type Answer, type CallContext, type SpmcState } from './call-context.ts';
import type { Receiver } from './notification-state.ts';

const INVALID = 'INVALID_PARAMETERS';

/** Hafnium RXTX_MAX_PAGE_COUNT (inc/vmapi/hf/types.h): one 4 KiB page per buffer. */
const MAX_PAGE_COUNT = 1;

/** Register rules only Hafnium checks (api_vm_configure_pages). */
const RXTX_RULES = {
  pageCount: violation('rxtx-map.page-count', `the page count must be 1..${MAX_PAGE_COUNT} (FFA_RXTX_MAP_MAX_BUF_PAGE_COUNT)`, INVALID, { hafnium: INVALID }),
  unaligned: violation('rxtx-map.unaligned', 'the TX and RX addresses must be page aligned', INVALID, { hafnium: INVALID }),
  overlap: violation('rxtx-map.overlap', 'the TX and RX buffers must not overlap', INVALID, { hafnium: INVALID }),
} as const;

const SUCCESS = (): Answer => reply(ffaSuccess32());

function isHafnium(spmc: SpmcState): boolean {
  return spmc.policies.rxBufferRules === 'hafnium';
}

// ---------------------------------------------------------------- FFA_RXTX_MAP

interface MapRequest {
  readonly owner: number;
  readonly tx: bigint;
  readonly rx: bigint;
  readonly pageCount: number;
}

export function handleRxtxMap(cc: CallContext, width: 32 | 64): Answer {
  // Hafnium's handler.c has a case for FFA_RXTX_MAP_64 only; the 32-bit call falls to its default.
  if (isHafnium(cc.spmc) && width === 32) return refuse(cc, 'NOT_SUPPORTED', 'FFA_RXTX_MAP_32 is not handled (Hafnium handler.c)');
  const decoded = (width === 64 ? ffaRxtxMap64 : ffaRxtxMap32).decodeCall(cc.regs);
  const { tx, rx, pageCount } = decoded.args;
  if (isHafnium(cc.spmc)) {
    const forwarded = cc.origin.kind === 'nwd' && tx === 0n && rx === 0n && pageCount === 0;
    const request = forwarded ? forwardedMapRequest(cc) : { owner: callerId(cc.origin), tx, rx, pageCount };
    return typeof request === 'string' ? refuse(cc, INVALID, request) : mapHafnium(cc, request);
  }
  // OP-TEE spmc_handle_rxtx_map: the page count first (the codec's rules), then DENIED if mapped.
  const check = checkRegisters(cc.spmc, decoded);
  if (!check.ok) return refuse(cc, check.error, check.why);
  if (cc.spmc.mailboxes.get(callerId(cc.origin))) return refuse(cc, 'DENIED', 'RX/TX buffers are already mapped');
  cc.spmc.mailboxes.map(callerId(cc.origin), pageCount & 0x3f);
  return SUCCESS();
}

/**
 * Hafnium api_get_rxtx_description: a normal-world call with zero addresses and page count is a
 * hypervisor forwarding a VM's FFA_RXTX_MAP; the VM and its buffers are in the endpoint RX/TX
 * descriptor in the hypervisor's own TX buffer. No TX buffer of its own mapped, or no descriptor
 * in it: INVALID_PARAMETERS ("hypervisor has not provided RXTX buffers").
 */
function forwardedMapRequest(cc: CallContext): MapRequest | string {
  if (!cc.spmc.mailboxes.get(0)) return 'a forwarded FFA_RXTX_MAP, but the hypervisor has no RX/TX buffers mapped here';
  const memory = cc.call.memory;
  if (memory === null || memory.buffer !== 'tx' || memory.owner !== 0 || memory.content.kind !== 'rxtx-descriptor') {
    return 'a forwarded FFA_RXTX_MAP, but the hypervisor\'s TX buffer holds no endpoint RX/TX descriptor';
  }
  const descriptor: RxtxDescriptor = memory.content;
  // Derived, not observed: an SP's pages would go through api_vm_configure_pages' stage-2 checks
  // of memory the SP owns, which the normal world's pages are not.
  if (isSecureId(descriptor.endpoint)) return `a forwarded FFA_RXTX_MAP names SP ${hex(descriptor.endpoint)}, whose buffers are its own to map`;
  return { owner: descriptor.endpoint, tx: descriptor.tx, rx: descriptor.rx, pageCount: descriptor.pageCount };
}

/** Hafnium api_ffa_rxtx_map → ffa_vm_find_locked_create, then api_vm_configure_pages. */
function mapHafnium(cc: CallContext, request: MapRequest): Answer {
  const { spmc } = cc;
  // A slot this takes stays taken if the mapping then fails: api_ffa_rxtx_map frees nothing on its error path.
  if (!ownerHasSlot(spmc, request.owner)) return refuse(cc, 'DENIED', `cannot map RX/TX buffers for ${hex(request.owner)}: no VM slot free (ffa_vm_find_locked_create)`);
  // "Mailbox send/recv can only be set up once in the lifecycle of a partition."
  if (spmc.mailboxes.get(request.owner)) return refuse(cc, 'DENIED', 'RX/TX buffers are already mapped');
  const check = checkRegisters(spmc, { args: request, violations: mapViolations(request) });
  if (!check.ok) return refuse(cc, check.error, check.why);
  spmc.mailboxes.map(request.owner, request.pageCount);
  return SUCCESS();
}

function mapViolations({ tx, rx, pageCount }: MapRequest): Violation[] {
  const pageMask = BigInt(FFA_PAGE_SIZE - 1);
  const size = BigInt(Math.max(pageCount, 0) * FFA_PAGE_SIZE);
  return [
    ...(pageCount < 1 || pageCount > MAX_PAGE_COUNT ? [RXTX_RULES.pageCount] : []),
    ...((tx & pageMask) !== 0n || (rx & pageMask) !== 0n ? [RXTX_RULES.unaligned] : []),
    ...(tx < rx + size && rx < tx + size ? [RXTX_RULES.overlap] : []),
  ];
}

/**
 * Whose buffers these are: an SP and VM 0 always exist; another VM needs a VM slot, its own or a
 * free one (Hafnium ffa_vm_nwd_alloc, shared with the notification bitmaps).
 */
function ownerHasSlot(spmc: SpmcState, owner: number): boolean {
  if (isSecureId(owner) || owner === 0) return true;
  return spmc.notifications.vms.allocate(owner).kind === 'allocated';
}

/** Hafnium ffa_vm_nwd_free: a VM's slot goes once it has neither notifications nor buffers. */
export function releaseSlotIfUnused(spmc: SpmcState, vm: number): void {
  const receiver: Receiver | undefined = spmc.notifications.vms.find(vm);
  if (vm === 0 || !receiver || receiver.bitmapCreated || spmc.mailboxes.get(vm)) return;
  spmc.notifications.vms.release(receiver);
}

// ---------------------------------------------------------------- FFA_RXTX_UNMAP

export function handleRxtxUnmap(cc: CallContext): Answer {
  const { id } = ffaRxtxUnmap.decodeCall(cc.regs).args;
  const owner = isHafnium(cc.spmc) ? unmapOwnerHafnium(cc, id) : callerId(cc.origin);
  if (typeof owner === 'string') return refuse(cc, INVALID, owner);
  if (!cc.spmc.mailboxes.get(owner)) return refuse(cc, INVALID, `no RX/TX buffers are mapped for ${hex(owner)}`);
  cc.spmc.mailboxes.unmap(owner);
  releaseSlotIfUnused(cc.spmc, owner);
  return SUCCESS();
}

/** Hafnium api_ffa_rxtx_unmap: w1[31:16] names a VM, at the normal world's physical instance only. */
function unmapOwnerHafnium(cc: CallContext, id: number): number | string {
  if (cc.origin.kind === 'nwd') {
    if (isSecureId(id)) return `the hypervisor must name a VM in w1[31:16], not ${hex(id)}`;
    if (id !== 0 && !cc.spmc.notifications.vms.find(id)) return `cannot unmap RX/TX buffers of VM ${hex(id)}: not found`;
    return id;
  }
  return id === 0 ? cc.origin.partition.id : 'w1[31:16] must be 0 at a virtual instance';
}

// ---------------------------------------------------------------- FFA_RX_RELEASE

export function handleRxRelease(cc: CallContext): Answer {
  const { receiver } = ffaRxRelease.decodeCall(cc.regs).args;
  if (!isHafnium(cc.spmc)) return releaseOptee(cc);
  // "`receiver_id` can be set only at Non-Secure Physical interface."
  if (cc.origin.kind === 'sp' && receiver !== 0) return refuse(cc, INVALID, 'w1 must be 0 at a virtual instance');
  const owner = cc.origin.kind === 'sp' ? cc.origin.partition.id : receiver;
  if (owner !== 0 && !isSecureId(owner) && !cc.spmc.notifications.vms.find(owner)) return refuse(cc, INVALID, `no buffer registered for VM ${hex(owner)}`);
  return releaseMailboxHafnium(cc, owner);
}

/** Hafnium api_release_mailbox, by state. */
function releaseMailboxHafnium(cc: CallContext, owner: number): Answer {
  const { spmc } = cc;
  const mailbox = spmc.mailboxes.get(owner);
  switch (mailbox?.state ?? 'empty') {
    case 'empty':
      return refuse(cc, 'DENIED', `the RX buffer of ${hex(owner)} is empty (or not mapped)`);
    case 'full':
      // "Check it doesn't have pending RX full notifications."
      if ((spmc.notifications.receiver(owner)?.framework.pendingAnywhere() ?? 0n) !== 0n) {
        return refuse(cc, 'DENIED', 'an RX-buffer-full notification is still pending (call GET first)');
      }
      break;
    case 'other-world-owned':
      // "The SPMC shouldn't let SP's mailbox get into this state."
      if (isSecureId(owner)) return refuse(cc, 'ABORTED', `the RX buffer of SP ${hex(owner)} is in an incorrect state`);
      break;
  }
  if (mailbox) spmc.mailboxes.release(mailbox);
  return SUCCESS();
}

/** OP-TEE spmc_handle_rx_release: "The senders RX is our TX"; w1 is not read. */
function releaseOptee(cc: CallContext): Answer {
  const mailbox = cc.spmc.mailboxes.get(callerId(cc.origin));
  if (!mailbox || mailbox.state === 'empty') return refuse(cc, 'DENIED', 'the RX buffer is not the caller\'s to release (empty or not mapped)');
  cc.spmc.mailboxes.release(mailbox);
  return SUCCESS();
}

// ---------------------------------------------------------------- FFA_RX_ACQUIRE

/**
 * Hafnium api_ffa_rx_acquire: "Both Hypervisor and SPMC are producers of VM's RX buffer, and
 * they could contend for the same buffer. SPMC owns VM's RX buffer after it's mapped in its
 * translation regime." The hypervisor takes an empty one before it writes the VM's buffer itself
 * (Xen ffa_rxtx.c ffa_rx_acquire). OP-TEE has no case for it (the dispatcher's default).
 */
export function handleRxAcquire(cc: CallContext): Answer {
  if (!isHafnium(cc.spmc)) return refuse(cc, 'NOT_SUPPORTED', 'FFA_RX_ACQUIRE is not dispatched (OP-TEE thread_spmc_msg_recv)');
  const { receiver } = ffaRxAcquire.decodeCall(cc.regs).args;
  if (cc.origin.kind !== 'nwd' || isSecureId(receiver)) return refuse(cc, 'NOT_SUPPORTED', 'FFA_RX_ACQUIRE is for the hypervisor, for a VM');
  if (receiver !== 0 && !cc.spmc.notifications.vms.find(receiver)) return refuse(cc, INVALID, `VM ${hex(receiver)} not found`);
  const mailbox = cc.spmc.mailboxes.get(receiver);
  if (!mailbox) return refuse(cc, INVALID, `no RX buffer is mapped for VM ${hex(receiver)}`);
  if (mailbox.state !== 'empty') return refuse(cc, 'DENIED', `the RX buffer of VM ${hex(receiver)} is ${mailbox.state}`);
  cc.spmc.mailboxes.acquire(mailbox);
  return SUCCESS();
}
