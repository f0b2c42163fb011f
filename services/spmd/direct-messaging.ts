/**
 * Direct messaging through the SPMD (docs/ffa-reference.md §6 "Direct requests"; TF-A spmd_main.c
 * spmd_smc_handler, FFA_MSG_SEND_DIRECT_REQ/RESP). The v1.2 REQ2/RESP2 (SMC64 only) follow the
 * same rules: w1 carries the same sender/receiver pair.
 */
import { hex, isSecureId, SPMD_ID, unpackTargetInfo, w } from '../../shared/ffa/index.ts';
import { type Decision, refuse, type SmcCall } from './decision.ts';
import { forwardEitherWay } from './forwarding.ts';

/** TF-A spmd_is_spmc_message: w1 names the SPMC as sender and the SPMD (0xFFFF) as receiver. */
function isSpmcToSpmd(call: SmcCall): boolean {
  const { high: sender, low: receiver } = unpackTargetInfo(w(call.regs, 1));
  return sender === call.config.spmcId && receiver === SPMD_ID;
}

/**
 * A request. From the normal world a secure sender ID is refused (TF-A: "Validate source endpoint
 * is non-secure for non-secure caller"); from the SPMC to the SPMD itself it is DENIED (the SPMD
 * takes no requests); anything else crosses to the other world.
 */
export function onDirectRequest(call: SmcCall): Decision {
  const { high: sender } = unpackTargetInfo(w(call.regs, 1));
  if (call.origin === 'nwd' && isSecureId(sender)) {
    return refuse('INVALID_PARAMETERS', `normal-world direct request with secure sender ${hex(sender)}`);
  }
  if (call.origin === 'swd' && isSpmcToSpmd(call)) return refuse('DENIED', 'direct request from the SPMC to the SPMD');
  return forwardEitherWay(call);
}

/**
 * A response. In this model the SPMC answers the SPMD's own framework requests by returning from
 * them, so a response addressed from the SPMC to the SPMD that arrives as a new call answers no
 * request (TF-A would end a synchronous entry that is not in progress): DENIED. Anything else
 * crosses to the other world.
 */
export function onDirectResponse(call: SmcCall): Decision {
  if (call.origin === 'swd' && isSpmcToSpmd(call)) return refuse('DENIED', 'direct response to the SPMD with no SPMD request in progress');
  return forwardEitherWay(call);
}
