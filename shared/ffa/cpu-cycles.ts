/**
 * ABIs that move CPU cycles between endpoints (Hafnium's cpu_cycles family): FFA_RUN, FFA_MSG_WAIT,
 * FFA_INTERRUPT, FFA_NORMAL_WORLD_RESUME. docs/ffa-reference.md §2.7 and §6.
 */
import type { AbiCodec, NoArgs, NoResult } from './abi-codec.ts';
import { violation, violationsWhere } from './call-checks.ts';
import { FFA_FIDS } from './function-ids.ts';
import { packTargetInfo, unpackTargetInfo } from './partition-id.ts';
import { registers, w } from './registers.ts';
import { assertUint, registersNonzero } from './register-fields.ts';

export const CPU_CYCLES_RULES = {
  // Hafnium handler.c FFA_RUN_32: a caller at v1.2 or later must leave x8..x17 zero, else INVALID_PARAMETERS.
  runExtendedRegisters: violation('run.x8-x17-mbz', 'x8..x17 must be zero (callers at FF-A v1.2 or later)', 'INVALID_PARAMETERS', {
    hafnium: 'INVALID_PARAMETERS',
  }),
} as const;

export type TargetArgs = { target: number; vcpu?: number };

/**
 * w1 = target endpoint[31:16] | vCPU[15:0]. FFA_RUN completes when the partition gives the CPU
 * back, with FFA_MSG_WAIT (Hafnium src/ffa/spmc/cpu_cycles.c ffa_msg_wait_complete).
 */
export const ffaRun: AbiCodec<TargetArgs, NoResult> = {
  abi: 'FFA_RUN',
  fid: FFA_FIDS.FFA_RUN,
  args: { target: 'endpoint', vcpu: 'u16' },
  encodeCall: ({ target, vcpu = 0 }) => registers(FFA_FIDS.FFA_RUN, packTargetInfo(assertUint('target', target, 16), assertUint('vcpu', vcpu, 16))),
  decodeCall: (regs) => {
    const { high: target, low: vcpu } = unpackTargetInfo(w(regs, 1));
    return { args: { target, vcpu }, violations: violationsWhere([[registersNonzero(regs, 8, 17), CPU_CYCLES_RULES.runExtendedRegisters]]) };
  },
  success: {
    fid: FFA_FIDS.FFA_MSG_WAIT,
    encode: () => registers(FFA_FIDS.FFA_MSG_WAIT),
    decode: () => ({ ok: true, result: {} }),
  },
};

/** A partition waiting for its next message; what comes back is that message. */
export const ffaMsgWait: AbiCodec<NoArgs, NoResult> = {
  abi: 'FFA_MSG_WAIT',
  fid: FFA_FIDS.FFA_MSG_WAIT,
  args: {},
  encodeCall: () => registers(FFA_FIDS.FFA_MSG_WAIT),
  decodeCall: () => ({ args: {}, violations: [] }),
  success: null,
};

/**
 * FFA_INTERRUPT: w1 = the interrupted endpoint[31:16] | vCPU[15:0] when it ends a partition's
 * run, 0 when the SPMD enters the SPMC for a secure interrupt (x1..x7 = 0, TF-A spmd_main.c).
 */
export const ffaInterrupt: AbiCodec<TargetArgs, NoResult> = {
  abi: 'FFA_INTERRUPT',
  fid: FFA_FIDS.FFA_INTERRUPT,
  args: { target: 'endpoint', vcpu: 'u16' },
  encodeCall: ({ target, vcpu = 0 }) => registers(FFA_FIDS.FFA_INTERRUPT, packTargetInfo(assertUint('target', target, 16), assertUint('vcpu', vcpu, 16))),
  decodeCall: (regs) => {
    const { high: target, low: vcpu } = unpackTargetInfo(w(regs, 1));
    return { args: { target, vcpu }, violations: [] };
  },
  success: null,
};

/** The SPMC's answer to FFA_INTERRUPT when the normal world should carry on (OP-TEE thread_spmc_msg_recv). */
export const ffaNormalWorldResume: AbiCodec<NoArgs, NoResult> = {
  abi: 'FFA_NORMAL_WORLD_RESUME',
  fid: FFA_FIDS.FFA_NORMAL_WORLD_RESUME,
  args: {},
  encodeCall: () => registers(FFA_FIDS.FFA_NORMAL_WORLD_RESUME),
  decodeCall: () => ({ args: {}, violations: [] }),
  success: null,
};
