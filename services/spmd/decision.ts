/**
 * What the dispatcher sees of one SMC and what it decides. Deciding is pure (dispatcher.ts and the
 * family files); carrying a decision out (replying, forwarding, asking the SPMC) is spmd.ts's job.
 */
import { ffaError, type FfaErrorName, type RegisterFile } from '../../shared/ffa/index.ts';
import type { ValidSpmdConfig } from './config.ts';

/** Which side the SMC came from: decided by the link it arrived on (TF-A is_caller_secure(flags)). */
export type Origin = 'nwd' | 'swd';

/** The SPMC's life cycle as the SPMD tracks it (TF-A spmd_private.h spmc_state_t). */
export type SpmcState =
  /** Booting: waiting for its first FFA_MSG_WAIT (SPMC_STATE_ON_PENDING). */
  | 'on-pending'
  /** Initialised; normal-world calls can be forwarded to it (SPMC_STATE_ON). */
  | 'on'
  /** Its initialisation failed (it answered FFA_ERROR while ON_PENDING); it never comes up. */
  | 'off';

/** One SMC, as the dispatcher sees it. */
export interface SmcCall {
  /** w0: the function ID (TF-A passes smc_fid as uint32_t, so x0's upper half never counts). */
  readonly fid: number;
  readonly regs: RegisterFile;
  readonly origin: Origin;
  /** The caller's FF-A version: a normal-world caller's last FFA_VERSION request, or the SPMC's. */
  readonly callerVersion: number;
  readonly spmcState: SpmcState;
  readonly config: ValidSpmdConfig;
}

export type Decision =
  /** The SPMD answers itself: x0..x7 (TF-A SMC_RET8 on the caller's own context). */
  | { readonly kind: 'answer'; readonly regs: RegisterFile; readonly why: string }
  /** Relay to the other world and hand its answer back (TF-A spmd_smc_forward). */
  | { readonly kind: 'forward'; readonly to: 'spmc' | 'normal-world' }
  /** Ask the SPMC with SPMD_FWK_MSG_FFA_VERSION_REQ; answer the caller with its w3. */
  | { readonly kind: 'ask-spmc-version'; readonly requested: number }
  /** A boot-time report from the secure side: the SPMC is now up, or failed; acknowledged with `regs`. */
  | { readonly kind: 'spmc-boot'; readonly state: Exclude<SpmcState, 'on-pending'>; readonly regs: RegisterFile; readonly why: string };

export function answer(regs: RegisterFile, why: string): Decision {
  return { kind: 'answer', regs, why };
}

/** TF-A spmd_ffa_error_return: FFA_ERROR, w1 = 0, w2 = the code, w3..w7 = 0. */
export function refuse(code: FfaErrorName, why: string): Decision {
  return answer(ffaError(code), why);
}

export function notSupported(why: string): Decision {
  return refuse('NOT_SUPPORTED', why);
}
