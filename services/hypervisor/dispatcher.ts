/**
 * The guest-call dispatcher (Xen ffa.c ffa_handle_call): version negotiation first, then one
 * exhaustive switch over every FF-A function ID, each case handing off to a small handler of its
 * family. Deciding is synchronous and never throws for a guest's input; hypervisor.ts carries the
 * outcome out (an answer, or an SMC whose answer is copied back).
 */
import { abiNameOf, FFA_FIDS, w, type FfaAbiName } from '../../shared/ffa/index.ts';
import { handleDirectRequest, handleRun } from './direct-messaging.ts';
import { refuse, type GuestCall, type Outcome } from './guest-call.ts';
import { handleMsgSend2 } from './indirect-messaging.ts';
import { handleRxRelease, handleRxtxMap, handleRxtxUnmap } from './rx-tx-buffers.ts';
import { handleBind, handleGet, handleInfoGet, handleSet, handleUnbind } from './notifications.ts';
import {
  handleFeatures,
  handleIdGet,
  handlePartitionInfoGet,
  handlePartitionInfoGetRegs,
  handleVersionAfterNegotiation,
  negotiateVersion,
} from './setup-and-discovery.ts';
import { assertNever } from '../../shared/protocol/assert-never.ts';

/**
 * ffa_negotiate_version, while negotiation is not final: FFA_VERSION is answered (and may be
 * called again); any other call before the first FFA_VERSION is NOT_SUPPORTED; the first other
 * call after one makes the tentative version final and goes on to the switch.
 */
function negotiationGate(gc: GuestCall, abi: FfaAbiName): Outcome | null {
  const { version } = gc.vm;
  if (version.kind === 'final') return null;
  if (abi === 'FFA_VERSION') return negotiateVersion(gc);
  if (version.kind === 'none') return refuse('NOT_SUPPORTED', 'a version must be negotiated first (FFA_VERSION)');
  gc.vm.version = { kind: 'final', version: version.version };
  return null;
}

/** The outcome of one guest FF-A call; `abi` is the call's w0, already known to be an FF-A ABI. */
export function dispatchGuestCall(gc: GuestCall, abi: FfaAbiName): Outcome {
  return negotiationGate(gc, abi) ?? dispatchAbi(gc, abi);
}

/** The ABI of a guest's w0, or null when it is not an FF-A function (not the mediator's call). */
export function guestAbiOf(gc: Pick<GuestCall, 'regs'>): FfaAbiName | null {
  return abiNameOf(w(gc.regs, 0));
}

function dispatchAbi(gc: GuestCall, abi: FfaAbiName): Outcome {
  switch (abi) {
    // setup and discovery (§5.4, §5.6)
    case 'FFA_VERSION':
      return handleVersionAfterNegotiation(gc);
    case 'FFA_ID_GET':
      return handleIdGet(gc);
    case 'FFA_FEATURES':
      return handleFeatures(gc);
    case 'FFA_RXTX_MAP_32':
    case 'FFA_RXTX_MAP_64':
      return handleRxtxMap(gc);
    case 'FFA_RXTX_UNMAP':
      return handleRxtxUnmap(gc);
    case 'FFA_RX_RELEASE':
      return handleRxRelease(gc);
    case 'FFA_PARTITION_INFO_GET':
      return handlePartitionInfoGet(gc);
    case 'FFA_PARTITION_INFO_GET_REGS':
      return handlePartitionInfoGetRegs(gc);

    // direct messaging and CPU cycles
    case 'FFA_MSG_SEND_DIRECT_REQ_32':
    case 'FFA_MSG_SEND_DIRECT_REQ_64':
    case 'FFA_MSG_SEND_DIRECT_REQ2':
      return handleDirectRequest(gc, FFA_FIDS[abi]);
    case 'FFA_RUN':
      return handleRun(gc);

    // notifications (§5.4)
    case 'FFA_NOTIFICATION_BIND':
      return handleBind(gc);
    case 'FFA_NOTIFICATION_UNBIND':
      return handleUnbind(gc);
    case 'FFA_NOTIFICATION_SET':
      return handleSet(gc);
    case 'FFA_NOTIFICATION_GET':
      return handleGet(gc);
    case 'FFA_NOTIFICATION_INFO_GET_32':
      return handleInfoGet(gc, 32);
    case 'FFA_NOTIFICATION_INFO_GET_64':
      return handleInfoGet(gc, 64);
    case 'FFA_NOTIFICATION_BITMAP_CREATE':
    case 'FFA_NOTIFICATION_BITMAP_DESTROY':
      return refuse('NOT_SUPPORTED', `${abi} is the hypervisor's own (no case in ffa_handle_call)`);

    // indirect messaging (§5.4, ffa_msg.c)
    case 'FFA_MSG_SEND2':
      return handleMsgSend2(gc);

    // Xen handles these, but memory sharing is not modelled.
    case 'FFA_MEM_SHARE_32':
    case 'FFA_MEM_SHARE_64':
    case 'FFA_MEM_RECLAIM':
      return refuse('NOT_SUPPORTED', `${abi}: memory sharing is not modelled, so the mediator does not carry it`);

    // ffa_handle_call's default: "unhandled fid".
    case 'FFA_ERROR':
    case 'FFA_ERROR_64':
    case 'FFA_SUCCESS_32':
    case 'FFA_SUCCESS_64':
    case 'FFA_INTERRUPT':
    case 'FFA_MSG_POLL':
    case 'FFA_MSG_WAIT':
    case 'FFA_YIELD':
    case 'FFA_MSG_SEND':
    case 'FFA_MSG_SEND_DIRECT_RESP_32':
    case 'FFA_MSG_SEND_DIRECT_RESP_64':
    case 'FFA_MSG_SEND_DIRECT_RESP2':
    case 'FFA_MEM_DONATE_32':
    case 'FFA_MEM_DONATE_64':
    case 'FFA_MEM_LEND_32':
    case 'FFA_MEM_LEND_64':
    case 'FFA_MEM_RETRIEVE_REQ_32':
    case 'FFA_MEM_RETRIEVE_REQ_64':
    case 'FFA_MEM_RETRIEVE_RESP':
    case 'FFA_MEM_RELINQUISH':
    case 'FFA_MEM_OP_PAUSE':
    case 'FFA_MEM_OP_RESUME':
    case 'FFA_MEM_FRAG_RX':
    case 'FFA_MEM_FRAG_TX':
    case 'FFA_NORMAL_WORLD_RESUME':
    case 'FFA_RX_ACQUIRE':
    case 'FFA_SPM_ID_GET':
    case 'FFA_SECONDARY_EP_REGISTER_32':
    case 'FFA_SECONDARY_EP_REGISTER_64':
    case 'FFA_MEM_PERM_GET_32':
    case 'FFA_MEM_PERM_GET_64':
    case 'FFA_MEM_PERM_SET_32':
    case 'FFA_MEM_PERM_SET_64':
    case 'FFA_CONSOLE_LOG_32':
    case 'FFA_CONSOLE_LOG_64':
    case 'FFA_EL3_INTR_HANDLE':
    case 'FFA_NS_RES_INFO_GET':
    case 'FFA_ABORT_32':
    case 'FFA_ABORT_64':
    case 'FFA_NOTIFICATION_BIND2':
    case 'FFA_NOTIFICATION_UNBIND2':
    case 'FFA_NOTIFICATION_SET2':
    case 'FFA_NOTIFICATION_GET2':
      return refuse('NOT_SUPPORTED', `unhandled fid ${abi}`);
    default:
      return assertNever(abi, 'the hypervisor dispatcher');
  }
}
