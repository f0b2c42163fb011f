/**
 * FFA_MSG_SEND2 (Hafnium src/api.c api_ffa_msg_send2, api_ffa_msg_send2_copy_data,
 * src/ffa/spmc/indirect_messaging.c): the message is in the sender's TX buffer, which the call
 * carries as buffer memory (shared/ffa/buffer-content.ts); the SPMC copies it into the receiver's
 * RX buffer, which is then the receiver's, and makes the RX-buffer-full framework notification
 * pending for it (docs/ffa-reference.md §2.7, §3.8). The receiver reads the message after the
 * FFA_NOTIFICATION_GET that reports that notification (notifications.ts: that GET's return
 * carries the buffer to the receiver's side).
 */
import {
  FFA_PAGE_SIZE,
  FFA_VERSION_1_0,
  hex,
  MSG_SEND2_FLAGS,
  NIL_UUID,
  ffaSuccess32,
  isSecureId,
  messageHeaderSize,
  msgSend2,
  type IndirectMessage,
} from '../../shared/ffa/index.ts';
import { answerRefusal, callerId, reply, refuse, refusal, type Answer, type CallContext, type Refusal, type SpmcState } from './call-context.ts';
import { setRxBufferFull, signalScheduleReceiver } from './notifications.ts';
import type { Mailbox } from './rx-buffers.ts';

const INVALID = 'INVALID_PARAMETERS';

/** Hafnium FFA_MSG_PAYLOAD_MAX = HF_MAILBOX_SIZE: the header and the payload together fit one page. */
const MSG_PAYLOAD_MAX = FFA_PAGE_SIZE;

/**
 * What a TX buffer holding no message reads as: zeros (the sender, receiver, offset and size of
 * the header are all 0).
 */
function zeroHeader(): IndirectMessage {
  return { kind: 'message', sender: 0, receiver: 0, offset: 0, size: 0, uuid: NIL_UUID };
}

interface Sender {
  readonly id: number;
  readonly version: number;
}

export function handleMsgSend2(cc: CallContext): Answer {
  const { spmc } = cc;
  if (spmc.policies.msgSend2 === 'not-dispatched') return refuse(cc, 'NOT_SUPPORTED', 'FFA_MSG_SEND2 is not dispatched (OP-TEE thread_spmc_msg_recv)');
  const { sender: forwardedSender, flags } = msgSend2.decodeCall(cc.regs).args;
  const sender = send2Sender(cc, forwardedSender);
  if ('error' in sender) return answerRefusal(cc, sender);
  const header = senderTxHeader(cc, sender.id);
  if (header.sender !== sender.id) return refuse(cc, INVALID, `the header's sender ${hex(header.sender)} is not the sending endpoint ${hex(sender.id)}`);
  const outcome = deliverIndirectMessage(spmc, header, sender, flags, cc.call.cpu);
  return outcome ? answerRefusal(cc, outcome) : reply(ffaSuccess32());
}

/**
 * Hafnium api_ffa_msg_send2: "Only Hypervisor can set `sender_vm_id` when forwarding messages";
 * the sender must exist (DENIED) and have a TX buffer mapped here (DENIED). A VM's TX buffer is
 * mapped here when the hypervisor forwarded its FFA_RXTX_MAP (buffer-ownership.ts).
 */
function send2Sender(cc: CallContext, forwardedSender: number): Sender | Refusal {
  const { spmc, origin } = cc;
  if (origin.kind === 'sp' && forwardedSender !== 0) return refusal(INVALID, 'only the hypervisor may name the sender in w1');
  const id = forwardedSender !== 0 ? forwardedSender : callerId(origin);
  if (origin.kind === 'nwd' && !isSecureId(id) && !spmc.notifications.vms.find(id)) return refusal('DENIED', `sender VM ${id} not found`);
  if (!spmc.mailboxes.get(id)) return refusal('DENIED', `no TX buffer for sender ${hex(id)}`);
  return { id, version: origin.kind === 'nwd' ? spmc.nwdVersion : origin.partition.version };
}

