/**
 * What the SPs hosted by this SPMC do by themselves (design docs/scenarios.md
 * `behaviour: raw | optee | echo | notifier`):
 * - raw: nothing; the scenario makes every call of the SP through the relay. A direct request to
 *   a raw SP is delivered to its vCPU and the caller waits (the call is held): the SP reads it
 *   with a relay FFA_MSG_WAIT and answers it with a relay FFA_MSG_SEND_DIRECT_RESP, which
 *   completes the caller's call. Until then the vCPU is busy (BUSY to other requesters).
 * - optee: OP-TEE's logical SP (thread_spmc.c handle_blocking_call): capabilities, async
 *   notification enable, and the internal notif_send_async on a control message.
 * - echo: answers a direct request with its payload.
 * - notifier: acknowledges direct requests (empty payload); sets notifications as itself when a
 *   workload asks with a control message.
 */
import {
  hex,
  SET_FLAGS,
  msgSendDirectResp32,
  msgSendDirectResp64,
  type DirectMessage,
  type RegisterFile,
} from '../../shared/ffa/index.ts';
import { assertNever } from '../../shared/protocol/assert-never.ts';
import { isOneOf, knownControlOp, type ControlOp } from '../../shared/protocol/control.ts';
import type { ControlMessage } from '../../shared/protocol/messages.ts';
import type { HeldCall, SpmcState } from './call-context.ts';
import type { SpBehaviourName } from './config.ts';
import { setNotifications, type SetRequest } from './notifications.ts';
import type { Partition, SpVcpu } from './partitions.ts';

export type Width = 32 | 64;

export interface DirectRequest {
  readonly target: Partition;
  readonly vcpuIndex: number;
  readonly vcpu: SpVcpu;
  readonly message: DirectMessage;
  readonly width: Width;
  /** The request's registers as the caller left them. */
  readonly regs: RegisterFile;
  readonly caller: HeldCall;
}

export type DirectRequestOutcome = { readonly kind: 'response'; readonly regs: RegisterFile } | { readonly kind: 'held' };

export interface SpBehaviour {
  onDirectRequest(spmc: SpmcState, request: DirectRequest): DirectRequestOutcome;
}

/** A DIRECT_RESP answering `message`: w1 swapped, the payload cut to the call's width. */
export function directResponse(message: DirectMessage, width: Width, flags: number, payload: readonly bigint[]): RegisterFile {
  const mask = width === 64 ? (1n << 64n) - 1n : 0xffff_ffffn;
  const codec = width === 64 ? msgSendDirectResp64 : msgSendDirectResp32;
  return codec.encodeCall({ sender: message.receiver, receiver: message.sender, flags, payload: payload.map((value) => value & mask) });
}

function respond(request: DirectRequest, payload: readonly (number | bigint)[]): DirectRequestOutcome {
  return { kind: 'response', regs: directResponse(request.message, request.width, 0, payload.map((value) => BigInt(value))) };
}

// ---------------------------------------------------------------- raw

/** Hand a request to a raw SP's vCPU: a parked relay FFA_MSG_WAIT reads it at once, or a later one will. */
const RAW: SpBehaviour = {
  onDirectRequest(spmc, request) {
    const { vcpu } = request;
    vcpu.handling = { sender: request.message.sender, regs: request.regs, caller: request.caller, fetched: false };
    spmc.ctx.record({ event: 'raw-sp-request', sp: request.target.id, vcpu: request.vcpuIndex, sender: request.message.sender });
    const parked = vcpu.parkedWait;
    if (parked) {
      vcpu.parkedWait = null;
      vcpu.handling.fetched = true;
      spmc.complete(parked, request.regs);
    }
    return { kind: 'held' };
  },
};

// ---------------------------------------------------------------- echo, notifier

const ECHO: SpBehaviour = {
  onDirectRequest: (_spmc, request) => respond(request, request.message.payload),
};

const NOTIFIER: SpBehaviour = {
  onDirectRequest: (_spmc, request) => respond(request, []),
};

// ---------------------------------------------------------------- optee (OP-TEE's logical SP)

/** optee_ffa.h service IDs (w3 of a direct request) and capabilities. */
const OPTEE_FFA = {
  GET_API_VERSION: 0,
  EXCHANGE_CAPABILITIES: 2,
  UNREGISTER_SHM: 3,
  ENABLE_ASYNC_NOTIF: 5,
  YIELDING_CALL_BIT: 0x8000_0000,
  SEC_CAP_ARG_OFFSET: 1 << 0,
  SEC_CAP_ASYNC_NOTIF: 1 << 1,
  VERSION_MAJOR: 1,
  VERSION_MINOR: 0,
  MAX_ASYNC_NOTIF_VALUE: 64,
} as const;

