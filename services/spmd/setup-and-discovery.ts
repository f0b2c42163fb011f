/**
 * Setup and discovery ABIs the SPMD answers itself, or forwards (docs/ffa-reference.md §6, TF-A spmd_main.c
 * spmd_smc_handler): FFA_VERSION (with the SPMD_FWK_MSG_FFA_VERSION_REQ exchange), FFA_ID_GET,
 * FFA_SPM_ID_GET, FFA_FEATURES, FFA_PARTITION_INFO_GET_REGS, FFA_SECONDARY_EP_REGISTER.
 */
import {
  FFA_FIDS,
  FFA_VERSION_1_0,
  ffaSuccess32,
  ffaSuccess64,
  ffaVersion,
  FRAMEWORK_MESSAGES,
  frameworkMessageFlags,
  HYPERVISOR_ID,
  msgSendDirectReq32,
  registers,
  SPMD_ID,
  versionNotSupported,
  w,
  x,
  type RegisterFile,
} from '../../shared/ffa/index.ts';
import { answer, type Decision, notSupported, type SmcCall } from './decision.ts';
import { forwardToSpmc } from './forwarding.ts';

/**
 * TF-A spmd_smc_handler FFA_VERSION. The answer is the version itself in w0, or NOT_SUPPORTED (-1)
 * in w0 (docs/ffa-reference.md §1.4), never an FFA_ERROR.
 */
export function onVersion(call: SmcCall): Decision {
  const { args, violations } = ffaVersion.decodeCall(call.regs);
  const bit31 = violations[0];
  if (bit31 !== undefined) return answer(versionNotSupported(), bit31.why);
  if (call.spmcState !== 'on') return answer(versionNotSupported(), `the SPMC is not up (${call.spmcState})`);
  if (call.origin === 'swd') return answer(registers(call.config.spmdVersion), "the SPMD's own version, to the secure world");
  if (call.config.spmcVersion === FFA_VERSION_1_0) return answer(registers(FFA_VERSION_1_0), 'the SPMC manifest says v1.0');
  return { kind: 'ask-spmc-version', requested: args.version };
}

/**
 * The framework direct request the SPMD sends the SPMC for a normal-world FFA_VERSION (TF-A
 * spmd_build_spmc_message): DIRECT_REQ_32, w1 = SPMD_ID << 16 | spmc_id, w2 = BIT(31) | 8,
 * w3 = the requested version, w4..w7 = 0.
 */
export function frameworkVersionRequest(spmcId: number, requested: number): RegisterFile {
  return msgSendDirectReq32.encodeCall({
    sender: SPMD_ID,
    receiver: spmcId,
    flags: frameworkMessageFlags(FRAMEWORK_MESSAGES.VERSION_REQ),
    payload: [BigInt(requested)],
  });
}

/**
 * The version in the SPMC's framework response, or null when the answer is not one (TF-A: x0 must
 * be FFA_MSG_SEND_DIRECT_RESP_SMC32 and x2 FFA_FWK_MSG_BIT | SPMD_FWK_MSG_FFA_VERSION_RESP, else
 * "Failed to forward FFA_VERSION" and NOT_SUPPORTED). The version is w3: TF-A hands x3 on as a
 * uint32_t FID.
 */
export function versionFromFrameworkResponse(regs: RegisterFile): number | null {
  const isDirectResponse = x(regs, 0) === BigInt(FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32);
  const isVersionResponse = x(regs, 2) === BigInt(frameworkMessageFlags(FRAMEWORK_MESSAGES.VERSION_RESP));
  return isDirectResponse && isVersionResponse ? w(regs, 3) : null;
}

/** FFA_SUCCESS_32 with w2 = an endpoint ID (docs/ffa-reference.md §2.7; TF-A SMC_RET8 with FFA_TARGET_INFO_MBZ in w1). */
function idInW2(id: number): RegisterFile {
  return ffaSuccess32(0, id);
}

/** TF-A FFA_ID_GET: the normal world is FFA_NS_ENDPOINT_ID (0); the secure world is the SPMC. */
export function onIdGet(call: SmcCall): Decision {
  if (call.origin === 'nwd') return answer(idInW2(HYPERVISOR_ID), 'FFA_NS_ENDPOINT_ID to the normal world');
  return answer(idInW2(call.config.spmcId), 'spmc_id to the secure world');
}

/** TF-A FFA_SPM_ID_GET: the SPMC's ID to the normal world, the SPMD's (0xFFFF) to the secure world. */
export function onSpmIdGet(call: SmcCall): Decision {
  if (call.origin === 'nwd') return answer(idInW2(call.config.spmcId), 'spmc_id to the normal world');
  return answer(idInW2(SPMD_ID), 'the SPMD ID to the secure world');
}

/**
 * TF-A FFA_FEATURES: forwarded from the normal world (so it learns the SRI from the SPMC); from
 * the secure world a blanket success that hands x1..x7 back ("all FFA functions are supported").
 */
export function onFeatures(call: SmcCall): Decision {
  if (call.origin === 'nwd') return forwardToSpmc(call);
  return answer(registers(FFA_FIDS.FFA_SUCCESS_32, ...call.regs.slice(1, 8)), 'blanket success to the secure world');
}

/** FFA_PARTITION_INFO_GET_REGS: forwarded from the normal world; from the secure world it asks for EL3 logical partitions. */
export function onPartitionInfoGetRegs(call: SmcCall): Decision {
  if (call.origin === 'nwd') return forwardToSpmc(call);
  return notSupported('no EL3 logical partitions are modelled');
}

/**
 * FFA_SECONDARY_EP_REGISTER_SMC64, secure world only (TF-A spmd_pm_secondary_ep_register). The
 * SPMC image is not modelled, so the entry point is not checked against it.
 */
export function onSecondaryEpRegister(call: SmcCall): Decision {
  if (call.origin === 'nwd') return notSupported('secure-world-only ABI called from the normal world');
  return answer(ffaSuccess64(), 'secondary entry point registered');
}
