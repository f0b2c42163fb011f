/**
 * The direct messaging family (docs/ffa-reference.md §5.4, §5.2; Xen ffa_msg.c, ffa_partinfo.c):
 * - guest FFA_MSG_SEND_DIRECT_REQ(2) to an SP and FFA_RUN of an SP vCPU, forwarded and the
 *   answer copied back (ffa_handle_msg_send_direct_req, ffa_handle_run, ffa_finish_direct_req_run);
 * - the framework messages VM_CREATED and VM_DESTROYED the hypervisor sends to the SPs that
 *   subscribed to them in their partition properties (ffa_direct_req_send_vm).
 */
import {
  FFA_ERROR_CODES,
  FFA_FIDS,
  FRAMEWORK_MESSAGES,
  abiNameOf,
  ffaError,
  frameworkMessageFlags,
  isSecureId,
  isSmc64,
  registers,
  w,
  x,
  type RegisterFile,
} from '../../shared/ffa/index.ts';
import { codeName, describeResult, returnCode, type FirmwareLink, type FirmwareResult } from './firmware.ts';
import { forward, guestVersion, refuse, type Answer, type GuestCall, type HypervisorState, type Outcome } from './guest-call.ts';
import { MY_VERSION } from './setup-and-discovery.ts';

const MASK_32 = 0xffff_ffffn;
const MASK_64 = (1n << 64n) - 1n;

/** ffa_finish_direct_req_run: what may come back from a direct request or FFA_RUN. */
const EXPECTED_ANSWERS: ReadonlySet<number> = new Set([
  FFA_FIDS.FFA_ERROR,
  FFA_FIDS.FFA_SUCCESS_32,
  FFA_FIDS.FFA_SUCCESS_64,
  FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32,
  FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_64,
  FFA_FIDS.FFA_YIELD,
  FFA_FIDS.FFA_INTERRUPT,
]);

/**
 * ffa_finish_direct_req_run: an expected answer is copied back (x0..x7, masked to 32 bits for an
 * SMC32 answer; DIRECT_RESP2 with x1..x17); anything else is FFA_ERROR ABORTED ("Bad fid").
 */
function finishDirectOrRun(abi: string): (result: FirmwareResult) => Answer {
  return (result) => {
    if (!result.ok) return { regs: ffaError(returnCode(result)), why: `${abi} forwarded: ${describeResult(result)}` };
    const fid = w(result.regs, 0);
    if (fid === FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP2) return { regs: result.regs.slice(), why: `${abi} answered with DIRECT_RESP2: x0..x17 copied` };
    if (!EXPECTED_ANSWERS.has(fid) || x(result.regs, 0) > MASK_32) {
      return { regs: ffaError('ABORTED'), why: `${abi} answered with unexpected ${describeResult(result)}` };
    }
    const mask = isSmc64(fid) ? MASK_64 : MASK_32;
    const regs = registers(fid, ...[1, 2, 3, 4, 5, 6, 7].map((index) => x(result.regs, index) & mask));
    return { regs, why: `${abi} answered with ${abiNameOf(fid) ?? fid}` };
  };
}

/**
 * ffa_handle_msg_send_direct_req: the firmware must support the FID; the sender must be the caller
 * and the receiver another endpoint (INVALID_PARAMETERS), and secure (NOT_SUPPORTED: no direct
 * messages to VMs). Forwarded with w2..w7 masked to the call's convention.
 */
export function handleDirectRequest(gc: GuestCall, fid: number): Outcome {
  const abi = abiNameOf(fid) ?? 'DIRECT_REQ';
  if (fid === FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ2 && guestVersion(gc) < MY_VERSION) return refuse('NOT_SUPPORTED', 'DIRECT_REQ2 needs a guest at v1.2');
  if (!gc.hv.firmware.supports(abiNameOf(fid) ?? 'FFA_MSG_SEND_DIRECT_REQ_32')) return refuse('NOT_SUPPORTED', `the firmware does not support ${abi}`);
  const srcDst = w(gc.regs, 1);
  if (srcDst >>> 16 !== gc.vm.id || (srcDst & 0xffff) === gc.vm.id) {
    return refuse('INVALID_PARAMETERS', 'the sender must be the caller and the receiver another endpoint');
  }
  if (!isSecureId(srcDst & 0xffff)) return refuse('NOT_SUPPORTED', 'direct messages to VMs are not supported');
  return forward(directRequestRegisters(gc.regs, fid), finishDirectOrRun(abi));
}