/** THREAD_RPC_MAX_NUM_PARAMS (the default CFG). */
const THREAD_RPC_MAX_NUM_PARAMS = 4;

/** tee_api_defines.h result codes carried in w3 of OP-TEE's responses. */
const TEE = { SUCCESS: 0, BAD_PARAMETERS: 0xffff_0006, ITEM_NOT_FOUND: 0xffff_0008, BUSY: 0xffff_000d } as const;

/** spmc_enable_async_notif: the VM's bottom-half notification ID, < OPTEE_FFA_MAX_ASYNC_NOTIF_VALUE. */
function enableAsyncNotification(spmc: SpmcState, value: bigint, vm: number): number {
  if (value >= BigInt(OPTEE_FFA.MAX_ASYNC_NOTIF_VALUE)) return TEE.BAD_PARAMETERS;
  const receiver = spmc.notifications.vms.find(vm);
  if (!receiver) return TEE.BAD_PARAMETERS;
  receiver.asyncNotificationId = Number(value);
  spmc.ctx.record({ event: 'optee-async-notif-enabled', vm, id: Number(value) });
  return TEE.SUCCESS;
}

/** thread_spmc.c handle_direct_request → handle_blocking_call / handle_yielding_call. */
const OPTEE: SpBehaviour = {
  onDirectRequest(spmc, request) {
    const { sender, payload } = request.message;
    // With NS-virtualization, virt_set_guest(sender) must find the guest.
    if (spmc.policies.vmBitmapLifecycle === 'guest-registry' && !spmc.notifications.vms.find(sender) && (sender & 0x8000) === 0) {
      return respond(request, [TEE.ITEM_NOT_FOUND]);
    }
    const command = Number((payload[0] ?? 0n) & 0xffff_ffffn);
    // A yielding call needs a free thread to run a TEE session; none is modelled: TEE_ERROR_BUSY.
    if ((command & OPTEE_FFA.YIELDING_CALL_BIT) !== 0) return respond(request, [TEE.BUSY]);
    switch (command) {
      case OPTEE_FFA.GET_API_VERSION:
        return respond(request, [OPTEE_FFA.VERSION_MAJOR, OPTEE_FFA.VERSION_MINOR]);
      case OPTEE_FFA.EXCHANGE_CAPABILITIES:
        return respond(request, [0, THREAD_RPC_MAX_NUM_PARAMS, OPTEE_FFA.SEC_CAP_ARG_OFFSET | OPTEE_FFA.SEC_CAP_ASYNC_NOTIF]);
      case OPTEE_FFA.UNREGISTER_SHM:
        return respond(request, [TEE.SUCCESS]); // no such cookie: handle_unregister_shm answers 0
      case OPTEE_FFA.ENABLE_ASYNC_NOTIF:
        return respond(request, [enableAsyncNotification(spmc, payload[1] ?? 0n, sender)]);
      default:
        return respond(request, [TEE.BAD_PARAMETERS]); // "Unhandled blocking service ID"
    }
  },
};

const BEHAVIOURS: Readonly<Record<SpBehaviourName, SpBehaviour>> = { raw: RAW, echo: ECHO, notifier: NOTIFIER, optee: OPTEE };

export function behaviourOf(name: SpBehaviourName): SpBehaviour {
  return BEHAVIOURS[name];
}

// ---------------------------------------------------------------- control messages (workloads)

/** What a workload asks of the SPs (shared/protocol/control.ts declares their data). */
const SP_CONTROL_OPS = ['optee-notif-send', 'notifier-set'] as const satisfies readonly ControlOp[];

type ControlData = Record<string, unknown>;

function isControlData(value: unknown): value is ControlData {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integerField(data: ControlData, key: string, max: number, fallback?: number): number | null {
  const value = data[key] ?? fallback;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max ? value : null;
}

/** A 64-bit bitmap given as a bigint, a safe integer or a "0x…" string. */
function bitmapField(data: ControlData, key: string): bigint | null {
  const value = data[key];
  let bits: bigint | null = null;
  if (typeof value === 'bigint') bits = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) bits = BigInt(value);
  else if (typeof value === 'string' && /^0x[0-9a-f]{1,16}$/i.test(value)) bits = BigInt(value);
  return bits !== null && bits >= 0n && bits < 1n << 64n ? bits : null;
}

