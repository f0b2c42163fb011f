/**
 * The direct messaging family (Hafnium src/ffa/spmc/direct_messaging.c, src/api.c
 * api_ffa_msg_send_direct_req; OP-TEE thread_spmc.c handle_direct_request): partition messages
 * NWd→SP and SP→SP, with BUSY when the target execution context is not waiting; the framework
 * messages VERSION (8/9, from the SPMD) and VM_CREATED/VM_DESTROYED (4/5, 6/7, VM ID in w5);
 * and, for raw SPs whose every call the scenario makes, the relay side of the message loop
 * (FFA_MSG_WAIT to read a request, FFA_MSG_SEND_DIRECT_RESP to answer it).
 */
import {
  FFA_ERROR_CODES,
  FRAMEWORK_MESSAGES,
  hex,
  HYPERVISOR_ID,
  SPMD_ID,
  ffaError,
  ffaSuccess32,
  frameworkMessageFlags,
  frameworkMessageType,
  isFrameworkMessage,
  isSecureId,
  msgSendDirectReq32,
  msgSendDirectReq64,
  msgSendDirectResp32,
  msgSendDirectResp64,
  violation,
  type DirectMessage,
  type FfaErrorName,
  type RegisterFile,
} from '../../shared/ffa/index.ts';
import { HELD, checkRegisters, reply, refuse, type Answer, type CallContext, type HeldCall, type SpmcState } from './call-context.ts';
import type { Partition, SpVcpu } from './partitions.ts';
import { negotiateVersion } from './setup-and-discovery.ts';
import { behaviourOf, directResponse, type DirectRequest, type Width } from './sp-behaviours.ts';

const INVALID = 'INVALID_PARAMETERS';

/** Hafnium api_ffa_msg_send_direct_req: w2 MBZ for partition messages (FF-A v1.2 Table 16.6). */
const DIRECT_REQ_W2 = violation('direct-req.w2-mbz', 'w2 must be zero for a partition message', INVALID, { hafnium: INVALID });

/** The SPMC ID and, under OP-TEE's routing, its own endpoint are served by OP-TEE core itself. */
function isOpteeCoreEndpoint(spmc: SpmcState, id: number): boolean {
  if (spmc.policies.frameworkMessageRouting !== 'optee-core') return false;
  return id === spmc.config.spmcId || id === spmc.partitions.optee()?.id;
}

export function handleDirectRequest(cc: CallContext, width: Width): Answer {
  const message = (width === 64 ? msgSendDirectReq64 : msgSendDirectReq32).decodeCall(cc.regs).args;
  if (isFrameworkMessage(message.flags)) return handleFrameworkRequest(cc, message, width);
  const senderProblem = cc.origin.kind === 'nwd' ? isSecureId(message.sender) : message.sender !== cc.origin.partition.id;
  if (senderProblem) return refuse(cc, INVALID, 'the sender must be the caller (a NWd ID from the NWd, the SP itself from an SP)');
  // Hafnium: a vCPU blocked on its own request cannot run, so cannot send (state transition refused).
  if (cc.origin.kind === 'sp' && callerVcpu(cc).blockedOn !== null) return refuse(cc, 'DENIED', 'the vCPU waits for the answer to its own request');
  const check = checkRegisters(cc.spmc, { args: message, violations: message.flags !== 0 ? [DIRECT_REQ_W2] : [] });
  if (!check.ok) return refuse(cc, check.error, check.why);
  if (message.receiver === message.sender) return refuse(cc, INVALID, 'a partition cannot message itself');
  const opteeCore = isOpteeCoreEndpoint(cc.spmc, message.receiver);
  const target = opteeCore ? cc.spmc.partitions.optee() : cc.spmc.partitions.find(message.receiver);
  if (!target) return refuse(cc, INVALID, `receiver ${hex(message.receiver)} is not a partition`);
  if (!opteeCore && !target.supports('direct')) return refuse(cc, 'DENIED', `${hex(target.id)} does not receive direct requests`);
  return deliver(cc, target, message, width);
}

function deliver(cc: CallContext, target: Partition, message: DirectMessage, width: Width): Answer {
  const slot = target.vcpuForCpu(cc.call.cpu);
  if (!slot) return refuse(cc, INVALID, `${hex(target.id)} has no execution context for CPU ${cc.call.cpu}`);
  if (!slot.vcpu.isWaiting) return refuse(cc, 'BUSY', `${hex(target.id)} vCPU ${slot.index} is busy with another request`);
  const caller: HeldCall = { from: cc.from, call: cc.call, origin: cc.origin };
  const request: DirectRequest = { target, vcpuIndex: slot.index, vcpu: slot.vcpu, message, width, regs: cc.regs, caller };
  const outcome = behaviourOf(target.behaviour).onDirectRequest(cc.spmc, request);
  if (outcome.kind === 'response') return reply(outcome.regs);
  if (cc.origin.kind === 'sp') callerVcpu(cc).blockedOn = target.id;
  return HELD;
}

