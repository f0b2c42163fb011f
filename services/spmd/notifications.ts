/**
 * Notification ABIs at the SPMD: the SPMD keeps no notification state (docs/ffa-reference.md §6: the SPMC
 * owns it all); it only forwards the normal world's calls to the SPMC, and refuses them from the
 * secure world (TF-A spmd_smc_handler: the seven v1.1 ABIs are normal-world-only forwards).
 */
import { FFA_VERSION_1_3 } from '../../shared/ffa/index.ts';
import { type Decision, notSupported, type SmcCall } from './decision.ts';
import { forwardFromNormalWorldOnly } from './forwarding.ts';

/**
 * The v1.3 BIND2/UNBIND2/SET2/GET2: normal-world-only forwards as the v1.1 ABIs are, but only
 * when both the caller and the SPMC are at v1.3 or later (docs/ffa-reference.md §6).
 */
export function onNotificationV13(call: SmcCall): Decision {
  if (call.origin === 'nwd' && call.callerVersion < FFA_VERSION_1_3) return notSupported('v1.3 notification ABI from a caller below v1.3');
  if (call.origin === 'nwd' && call.config.spmcVersion < FFA_VERSION_1_3) return notSupported('v1.3 notification ABI with the SPMC below v1.3');
  return forwardFromNormalWorldOnly(call);
}