/** x1..x7 (masked) for REQ_32/64; REQ2 carries x1..x17 (FF-A v1.2). */
function directRequestRegisters(guest: RegisterFile, fid: number): RegisterFile {
  if (fid === FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ2) return [BigInt(fid), ...guest.slice(1)];
  const mask = isSmc64(fid) ? MASK_64 : MASK_32;
  return registers(fid, BigInt(w(guest, 1)), ...[2, 3, 4, 5, 6, 7].map((index) => x(guest, index) & mask));
}

/** ffa_handle_run: the firmware must support it and the target (w1[31:16]) must be an SP. */
export function handleRun(gc: GuestCall): Outcome {
  if (!gc.hv.firmware.supports('FFA_RUN')) return refuse('NOT_SUPPORTED', 'the firmware does not support FFA_RUN');
  const target = w(gc.regs, 1);
  if (!isSecureId(target >>> 16)) return refuse('NOT_SUPPORTED', 'FFA_RUN of a VM is not supported');
  return forward(registers(FFA_FIDS.FFA_RUN, target), finishDirectOrRun('FFA_RUN'));
}

// ---------------------------------------------------------------- VM_CREATED / VM_DESTROYED (§5.2)

export type VmAvailability = 'VM_CREATED' | 'VM_DESTROYED';

const REQUEST_TYPE: Readonly<Record<VmAvailability, number>> = {
  VM_CREATED: FRAMEWORK_MESSAGES.VM_CREATED_REQ,
  VM_DESTROYED: FRAMEWORK_MESSAGES.VM_DESTROYED_REQ,
};
const RESPONSE_TYPE: Readonly<Record<VmAvailability, number>> = {
  VM_CREATED: FRAMEWORK_MESSAGES.VM_CREATED_RESP,
  VM_DESTROYED: FRAMEWORK_MESSAGES.VM_DESTROYED_RESP,
};

/** ffa_direct_req_send_vm: "give up after a few retries" (++retry_count > 10). */
const MAX_ATTEMPTS = 11;

/** The status in an answer's w3, or INVALID_PARAMETERS when the answer is not the framework response. */
function availabilityStatus(result: FirmwareResult, message: VmAvailability): number {
  if (!result.ok) return returnCode(result);
  const expected = frameworkMessageFlags(RESPONSE_TYPE[message]);
  if (w(result.regs, 0) !== FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32 || w(result.regs, 2) !== expected) return FFA_ERROR_CODES.INVALID_PARAMETERS;
  return w(result.regs, 3) | 0;
}

function retryable(status: number): boolean {
  return status === FFA_ERROR_CODES.INTERRUPTED || status === FFA_ERROR_CODES.RETRY;
}

/**
 * ffa_direct_req_send_vm(sp, vm, msg): FFA_MSG_SEND_DIRECT_REQ_32 with w1 = sp (sender 0, the
 * hypervisor), w2 = BIT(31) | msg, w5 = the VM ID; retried while the SP answers INTERRUPTED or
 * RETRY, at most 11 times. `done` gets the status (0 = success).
 */
export function sendVmAvailability(
  hv: HypervisorState,
  link: FirmwareLink,
  request: { sp: number; vm: number; message: VmAvailability; cpu: number },
  done: (status: number) => void,
): void {
  const regs = registers(FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32, request.sp, frameworkMessageFlags(REQUEST_TYPE[request.message]), 0, 0, request.vm);
  const attempt = (count: number): void => {
    link.call(regs, request.cpu, (result) => {
      const status = availabilityStatus(result, request.message);
      hv.ctx.record({
        event: 'fw-call',
        purpose: request.message,
        abi: 'FFA_MSG_SEND_DIRECT_REQ_32',
        sp: request.sp,
        vm: request.vm,
        attempt: count,
        result: describeResult(result),
        status: codeName(status),
      });
      if (retryable(status) && count < MAX_ATTEMPTS) return attempt(count + 1);
      done(status);
    });
  };
  attempt(1);
}