export function handleControl(spmc: SpmcState, from: string, message: ControlMessage): void {
  const refuseControl = (reason: string) => spmc.ctx.record({ event: 'control-refused', from, op: message.op, reason });
  if (!spmc.config.relayFrom.includes(from)) return refuseControl('not a relayFrom component');
  if (!isControlData(message.data)) return refuseControl('data must be an object');
  const op = knownControlOp(message.op);
  if (op === null || !isOneOf(SP_CONTROL_OPS, op)) return refuseControl('unknown op');
  switch (op) {
    case 'optee-notif-send':
      return opteeNotifSend(spmc, message.data, refuseControl);
    case 'notifier-set':
      return notifierSet(spmc, message.data, refuseControl);
    default:
      return assertNever(op, 'the SPMC control switch');
  }
}

/**
 * OP-TEE's notif_send_async(NOTIF_VALUE_DO_BOTTOM_HALF, vm), standing for the console or watchdog
 * interrupt: the VM's enabled bit pending and the SRI at once (S-EL1 SPMC); as an SP under an
 * S-EL2 SPMC, FFA_NOTIFICATION_SET with the delay-SRI flag (docs/ffa-reference.md §7).
 */
function opteeNotifSend(spmc: SpmcState, data: ControlData, refuseControl: (reason: string) => void): void {
  const vm = integerField(data, 'vm', 0xffff);
  const cpu = integerField(data, 'cpu', spmc.config.cpus - 1, 0);
  if (vm === null || cpu === null) return refuseControl('data needs vm (16-bit) and an optional cpu below the CPU count');
  const optee = spmc.partitions.optee();
  const receiver = spmc.notifications.vms.find(vm);
  let outcome: string;
  let bitmap: bigint | null = null;
  if (!optee) outcome = 'no-optee-sp';
  else if (!receiver) outcome = 'no-bitmap'; // get_notif_vm_bitmap() == NULL: nothing happens
  else if (receiver.asyncNotificationId === null) outcome = 'not-enabled'; // OP-TEE asserts here
  else {
    const flags = spmc.policies.spSet === 'ffa-abi' ? SET_FLAGS.delaySri : 0;
    bitmap = 1n << BigInt(receiver.asyncNotificationId);
    const request: SetRequest = { origin: { kind: 'sp', partition: optee }, sender: optee.id, receiver: vm, flags, vcpu: 0, bitmap, cpu, violations: [] };
    outcome = setNotifications(spmc, request)?.error ?? 'sent';
    // The send stands for OP-TEE handling a secure interrupt that preempted the normal world on
    // `cpu`; when the handler is done the SPMC returns to the normal world there, which is when a
    // delayed SRI goes out (docs/ffa-reference.md §3.6: "the SGI is sent when the SPMC next returns to the NWd
    // on that CPU", Hafnium handler.c ffa_notifications_sri_trigger_if_delayed).
    if (flags !== 0) spmc.sri.onReturnToNormalWorld(cpu);
  }
  // sender and bitmap: what the checkers' ledger needs (services/orchestrator/checkers/spmc-replay.ts).
  spmc.ctx.record({ event: 'optee-notif-send', vm, cpu, outcome, sender: optee?.id ?? null, bitmap: bitmap === null ? null : hex(bitmap) });
}

/** A notifier SP sets `bitmap` for `receiver`, as itself, from `cpu`. */
function notifierSet(spmc: SpmcState, data: ControlData, refuseControl: (reason: string) => void): void {
  const spId = integerField(data, 'sp', 0xffff);
  const receiver = integerField(data, 'receiver', 0xffff);
  const bitmap = bitmapField(data, 'bitmap');
  const cpu = integerField(data, 'cpu', spmc.config.cpus - 1, 0);
  if (spId === null || receiver === null || bitmap === null || cpu === null) return refuseControl('data needs sp, receiver, bitmap and an optional cpu');
  const sp = spmc.partitions.find(spId);
  if (!sp || sp.behaviour !== 'notifier') return refuseControl(`${hex(spId)} is not a notifier SP`);
  const request: SetRequest = { origin: { kind: 'sp', partition: sp }, sender: sp.id, receiver, flags: 0, vcpu: 0, bitmap, cpu, violations: [] };
  const outcome = setNotifications(spmc, request)?.error ?? 'sent';
  spmc.ctx.record({ event: 'notifier-set', sp: sp.id, receiver, bitmap: hex(bitmap), cpu, outcome });
}
