/**
 * The indirect messaging family (Hafnium src/ffa/spmc/indirect_messaging.c, src/api.c): RX/TX
 * buffer mapping, RX ownership (FFA_RX_RELEASE) and FFA_MSG_SEND2 with its RX-buffer-full
 * framework notification (docs/ffa-reference.md §2.7, §3.8).
 *
 * Memory is not modelled, so FFA_MSG_SEND2's header, which really sits in the sender's TX buffer,
 * travels in registers the ABI leaves reserved: w3 = the header's send_recv_id
 * (sender[31:16] | receiver[15:0]) and w4 = the payload size in bytes.
 */
import {
  FFA_VERSION_1_0,
  FFA_VERSION_1_2,
  hex,
  HYPERVISOR_ID,
  MSG_SEND2_FLAGS,
  ffaRxRelease,
  ffaRxtxMap32,
  ffaRxtxMap64,
  ffaRxtxUnmap,
  ffaSuccess32,
  isSecureId,
  msgSend2,
  unpackTargetInfo,
  violation,
  w,
  x,
  type Violation,
} from '../../shared/ffa/index.ts';
import {
  answerRefusal,
  callerId,
  checkRegisters,
  reply,
  refuse,
  refusal,
  type Answer,
  type CallContext,
  type Refusal,
  type SpmcState,
} from './call-context.ts';
import { setRxBufferFull, signalScheduleReceiver } from './notifications.ts';
import type { Receiver } from './notification-state.ts';
import { PAGE_SIZE, type Mailbox } from './rx-buffers.ts';

const INVALID = 'INVALID_PARAMETERS';

/** Register rules only Hafnium checks (src/api.c api_vm_configure_pages, api_ffa_rx_release, api_ffa_rxtx_unmap). */
const RXTX_RULES = {
  pageCountNotOne: violation('rxtx-map.page-count-not-one', 'the page count must be 1 (HF_MAILBOX_SIZE / FFA_PAGE_SIZE)', INVALID, { hafnium: INVALID }),
  unaligned: violation('rxtx-map.unaligned', 'the TX and RX addresses must be page aligned', INVALID, { hafnium: INVALID }),
  samePage: violation('rxtx-map.same-page', 'TX and RX must be different pages', INVALID, { hafnium: INVALID }),
  unmapVmId: violation('rxtx-unmap.vm-id', 'w1[31:16] names a VM whose buffers are not mapped here', INVALID, { hafnium: INVALID }),
  releaseVmId: violation('rx-release.vm-id', 'w1[15:0] names a VM whose buffers are not mapped here', INVALID, { hafnium: INVALID }),
} as const;

const SUCCESS = (): Answer => reply(ffaSuccess32());

// ---------------------------------------------------------------- FFA_RXTX_MAP / UNMAP

export function handleRxtxMap(cc: CallContext, width: 32 | 64): Answer {
  const decoded = (width === 64 ? ffaRxtxMap64 : ffaRxtxMap32).decodeCall(cc.regs);
  const { tx, rx, pageCount } = decoded.args;
  const pageMask = BigInt(PAGE_SIZE - 1);
  const extra: Violation[] = [
    ...(pageCount !== 1 ? [RXTX_RULES.pageCountNotOne] : []),
    ...((tx & pageMask) !== 0n || (rx & pageMask) !== 0n ? [RXTX_RULES.unaligned] : []),
    ...(tx === rx ? [RXTX_RULES.samePage] : []),
  ];
  const owner = callerId(cc.origin);
  const hafnium = cc.spmc.policies.rxBufferRules === 'hafnium';
  // Hafnium api_vm_configure_pages refuses a second mapping first; OP-TEE spmc_handle_rxtx_map after the page count.
  if (hafnium && cc.spmc.mailboxes.get(owner)) return refuse(cc, 'DENIED', 'RX/TX buffers are already mapped');
  const check = checkRegisters(cc.spmc, { args: decoded.args, violations: [...decoded.violations, ...extra] });
  if (!check.ok) return refuse(cc, check.error, check.why);
  if (cc.spmc.mailboxes.get(owner)) return refuse(cc, 'DENIED', 'RX/TX buffers are already mapped');
  cc.spmc.mailboxes.map(owner, pageCount & 0x3f);
  return SUCCESS();
}

