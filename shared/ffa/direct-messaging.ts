/**
 * FFA_MSG_SEND_DIRECT_REQ/RESP, 32- and 64-bit (docs/ffa-reference.md §2.7): w1 = sender[31:16] |
 * receiver[15:0], w2 = flags (bit 31 framework message, [7:0] its type), x3..x7 = payload
 * (w3..w7 for the 32-bit calls).
 */
import type { AbiCodec, NoResult } from './abi-codec.ts';
import { FFA_FIDS } from './function-ids.ts';
import { packTargetInfo, unpackTargetInfo } from './partition-id.ts';
import { registers, w, x, type RegisterFile } from './registers.ts';
import { assertBigUint, assertUint } from './register-fields.ts';

export const DIRECT_MESSAGE_PAYLOAD_REGISTERS = 5;

export const FRAMEWORK_MESSAGE_FLAG = 0x8000_0000;

/**
 * Framework message types in w2[7:0]: TF-A ffa_svc.h FFA_FWK_MSG_PSCI and FFA_PM_MSG_PM_RESP;
 * Xen ffa_private.h VM_CREATED/DESTROYED (the VM ID in w5); TF-A SPMD_FWK_MSG_FFA_VERSION_REQ/RESP.
 */
export const FRAMEWORK_MESSAGES = {
  PSCI_REQ: 0,
  PSCI_RESP: 2,
  VM_CREATED_REQ: 4,
  VM_CREATED_RESP: 5,
  VM_DESTROYED_REQ: 6,
  VM_DESTROYED_RESP: 7,
  VERSION_REQ: 8,
  VERSION_RESP: 9,
} as const;

export function frameworkMessageFlags(type: number): number {
  return (FRAMEWORK_MESSAGE_FLAG | assertUint('framework message type', type, 8)) >>> 0;
}

export function isFrameworkMessage(flags: number): boolean {
  return ((flags >>> 0) & FRAMEWORK_MESSAGE_FLAG) !== 0;
}

export function frameworkMessageType(flags: number): number {
  return flags & 0xff;
}

export type DirectMessageArgs = { sender: number; receiver: number; flags?: number; payload?: readonly bigint[] };
export type DirectMessage = Required<DirectMessageArgs>;

type Width = 32 | 64;

function encodeDirectMessage(fid: number, width: Width, { sender, receiver, flags = 0, payload = [] }: DirectMessageArgs): RegisterFile {
  if (payload.length > DIRECT_MESSAGE_PAYLOAD_REGISTERS) throw new RangeError(`payload has ${payload.length} values; at most ${DIRECT_MESSAGE_PAYLOAD_REGISTERS}`);
  const ids = packTargetInfo(assertUint('sender', sender, 16), assertUint('receiver', receiver, 16));
  const values = payload.map((value, index) => assertBigUint(`payload[${index}]`, value, width));
  return registers(fid, ids, assertUint('flags', flags, 32), ...values);
}

function decodeDirectMessage(regs: RegisterFile, width: Width): DirectMessage {
  const { high: sender, low: receiver } = unpackTargetInfo(w(regs, 1));
  const payload = [3, 4, 5, 6, 7].map((index) => (width === 64 ? x(regs, index) : BigInt(w(regs, index))));
  return { sender, receiver, flags: w(regs, 2), payload };
}

const ARG_KINDS = { sender: 'endpoint', receiver: 'endpoint', flags: 'u32', payload: 'payload' } as const;

/** A request; its success is the partition's DIRECT_RESP of the same width. */
function directRequest(width: Width): AbiCodec<DirectMessageArgs, DirectMessageArgs> {
  const fid = width === 64 ? FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_64 : FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32;
  const responseFid = width === 64 ? FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_64 : FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32;
  return {
    abi: width === 64 ? 'FFA_MSG_SEND_DIRECT_REQ_64' : 'FFA_MSG_SEND_DIRECT_REQ_32',
    fid,
    args: ARG_KINDS,
    encodeCall: (message) => encodeDirectMessage(fid, width, message),
    decodeCall: (regs) => ({ args: decodeDirectMessage(regs, width), violations: [] }),
    success: {
      fid: responseFid,
      encode: (message) => encodeDirectMessage(responseFid, width, message),
      decode: (regs) => ({ ok: true, result: decodeDirectMessage(regs, width) }),
    },
  };
}

/** A response, sent by the partition that got the request; it hands the CPU back, so no success. */
function directResponse(width: Width): AbiCodec<DirectMessageArgs, NoResult> {
  const fid = width === 64 ? FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_64 : FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32;
  return {
    abi: width === 64 ? 'FFA_MSG_SEND_DIRECT_RESP_64' : 'FFA_MSG_SEND_DIRECT_RESP_32',
    fid,
    args: ARG_KINDS,
    encodeCall: (message) => encodeDirectMessage(fid, width, message),
    decodeCall: (regs) => ({ args: decodeDirectMessage(regs, width), violations: [] }),
    success: null,
  };
}

export const msgSendDirectReq32 = directRequest(32);
export const msgSendDirectReq64 = directRequest(64);
export const msgSendDirectResp32 = directResponse(32);
export const msgSendDirectResp64 = directResponse(64);
