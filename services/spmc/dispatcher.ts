/**
 * The SPMC's one dispatcher (Hafnium src/arch/aarch64/hypervisor/handler.c, OP-TEE
 * thread_spmc_msg_recv): an exhaustive switch over every FF-A function ID, each handed to a
 * small handler of its family; anything this SPMC does not implement answers NOT_SUPPORTED, as
 * both implementations' default cases do.
 */
import { abiNameOf, ffaNormalWorldResume, hex, w, type FfaAbiName } from '../../shared/ffa/index.ts';
import { reply, refuse, type Answer, type CallContext } from './call-context.ts';
import { handleRun } from './cpu-cycles.ts';
import { handleDirectRequest, handleDirectResponse, handleMsgWait } from './direct-messaging.ts';
import { handleRxAcquire, handleRxRelease, handleRxtxMap, handleRxtxUnmap } from './buffer-ownership.ts';
import { handleMsgSend2 } from './indirect-messaging.ts';
import { handleBind, handleBitmapCreate, handleBitmapDestroy, handleGet, handleInfoGet, handleSet, handleUnbind } from './notifications.ts';
import { handleFeatures, handleIdGet, handlePartitionInfoGet, handlePartitionInfoGetRegs, handleSpmIdGet, handleVersion } from './setup-and-discovery.ts';
import { assertNever } from '../../shared/protocol/assert-never.ts';

function notImplemented(cc: CallContext, name: FfaAbiName): Answer {
  return refuse(cc, 'NOT_SUPPORTED', `${name} is not implemented by this SPMC`);
}

/**
 * FFA_INTERRUPT from the NWd: the SPMD entering the SPMC for a secure interrupt; OP-TEE answers
 * FFA_NORMAL_WORLD_RESUME (thread_spmc_msg_recv). No secure interrupt is modelled.
 */
function handleInterrupt(cc: CallContext): Answer {
  if (cc.origin.kind === 'sp') return refuse(cc, 'NOT_SUPPORTED', 'FFA_INTERRUPT is not an SP call');
  return reply(ffaNormalWorldResume.encodeCall({}));
}

export function dispatch(cc: CallContext): Answer {
  const name = abiNameOf(w(cc.regs, 0));
  if (name === null) return refuse(cc, 'NOT_SUPPORTED', `${hex(w(cc.regs, 0))} is not an FF-A function`);
  switch (name) {
    // setup and discovery
    case 'FFA_VERSION':
      return handleVersion(cc);
    case 'FFA_FEATURES':
      return handleFeatures(cc);
    case 'FFA_ID_GET':
      return handleIdGet(cc);
    case 'FFA_SPM_ID_GET':
      return handleSpmIdGet(cc);
    case 'FFA_PARTITION_INFO_GET':
      return handlePartitionInfoGet(cc);
    case 'FFA_PARTITION_INFO_GET_REGS':
      return handlePartitionInfoGetRegs(cc);
    // indirect messaging and RX/TX buffers
    case 'FFA_RXTX_MAP_32':
      return handleRxtxMap(cc, 32);
    case 'FFA_RXTX_MAP_64':
      return handleRxtxMap(cc, 64);
    case 'FFA_RXTX_UNMAP':
      return handleRxtxUnmap(cc);
    case 'FFA_RX_RELEASE':
      return handleRxRelease(cc);
    case 'FFA_RX_ACQUIRE':
      return handleRxAcquire(cc);
    case 'FFA_MSG_SEND2':
      return handleMsgSend2(cc);
    // direct messaging
    case 'FFA_MSG_SEND_DIRECT_REQ_32':
      return handleDirectRequest(cc, 32);
    case 'FFA_MSG_SEND_DIRECT_REQ_64':
      return handleDirectRequest(cc, 64);
    case 'FFA_MSG_SEND_DIRECT_RESP_32':
      return handleDirectResponse(cc, 32);
    case 'FFA_MSG_SEND_DIRECT_RESP_64':
      return handleDirectResponse(cc, 64);
    case 'FFA_MSG_WAIT':
      return handleMsgWait(cc);
    // CPU cycles
    case 'FFA_RUN':
      return handleRun(cc);
    case 'FFA_INTERRUPT':
      return handleInterrupt(cc);
    // notifications
    case 'FFA_NOTIFICATION_BITMAP_CREATE':
      return handleBitmapCreate(cc);
    case 'FFA_NOTIFICATION_BITMAP_DESTROY':
      return handleBitmapDestroy(cc);
    case 'FFA_NOTIFICATION_BIND':
      return handleBind(cc);
    case 'FFA_NOTIFICATION_UNBIND':
      return handleUnbind(cc);
    case 'FFA_NOTIFICATION_SET':
      return handleSet(cc);
    case 'FFA_NOTIFICATION_GET':
      return handleGet(cc);
    case 'FFA_NOTIFICATION_INFO_GET_32':
      return handleInfoGet(cc, 32);
    case 'FFA_NOTIFICATION_INFO_GET_64':
      return handleInfoGet(cc, 64);
    // not implemented here: memory sharing, legacy messaging, v1.2+/v1.3 extensions, returns
    case 'FFA_ERROR':
    case 'FFA_ERROR_64':
    case 'FFA_SUCCESS_32':
    case 'FFA_SUCCESS_64':
    case 'FFA_MSG_POLL':
    case 'FFA_YIELD':
    case 'FFA_MSG_SEND':
    case 'FFA_MEM_DONATE_32':
    case 'FFA_MEM_DONATE_64':
    case 'FFA_MEM_LEND_32':
    case 'FFA_MEM_LEND_64':
    case 'FFA_MEM_SHARE_32':
    case 'FFA_MEM_SHARE_64':
    case 'FFA_MEM_RETRIEVE_REQ_32':
    case 'FFA_MEM_RETRIEVE_REQ_64':
    case 'FFA_MEM_RETRIEVE_RESP':
    case 'FFA_MEM_RELINQUISH':
    case 'FFA_MEM_RECLAIM':
    case 'FFA_MEM_OP_PAUSE':
    case 'FFA_MEM_OP_RESUME':
    case 'FFA_MEM_FRAG_RX':
    case 'FFA_MEM_FRAG_TX':
    case 'FFA_NORMAL_WORLD_RESUME':
    case 'FFA_SECONDARY_EP_REGISTER_32':
    case 'FFA_SECONDARY_EP_REGISTER_64':
    case 'FFA_MEM_PERM_GET_32':
    case 'FFA_MEM_PERM_GET_64':
    case 'FFA_MEM_PERM_SET_32':
    case 'FFA_MEM_PERM_SET_64':
    case 'FFA_CONSOLE_LOG_32':
    case 'FFA_CONSOLE_LOG_64':
    case 'FFA_EL3_INTR_HANDLE':
    case 'FFA_MSG_SEND_DIRECT_REQ2':
    case 'FFA_MSG_SEND_DIRECT_RESP2':
    case 'FFA_NS_RES_INFO_GET':
    case 'FFA_ABORT_32':
    case 'FFA_ABORT_64':
    case 'FFA_NOTIFICATION_BIND2':
    case 'FFA_NOTIFICATION_UNBIND2':
    case 'FFA_NOTIFICATION_SET2':
    case 'FFA_NOTIFICATION_GET2':
      return notImplemented(cc, name);
    default:
      return assertNever(name, 'the SPMC dispatcher');
  }
}