export function handleRxtxUnmap(cc: CallContext): Answer {
  const decoded = ffaRxtxUnmap.decodeCall(cc.regs);
  const extra = decoded.args.id !== 0 ? [RXTX_RULES.unmapVmId] : [];
  const check = checkRegisters(cc.spmc, { args: decoded.args, violations: [...decoded.violations, ...extra] });
  if (!check.ok) return refuse(cc, check.error, check.why);
  const owner = callerId(cc.origin);
  if (!cc.spmc.mailboxes.get(owner)) return refuse(cc, INVALID, 'no RX/TX buffers are mapped');
  cc.spmc.mailboxes.unmap(owner);
  return SUCCESS();
}

// ---------------------------------------------------------------- FFA_RX_RELEASE

function receiverOf(spmc: SpmcState, owner: number): Receiver | undefined {
  return spmc.notifications.receiver(owner);
}

export function handleRxRelease(cc: CallContext): Answer {
  const decoded = ffaRxRelease.decodeCall(cc.regs);
  const extra = decoded.args.receiver !== 0 ? [RXTX_RULES.releaseVmId] : [];
  const check = checkRegisters(cc.spmc, { args: decoded.args, violations: [...decoded.violations, ...extra] });
  if (!check.ok) return refuse(cc, check.error, check.why);
  const owner = callerId(cc.origin);
  const mailbox = cc.spmc.mailboxes.get(owner);
  if (!mailbox || mailbox.rx === 'spmc') return refuse(cc, 'DENIED', 'the RX buffer is not the caller\'s to release (empty or not mapped)');
  // Hafnium api_release_mailbox: not while an RX-buffer-full framework notification is pending.
  const receiver = receiverOf(cc.spmc, owner);
  if (cc.spmc.policies.rxBufferRules === 'hafnium' && receiver && receiver.framework.pendingAnywhere() !== 0n) {
    return refuse(cc, 'DENIED', 'an RX-buffer-full notification is still pending (call GET first)');
  }
  cc.spmc.mailboxes.release(mailbox);
  return SUCCESS();
}

// ---------------------------------------------------------------- FFA_MSG_SEND2

/** struct ffa_partition_rxtx_header: 24 bytes up to v1.1, 40 with the v1.2 UUID. */
function headerSize(version: number): number {
  return version >= FFA_VERSION_1_2 ? 40 : 24;
}

interface Send2 {
  readonly sender: number;
  readonly receiver: number;
  readonly size: number;
  readonly flags: number;
  readonly senderVersion: number;
}

export function handleMsgSend2(cc: CallContext): Answer {
  const { spmc } = cc;
  if (spmc.policies.msgSend2 === 'not-dispatched') return refuse(cc, 'NOT_SUPPORTED', 'FFA_MSG_SEND2 is not dispatched (OP-TEE thread_spmc_msg_recv)');
  const { sender: forwardedSender, flags } = msgSend2.decodeCall(cc.regs).args;
  const header = unpackTargetInfo(w(cc.regs, 3));
  const size = Number(x(cc.regs, 4) & 0xffff_ffffn);
  const found = send2Sender(cc, forwardedSender);
  if ('error' in found) return answerRefusal(cc, found);
  const send: Send2 = { sender: header.high, receiver: header.low, size, flags, senderVersion: found.version };
  if (send.sender !== found.id) return refuse(cc, INVALID, 'the header\'s sender is not the sending endpoint');
  const outcome = deliverIndirectMessage(spmc, send, cc.call.cpu);
  return outcome ? answerRefusal(cc, outcome) : SUCCESS();
}