function callerVcpu(cc: CallContext): SpVcpu {
  if (cc.origin.kind !== 'sp') throw new Error('bug: an NWd caller has no SP vCPU');
  const vcpu = cc.origin.partition.vcpus[cc.call.vcpu];
  if (!vcpu) throw new Error(`bug: relay vCPU ${cc.call.vcpu} was not validated`);
  return vcpu;
}

// ---------------------------------------------------------------- framework messages (§2.7)

function frameworkResponse(message: DirectMessage, width: Width, type: number, status: number): RegisterFile {
  return directResponse(message, width, frameworkMessageFlags(type), [BigInt(status >>> 0)]);
}

function statusCode(error: FfaErrorName | null): number {
  return error === null ? 0 : FFA_ERROR_CODES[error];
}

function handleFrameworkRequest(cc: CallContext, message: DirectMessage, width: Width): Answer {
  if (cc.origin.kind === 'sp') return refuse(cc, INVALID, 'framework messages come from the SPMD or the hypervisor');
  switch (frameworkMessageType(message.flags)) {
    case FRAMEWORK_MESSAGES.VERSION_REQ:
      return versionRequest(cc, message, width);
    case FRAMEWORK_MESSAGES.VM_CREATED_REQ:
      return vmAvailability(cc, message, width, 'created');
    case FRAMEWORK_MESSAGES.VM_DESTROYED_REQ:
      return vmAvailability(cc, message, width, 'destroyed');
    default:
      // OP-TEE handle_framework_direct_request's default: FFA_ERROR, NOT_SUPPORTED.
      return refuse(cc, 'NOT_SUPPORTED', `framework message type ${frameworkMessageType(message.flags)} is not handled`);
  }
}

/** TF-A SPMD_FWK_MSG_FFA_VERSION_REQ: w3 = the NWd's requested version; the answer's w3 is the SPMC's. */
function versionRequest(cc: CallContext, message: DirectMessage, width: Width): Answer {
  const { spmc } = cc;
  const toSpmc = message.receiver === spmc.config.spmcId || isOpteeCoreEndpoint(spmc, message.receiver);
  if (!toSpmc) return refuse(cc, INVALID, 'the VERSION framework message is for the SPMC');
  if (spmc.policies.frameworkMessageRouting === 'hafnium' && message.sender !== SPMD_ID) return refuse(cc, INVALID, 'the VERSION framework message comes from the SPMD');
  const requested = Number((message.payload[0] ?? 0n) & 0xffff_ffffn);
  const answer = negotiateVersion(spmc, requested, (negotiated) => {
    spmc.nwdVersion = negotiated;
  });
  return reply(frameworkResponse(message, width, FRAMEWORK_MESSAGES.VERSION_RESP, answer ?? 0xffff_ffff));
}

type Availability = 'created' | 'destroyed';

/** VM_CREATED/VM_DESTROYED (Xen ffa_direct_req_send_vm: a1 = sp_id, a2 = BIT(31)|msg, a5 = vm_id). */
function vmAvailability(cc: CallContext, message: DirectMessage, width: Width, what: Availability): Answer {
  const vm = Number((message.payload[2] ?? 0n) & 0xffffn);
  const responseType = what === 'created' ? FRAMEWORK_MESSAGES.VM_CREATED_RESP : FRAMEWORK_MESSAGES.VM_DESTROYED_RESP;
  if (isOpteeCoreEndpoint(cc.spmc, message.receiver)) return opteeGuestLifecycle(cc, message, width, what, vm, responseType);
  const target = cc.spmc.partitions.find(message.receiver);
  if (!target) return refuse(cc, INVALID, `receiver ${hex(message.receiver)} is not a partition`);
  if (!target.supports(what === 'created' ? 'vm-created' : 'vm-destroyed')) return refuse(cc, INVALID, `${hex(target.id)} did not subscribe to VM ${what} messages`);
  if (message.sender !== HYPERVISOR_ID) return refuse(cc, INVALID, 'VM availability messages come from the hypervisor (ID 0)');
  // The SP's answer is not scripted: every behaviour, raw included, acknowledges with success.
  cc.spmc.ctx.record({ event: 'vm-availability', sp: target.id, vm, message: what });
  return reply(frameworkResponse(message, width, responseType, 0));
}

