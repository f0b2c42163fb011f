/**
 * A guest's FFA_MSG_SEND2, after Xen's ffa_msg.c ffa_handle_msg_send2 (docs/ffa-reference.md
 * §5.4): the header is read from the guest's TX buffer (the guest's call carries it,
 * shared/ffa/buffer-content.ts), checked, and a message for an SP is forwarded to the SPMC as
 * FFA_MSG_SEND2(w1 = vm << 16), the SPMC reading the same TX buffer, which Xen mapped there
 * (rx-tx-buffers.ts). Messages to VMs need CONFIG_FFA_VM_TO_VM, which is not built: INVALID_PARAMETERS.
 */
import {
  FFA_PAGE_SIZE,
  FFA_VERSION_1_2,
  ffaError,
  ffaSuccess32,
  isSecureId,
  NIL_UUID,
  msgSend2,
  txWrite,
  type IndirectMessage,
} from '../../shared/ffa/index.ts';
import { forward, guestVersion, refuse, type GuestCall, type Outcome } from './guest-call.ts';
import { errorOf } from './rx-tx-buffers.ts';

/** sizeof(struct ffa_part_msg_rxtx_1_1) and _1_2: where a payload may start at the earliest. */
const HEADER_SIZE_V1_1 = 20;
const HEADER_SIZE_V1_2 = 40;

/** The header in the guest's TX buffer; a buffer with no message in it reads as zeros. */
function guestHeader(gc: GuestCall): IndirectMessage {
  const memory = gc.memory;
  if (memory !== null && memory.buffer === 'tx' && memory.owner === gc.vm.id && memory.content.kind === 'message') return memory.content;
  return { kind: 'message', sender: 0, receiver: 0, offset: 0, size: 0, uuid: NIL_UUID };
}

export function handleMsgSend2(gc: GuestCall): Outcome {
  const { buffers } = gc.vm;
  // ffa_tx_acquire: "TX acquire denied, no RX/TX mapped".
  if (buffers === null) return refuse('DENIED', 'no TX buffer is mapped');
  const header = guestHeader(gc);
  if (header.sender !== gc.vm.id || header.receiver === gc.vm.id) return refuse('INVALID_PARAMETERS', `invalid src/dst src ${header.sender} dst ${header.receiver}`);
  const minOffset = guestVersion(gc) < FFA_VERSION_1_2 ? HEADER_SIZE_V1_1 : HEADER_SIZE_V1_2;
  if (header.offset < minOffset) return refuse('INVALID_PARAMETERS', `invalid msg_offset ${header.offset}`);
  const txSize = buffers.pageCount * FFA_PAGE_SIZE;
  if (header.size === 0 || header.offset > txSize || header.size > txSize - header.offset) {
    return refuse('INVALID_PARAMETERS', `invalid msg_size ${header.size} offset ${header.offset} tx ${txSize}`);
  }
  if (!isSecureId(header.receiver)) return refuse('INVALID_PARAMETERS', `msg_send2 to VM disabled (dst ${header.receiver}): no CONFIG_FFA_VM_TO_VM`);
  const { firmware } = gc.hv;
  if (!firmware.supports('FFA_MSG_SEND2')) return refuse('NOT_SUPPORTED', 'msg_send2 to SP not supported');
  // "The SPMC needs access to the VM TX buffer to relay SEND2."
  if (!firmware.supports('FFA_RX_ACQUIRE')) return refuse('NOT_SUPPORTED', 'msg_send2 to SP requires RX_ACQUIRE');
  // For a v1.1 guest Xen sets the UUID to nil; the SPMC reads the guest's TX buffer as the guest left it.
  const tx = txWrite(gc.vm.id, header);
  // ffa_simple_call: the guest gets success or the error, not the SPMC's registers.
  return forward(msgSend2.encodeCall({ sender: gc.vm.id }), (result) => {
    const error = errorOf(result);
    return error === null ? { regs: ffaSuccess32(), why: 'forwarded to the SPMC' } : { regs: ffaError(error), why: `msg_send2 to SP failed: ${error}` };
  }, tx);
}