/** Hafnium api_ffa_msg_send2: who sends, and with which TX buffer. */
function send2Sender(cc: CallContext, forwardedSender: number): { id: number; version: number } | Refusal {
  const { spmc, origin } = cc;
  if (origin.kind === 'sp' && forwardedSender !== 0) return refusal(INVALID, 'only the hypervisor may name the sender in w1');
  const id = forwardedSender !== 0 ? forwardedSender : callerId(origin);
  if (origin.kind === 'nwd' && !spmc.notifications.vms.find(id)) return refusal('DENIED', `sender VM ${id} not found`);
  // The NWd's buffers here are its physical instance's (ID 0); a VM's own TX buffer is the hypervisor's.
  const txOwner = origin.kind === 'nwd' && id !== HYPERVISOR_ID ? null : callerId(origin);
  if (txOwner === null || !spmc.mailboxes.get(txOwner)) return refusal('DENIED', `no TX buffer for sender ${hex(id)}`);
  return { id, version: origin.kind === 'nwd' ? spmc.nwdVersion : origin.partition.version };
}

/** The receiver's RX buffer as the SPMC holds it: an SP's own, or VM 0's (the NWd physical instance). */
function receiverMailbox(spmc: SpmcState, receiver: number): Mailbox | undefined {
  return isSecureId(receiver) || receiver === HYPERVISOR_ID ? spmc.mailboxes.get(receiver) : undefined;
}

function supportsIndirect(spmc: SpmcState, id: number): boolean {
  // A VM that mapped its buffers implies indirect messaging support (Hafnium ffa_indirect_msg_is_supported).
  return isSecureId(id) ? (spmc.partitions.find(id)?.supports('indirect') ?? false) : true;
}

function deliverIndirectMessage(spmc: SpmcState, send: Send2, cpu: number): Refusal | null {
  if (send.receiver === send.sender) return refusal(INVALID, 'sender and receiver must be different');
  if (!isSecureId(send.sender) && send.flags !== 0) return refusal(INVALID, 'flags can be set only at the secure virtual instance');
  if (!isSecureId(send.sender) && !isSecureId(send.receiver)) return refusal(INVALID, 'VM-to-VM messages are the hypervisor\'s to relay');
  const receiver = spmc.notifications.receiver(send.receiver);
  if (!receiver) return refusal(INVALID, `receiver ${hex(send.receiver)} not found`);
  if (!supportsIndirect(spmc, send.sender) || !supportsIndirect(spmc, send.receiver)) return refusal('DENIED', 'indirect messaging is not supported by both endpoints');
  const mailbox = receiverMailbox(spmc, send.receiver);
  if (!mailbox || mailbox.rx !== 'spmc') return refusal('BUSY', 'the receiver\'s RX buffer is not ready');
  if (send.senderVersion === FFA_VERSION_1_0) return refusal('NOT_SUPPORTED', 'indirect messaging is not supported in v1.0');
  if (send.size > mailbox.pageCount * PAGE_SIZE - headerSize(send.senderVersion)) return refusal(INVALID, 'the message is too big');
  spmc.mailboxes.fill(mailbox, { kind: 'message', sender: send.sender, receiver: send.receiver, size: send.size });
  // Framework notification only if a VM receives, or the SP enabled notifications (Hafnium api_ffa_msg_send2).
  const notify = receiver.kind === 'vm' || receiver.bitmapCreated;
  // framework: the bitmap whose RX-buffer-full bit this made pending (services/orchestrator/checkers/spmc-replay.ts).
  const framework = notify ? (isSecureId(send.sender) ? 'spm' : 'hyp') : null;
  spmc.ctx.record({ event: 'rx-message', owner: send.receiver, sender: send.sender, size: send.size, framework });
  if (notify) {
    setRxBufferFull(receiver, send.sender);
    signalScheduleReceiver(spmc, cpu, (send.flags & MSG_SEND2_FLAGS.delaySri) !== 0);
  }
  return null;
}
