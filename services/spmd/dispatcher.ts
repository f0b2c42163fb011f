/**
 * The SPMD's dispatcher (TF-A spmd_main.c spmd_smc_handler): one switch over every FF-A function
 * ID, each case handing off to a small function of its family. Deciding is pure; spmd.ts carries
 * the decision out.
 */
import { abiNameOf, type FfaAbiName } from '../../shared/ffa/index.ts';
import { onErrorCall, onMsgWait, onNormalWorldResume } from './cpu-cycles.ts';
import { type Decision, notSupported, type SmcCall } from './decision.ts';
import { onDirectRequest, onDirectResponse } from './direct-messaging.ts';
import { forwardEitherWay, forwardFromNormalWorldOnly, forwardFromSecureWorldOnly } from './forwarding.ts';
import { onNotificationV13 } from './notifications.ts';
import { onFeatures, onIdGet, onPartitionInfoGetRegs, onSecondaryEpRegister, onSpmIdGet, onVersion } from './setup-and-discovery.ts';
import { assertNever } from '../../shared/protocol/assert-never.ts';

/** What the SPMD does with one SMC. Unknown and non-FF-A FIDs are NOT_SUPPORTED (TF-A: "Unsupported call"). */
export function dispatch(call: SmcCall): Decision {
  const abi = abiNameOf(call.fid);
  if (abi === null) return notSupported('not an FF-A function ID');
  return dispatchAbi(abi, call);
}

function dispatchAbi(abi: FfaAbiName, call: SmcCall): Decision {
  switch (abi) {
    case 'FFA_VERSION':
      return onVersion(call);
    case 'FFA_ID_GET':
      return onIdGet(call);
    case 'FFA_SPM_ID_GET':
      return onSpmIdGet(call);
    case 'FFA_FEATURES':
      return onFeatures(call);
    case 'FFA_PARTITION_INFO_GET_REGS':
      return onPartitionInfoGetRegs(call);
    case 'FFA_SECONDARY_EP_REGISTER_64':
      return onSecondaryEpRegister(call);

    case 'FFA_RX_RELEASE':
    case 'FFA_RXTX_MAP_32':
    case 'FFA_RXTX_MAP_64':
    case 'FFA_RXTX_UNMAP':
    case 'FFA_PARTITION_INFO_GET':
    case 'FFA_NOTIFICATION_BITMAP_CREATE':
    case 'FFA_NOTIFICATION_BITMAP_DESTROY':
    case 'FFA_NOTIFICATION_BIND':
    case 'FFA_NOTIFICATION_UNBIND':
    case 'FFA_NOTIFICATION_SET':
    case 'FFA_NOTIFICATION_GET':
    case 'FFA_NOTIFICATION_INFO_GET_32':
    case 'FFA_NOTIFICATION_INFO_GET_64':
    case 'FFA_MSG_SEND2':
    case 'FFA_RX_ACQUIRE':
    case 'FFA_NS_RES_INFO_GET':
    case 'FFA_RUN':
      return forwardFromNormalWorldOnly(call);
    case 'FFA_NOTIFICATION_BIND2':
    case 'FFA_NOTIFICATION_UNBIND2':
    case 'FFA_NOTIFICATION_SET2':
    case 'FFA_NOTIFICATION_GET2':
      return onNotificationV13(call);

    case 'FFA_SUCCESS_32':
    case 'FFA_SUCCESS_64':
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
    case 'FFA_MEM_FRAG_RX':
    case 'FFA_MEM_FRAG_TX':
      return forwardEitherWay(call);
    case 'FFA_ERROR':
      return onErrorCall(call);

    case 'FFA_MSG_SEND_DIRECT_REQ_32':
    case 'FFA_MSG_SEND_DIRECT_REQ_64':
    case 'FFA_MSG_SEND_DIRECT_REQ2':
      return onDirectRequest(call);
    case 'FFA_MSG_SEND_DIRECT_RESP_32':
    case 'FFA_MSG_SEND_DIRECT_RESP_64':
    case 'FFA_MSG_SEND_DIRECT_RESP2':
      return onDirectResponse(call);

    case 'FFA_MSG_WAIT':
      return onMsgWait(call);
    case 'FFA_INTERRUPT':
    case 'FFA_YIELD':
      return forwardFromSecureWorldOnly(call);
    case 'FFA_NORMAL_WORLD_RESUME':
      return onNormalWorldResume();

    case 'FFA_CONSOLE_LOG_32':
    case 'FFA_CONSOLE_LOG_64':
      return notSupported('FFA_CONSOLE_LOG is never forwarded (docs/ffa-reference.md §6)');
    case 'FFA_EL3_INTR_HANDLE':
      return notSupported('no group-0 interrupts are modelled at EL3');
    case 'FFA_ERROR_64':
    case 'FFA_MSG_POLL':
    case 'FFA_MEM_OP_PAUSE':
    case 'FFA_MEM_OP_RESUME':
    case 'FFA_SECONDARY_EP_REGISTER_32':
    case 'FFA_MEM_PERM_GET_32':
    case 'FFA_MEM_PERM_GET_64':
    case 'FFA_MEM_PERM_SET_32':
    case 'FFA_MEM_PERM_SET_64':
    case 'FFA_ABORT_32':
    case 'FFA_ABORT_64':
      return notSupported('no case in TF-A spmd_smc_handler');
    default:
      return assertNever(abi, 'the SPMD dispatcher');
  }
}