/** OP-TEE handle_framework_direct_request: virt_guest_created/destroyed under CFG_NS_VIRTUALIZATION. */
function opteeGuestLifecycle(cc: CallContext, message: DirectMessage, width: Width, what: Availability, vm: number, responseType: number): Answer {
  const { spmc } = cc;
  if (spmc.policies.vmBitmapLifecycle !== 'guest-registry') return reply(ffaError('NOT_SUPPORTED'));
  let error: FfaErrorName | null = null;
  if (what === 'created') {
    const created = spmc.notifications.vms.createGuest(vm);
    // TEE_ERROR_OUT_OF_MEMORY → FFA_DENIED; any other failure → FFA_INVALID_PARAMETERS.
    error = created === 'created' ? null : created === 'out-of-memory' ? 'DENIED' : INVALID;
  } else {
    spmc.notifications.vms.destroyGuest(vm); // virt_guest_destroyed always returns TEE_SUCCESS
  }
  const fields = { vm, status: error ?? 'OK' };
  spmc.ctx.record(what === 'created' ? { event: 'vm-created', ...fields } : { event: 'vm-destroyed', ...fields });
  return reply(frameworkResponse(message, width, responseType, statusCode(error)));
}

// ---------------------------------------------------------------- a raw SP's message loop (relay)

function rawSpVcpu(cc: CallContext) {
  if (cc.origin.kind === 'nwd') return null;
  return cc.origin.partition.behaviour === 'raw' ? callerVcpu(cc) : null;
}

/**
 * FFA_MSG_WAIT by a raw SP: the request delivered to this vCPU if it has not read it yet;
 * otherwise the call waits (held) for the next one. DENIED while a request is unanswered or the
 * vCPU waits for its own request's answer (Hafnium: the runtime state transition is refused).
 */
export function handleMsgWait(cc: CallContext): Answer {
  if (cc.origin.kind === 'nwd') return refuse(cc, 'NOT_SUPPORTED', 'FFA_MSG_WAIT is for SPs');
  const vcpu = rawSpVcpu(cc);
  if (!vcpu) return refuse(cc, 'DENIED', 'only a raw SP runs its message loop through the relay');
  if (vcpu.blockedOn !== null) return refuse(cc, 'DENIED', 'the vCPU waits for the answer to its own request');
  if (vcpu.handling) {
    if (vcpu.handling.fetched) return refuse(cc, 'DENIED', 'answer the current request before waiting for another');
    vcpu.handling.fetched = true;
    return reply(vcpu.handling.regs);
  }
  if (vcpu.parkedWait) return refuse(cc, 'BUSY', 'the vCPU already waits for a message');
  vcpu.parkedWait = { from: cc.from, call: cc.call, origin: cc.origin };
  return HELD;
}

/**
 * FFA_MSG_SEND_DIRECT_RESP by a raw SP: completes the request it answers. In the real world the
 * call returns with the SP's next message; through the relay it returns FFA_SUCCESS_32 at once,
 * and the next message is read with FFA_MSG_WAIT.
 */
export function handleDirectResponse(cc: CallContext, width: Width): Answer {
  if (cc.origin.kind === 'nwd') return refuse(cc, 'DENIED', 'no SP request awaits a response from the NWd');
  const vcpu = rawSpVcpu(cc);
  if (!vcpu) return refuse(cc, 'DENIED', 'only a raw SP answers through the relay');
  const request = vcpu.handling;
  if (!request) return refuse(cc, 'DENIED', 'there is no direct request to respond to');
  const response = (width === 64 ? msgSendDirectResp64 : msgSendDirectResp32).decodeCall(cc.regs).args;
  if (response.sender !== cc.origin.partition.id || response.receiver !== request.sender) {
    return refuse(cc, INVALID, 'the response must go from this SP to the requester');
  }
  if (isFrameworkMessage(response.flags)) return refuse(cc, INVALID, 'a partition message gets a partition response');
  vcpu.handling = null;
  if (request.caller.origin.kind === 'sp') unblock(request.caller);
  cc.spmc.ctx.record({ event: 'direct-response', sp: cc.origin.partition.id, to: request.sender });
  cc.spmc.complete(request.caller, [...cc.regs.slice(0, 8), ...new Array<bigint>(cc.regs.length - 8).fill(0n)]);
  return reply(ffaSuccess32());
}

function unblock(caller: HeldCall): void {
  if (caller.origin.kind !== 'sp') return;
  const vcpu = caller.origin.partition.vcpus[caller.call.vcpu];
  if (vcpu) vcpu.blockedOn = null;
}