/** The header in the sender's TX buffer, as the call carries it; a buffer with no message in it reads as zeros. */
function senderTxHeader(cc: CallContext, sender: number): IndirectMessage {
  const memory = cc.call.memory;
  if (memory === null || memory.buffer !== 'tx' || memory.owner !== sender || memory.content.kind !== 'message') return zeroHeader();
  return memory.content;
}

/** The receiver's RX buffer at the SPMC: an SP's own, VM 0's, or a VM's the hypervisor mapped here. */
function receiverMailbox(spmc: SpmcState, receiver: number): Mailbox | undefined {
  return spmc.mailboxes.get(receiver);
}

function supportsIndirect(spmc: SpmcState, id: number): boolean {
  // A VM that mapped its buffers implies indirect messaging support (Hafnium ffa_indirect_msg_is_supported).
  return isSecureId(id) ? (spmc.partitions.find(id)?.supports('indirect') ?? false) : true;
}

/** api_ffa_msg_send2 after the sender checks, in Hafnium's order, then api_ffa_msg_send2_copy_data. */
function deliverIndirectMessage(spmc: SpmcState, header: IndirectMessage, sender: Sender, flags: number, cpu: number): Refusal | null {
  if (header.receiver === header.sender) return refusal(INVALID, 'sender and receiver must be different');
  if (!isSecureId(header.sender) && flags !== 0) return refusal(INVALID, 'flags can be set only at the secure virtual instance');
  if (!isSecureId(header.sender) && !isSecureId(header.receiver)) return refusal(INVALID, 'VM-to-VM messages are the hypervisor\'s to relay');
  const receiver = spmc.notifications.receiver(header.receiver);
  if (!receiver) return refusal(INVALID, `receiver ${hex(header.receiver)} not found`);
  if (!supportsIndirect(spmc, header.sender) || !supportsIndirect(spmc, header.receiver)) return refusal('DENIED', 'indirect messaging is not supported by both endpoints');
  const mailbox = receiverMailbox(spmc, header.receiver);
  if (!mailbox || mailbox.state !== 'empty') return refusal('BUSY', `the RX buffer of ${hex(header.receiver)} is ${mailbox ? mailbox.state : 'not mapped'}`);
  const invalid = messageRefusal(header, sender.version);
  if (invalid) return invalid;
  spmc.mailboxes.fill(mailbox, header);
  // Framework notification only if a VM receives, or the SP enabled notifications (Hafnium api_ffa_msg_send2).
  const notify = receiver.kind === 'vm' || receiver.bitmapCreated;
  // framework: the bitmap whose RX-buffer-full bit this made pending (services/orchestrator/checkers/spmc-replay.ts).
  const framework = notify ? (isSecureId(header.sender) ? 'spm' : 'hyp') : null;
  spmc.ctx.record({ event: 'rx-message', owner: header.receiver, sender: header.sender, size: header.size, framework });
  if (notify) {
    setRxBufferFull(receiver, header.sender);
    signalScheduleReceiver(spmc, cpu, (flags & MSG_SEND2_FLAGS.delaySri) !== 0);
  }
  return null;
}

/** api_ffa_msg_send2_copy_data: the sender's version, then the payload's offset and size. */
function messageRefusal(header: IndirectMessage, senderVersion: number): Refusal | null {
  if (senderVersion === FFA_VERSION_1_0) return refusal('NOT_SUPPORTED', 'indirect messaging is not supported in v1.0');
  const minOffset = messageHeaderSize(senderVersion);
  if (header.offset < minOffset) return refusal(INVALID, `the payload (offset ${header.offset}) overlaps the ${minOffset}-byte header`);
  if (header.offset + header.size > MSG_PAYLOAD_MAX) return refusal(INVALID, `the message is too big (${header.offset} + ${header.size} > ${MSG_PAYLOAD_MAX})`);
  return null;
}
