/**
 * Forwarding (docs/ffa-reference.md §6): which calls cross to the other world, and which registers cross with
 * them (TF-A spmd_main.c spmd_smc_forward and spmd_smc_switch_state).
 */
import { FFA_VERSION_1_2, isSmc64, REGISTER_COUNT, w, x, type RegisterFile } from '../../shared/ffa/index.ts';
import { type Decision, notSupported, type SmcCall } from './decision.ts';

/** The first register only a v1.2+ SMC64 call carries (x8..x17, docs/ffa-reference.md §1.4 "v1.2 adds …"). */
const FIRST_EXTENDED_REGISTER = 8;

/**
 * Which registers crossed a world switch:
 * - 'x0-x17': SMC64 with the destination at v1.2+ and the source at v1.2+;
 * - 'x0-x7+zero': SMC64 with the destination at v1.2+ but the source older: x8..x17 written as zero;
 * - 'x0-x7': anything else; x8..x17 are not written at all.
 */
export type Carried = 'x0-x17' | 'x0-x7+zero' | 'x0-x7';

export interface WorldSwitch {
  /** The FID of the SMC being switched: the call's, or, on the way back, the answer's w0. */
  readonly fid: number;
  readonly sourceVersion: number;
  readonly destinationVersion: number;
}

/** docs/ffa-reference.md §6: "For SMC64 with the destination at v ≥ 1.2, x8–x17 are copied too; if the source is < 1.2, x8–x17 are zeroed." */
export function carriedRegisters({ fid, sourceVersion, destinationVersion }: WorldSwitch): Carried {
  if (!isSmc64(fid) || destinationVersion < FFA_VERSION_1_2) return 'x0-x7';
  return sourceVersion < FFA_VERSION_1_2 ? 'x0-x7+zero' : 'x0-x17';
}

/**
 * The destination's x0..x17 after a world switch (TF-A spmd_smc_switch_state).
 * x0 is the 32-bit FID: TF-A passes `uint32_t smc_fid`, so x0's upper half never crosses.
 * x1..x7 always cross bit for bit, upper halves included, whatever the convention (SMC_RET8).
 * x8..x17 cross or are zeroed as `carriedRegisters` says. When they are not written,
 * the destination keeps its own: `untouched` (on the way back, the caller's own x8..x17, which
 * TF-A leaves in the caller's saved context, "SMCCC requires that these registers be preserved"),
 * or zero when the destination's saved registers are not modelled (entering the SPMC).
 */
export function switchState(regs: RegisterFile, worldSwitch: WorldSwitch, untouched: RegisterFile | null): { regs: RegisterFile; carried: Carried } {
  const carried = carriedRegisters(worldSwitch);
  const out: RegisterFile = [BigInt(w(regs, 0))];
  for (let index = 1; index < REGISTER_COUNT; index++) out.push(registerAfterSwitch(index, regs, carried, untouched));
  return { regs: out, carried };
}

function registerAfterSwitch(index: number, regs: RegisterFile, carried: Carried, untouched: RegisterFile | null): bigint {
  if (index < FIRST_EXTENDED_REGISTER || carried === 'x0-x17') return x(regs, index);
  if (carried === 'x0-x7+zero') return 0n;
  return untouched === null ? 0n : x(untouched, index);
}

/**
 * What an SPMD answer leaves in the caller's registers: x0..x7 from the answer (TF-A SMC_RET8 on
 * the caller's `handle`), x8..x17 the caller's own, untouched.
 */
export function answerInCallerRegisters(answer: RegisterFile, callerRegs: RegisterFile | null): RegisterFile {
  const untouched = callerRegs ?? [];
  return Array.from({ length: REGISTER_COUNT }, (_, index) => (index < FIRST_EXTENDED_REGISTER ? x(answer, index) : x(untouched, index)));
}

/**
 * A normal-world call for the SPMC. While the SPMC is not up it is answered NOT_SUPPORTED, as TF-A
 * spmd_setup warns happens to "SMCs destined for SPM core" when the SPMC did not initialise.
 */
export function forwardToSpmc(call: SmcCall): Decision {
  if (call.spmcState !== 'on') return notSupported(`the SPMC is not up (${call.spmcState})`);
  return { kind: 'forward', to: 'spmc' };
}

/** A secure-world call for the normal world: only if the world names a normal-world component. */
export function forwardToNormalWorld(call: SmcCall): Decision {
  if (call.config.normalWorld === null) return notSupported('no normal-world component is configured to take secure-origin calls');
  return { kind: 'forward', to: 'normal-world' };
}

/** TF-A spmd_smc_handler: MSG_SEND, MEM_*, SUCCESS and ERROR cross in either direction. */
export function forwardEitherWay(call: SmcCall): Decision {
  return call.origin === 'nwd' ? forwardToSpmc(call) : forwardToNormalWorld(call);
}

/** TF-A spmd_smc_handler: "should be invoked only by the Normal world and must not be forwarded from Secure world". */
export function forwardFromNormalWorldOnly(call: SmcCall): Decision {
  if (call.origin === 'swd') return notSupported('normal-world-only ABI called from the secure world');
  return forwardToSpmc(call);
}

/** TF-A spmd_smc_handler: FFA_MSG_WAIT, FFA_INTERRUPT, FFA_MSG_YIELD "must be invoked only by the Secure world". */
export function forwardFromSecureWorldOnly(call: SmcCall): Decision {
  if (call.origin === 'nwd') return notSupported('secure-world-only ABI called from the normal world');
  return forwardToNormalWorld(call);
}
