/**
 * CPU-cycle ABIs at the SPMD (docs/ffa-reference.md §6 "SWd only"; TF-A spmd_main.c spmd_smc_handler):
 * FFA_MSG_WAIT (which also reports the end of the SPMC's boot), FFA_ERROR during boot,
 * FFA_NORMAL_WORLD_RESUME. FFA_RUN, FFA_INTERRUPT and FFA_MSG_YIELD are plain forwards
 * (dispatcher.ts).
 */
import { ffaSuccess32, w } from '../../shared/ffa/index.ts';
import { type Decision, refuse, type SmcCall } from './decision.ts';
import { forwardEitherWay, forwardFromSecureWorldOnly } from './forwarding.ts';

/**
 * TF-A FFA_MSG_WAIT: the secure world's first one while the SPMC boots marks it initialised
 * (spmd_spm_core_sync_exit(0)); later ones go to the normal world. In this model the SPMC's next
 * message arrives as a new call rather than as the return of its MSG_WAIT, so the boot-time one
 * is acknowledged with FFA_SUCCESS_32.
 */
export function onMsgWait(call: SmcCall): Decision {
  if (call.origin === 'swd' && call.spmcState === 'on-pending') {
    return { kind: 'spmc-boot', state: 'on', regs: ffaSuccess32(), why: 'first FFA_MSG_WAIT: the SPMC is initialised' };
  }
  return forwardFromSecureWorldOnly(call);
}

/**
 * TF-A FFA_ERROR: from the secure world while the SPMC boots it reports a failed initialisation
 * (spmd_spm_core_sync_exit(x2)); otherwise it crosses to the other world.
 */
export function onErrorCall(call: SmcCall): Decision {
  if (call.origin === 'swd' && call.spmcState === 'on-pending') {
    return { kind: 'spmc-boot', state: 'off', regs: ffaSuccess32(), why: `SPMC initialisation failed with code ${w(call.regs, 2) | 0}` };
  }
  return forwardEitherWay(call);
}

/**
 * TF-A FFA_NORMAL_WORLD_RESUME ends the SPMD's handling of a secure interrupt taken while the
 * normal world ran; secure interrupts are not routed through the SPMD in this model, so none is
 * ever in progress: DENIED from either world.
 */
export function onNormalWorldResume(): Decision {
  return refuse('DENIED', 'no secure interrupt is being handled');
}
