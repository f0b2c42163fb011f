/**
 * The notification ABIs (docs/ffa-reference.md §2.1–§2.6): encoders, argument decoders that report the
 * reserved-bit rules each implementation enforces, and the GET and INFO_GET returns.
 * All but INFO_GET_64 are SMC32: they read w-registers only.
 */
import { EMPTY_SUCCESS_32, type AbiCodec, type NoArgs, type NoResult } from './abi-codec.ts';
import { violation, violationsWhere } from './call-checks.ts';
import { ffaSuccess32, ffaSuccess64 } from './errors.ts';
import { FFA_FIDS } from './function-ids.ts';
import { packNotificationInfo, unpackNotificationInfo, type InfoGetWidth, type NotificationInfo } from './info-get-list.ts';
import { BIND_FLAGS, SET_FLAGS, SET_FLAGS_VCPU_SHIFT } from './notification-flags.ts';
import { packTargetInfo, unpackTargetInfo } from './partition-id.ts';
import { registers, w, type RegisterFile } from './registers.ts';
import { assertBigUint, assertUint, high32, join32, low32, registersNonzero, wordsNonzero } from './register-fields.ts';

const INVALID = 'INVALID_PARAMETERS';

/** The reserved-bit rules of the notification ABIs, with who checks each. */
export const NOTIFICATION_RULES = {
  // OP-TEE thread_spmc.c handle_notification_bitmap_create/_destroy: `!FFA_TARGET_INFO_GET_SP_ID(a1)`
  // and a3..a7 == 0, else INVALID_PARAMETERS. Hafnium handler.c casts w1 to 16 bits unchecked.
  bitmapCreateVmHigh: violation('bitmap-create.w1-high-mbz', 'w1[31:16] must be zero', INVALID, { optee: INVALID }),
  bitmapCreateW3toW7: violation('bitmap-create.w3-w7-mbz', 'w3..w7 must be zero', INVALID, { optee: INVALID }),
  bitmapDestroyVmHigh: violation('bitmap-destroy.w1-high-mbz', 'w1[31:16] must be zero', INVALID, { optee: INVALID }),
  // docs/ffa-reference.md §2.2 "other registers MBZ"; OP-TEE's destroy handler does not look at a2.
  bitmapDestroyW2: violation('bitmap-destroy.w2-mbz', 'w2 must be zero', INVALID, {}),
  bitmapDestroyW3toW7: violation('bitmap-destroy.w3-w7-mbz', 'w3..w7 must be zero', INVALID, { optee: INVALID }),
  // Hafnium src/ffa/spmc/notifications.c: any flag but per-vCPU -> INVALID_PARAMETERS; OP-TEE
  // handle_notification_bind and Xen ffa_notif.c refuse every flag with DENIED (global only).
  bindFlagsReserved: violation('bind.flags-reserved', 'w2 bits other than bit 0 (per-vCPU) must be zero', INVALID, {
    hafnium: INVALID,
    optee: 'DENIED',
    xen: 'DENIED',
  }),
  // OP-TEE handle_notification_bind/_unbind: a5..a7 != 0 -> INVALID_PARAMETERS.
  bindW5toW7: violation('bind.w5-w7-mbz', 'w5..w7 must be zero', INVALID, { optee: INVALID }),
  // OP-TEE handle_notification_unbind requires a2 == 0; Hafnium handler.c passes 0 whatever w2 is.
  unbindW2: violation('unbind.w2-mbz', 'w2 must be zero', INVALID, { optee: INVALID }),
  unbindW5toW7: violation('unbind.w5-w7-mbz', 'w5..w7 must be zero', INVALID, { optee: INVALID }),
  // Hafnium ffa_notifications_is_set_valid (docs/ffa-reference.md §3.3). OP-TEE does not dispatch SET; Xen forwards.
  setFlagsReserved: violation('set.flags-reserved', 'w2 bits [15:2] must be zero', INVALID, { hafnium: INVALID }),
  setVcpuOfGlobal: violation('set.vcpu-without-per-vcpu', 'w2[31:16] (vCPU ID) must be zero for a global notification', INVALID, { hafnium: INVALID }),
  // Hafnium api_ffa_notification_get: flags [31:4] -> INVALID_PARAMETERS (docs/ffa-reference.md §3.4).
  getFlagsReserved: violation('get.flags-reserved', 'w2 bits [31:4] must be zero', INVALID, { hafnium: INVALID }),
  // OP-TEE thread_spmc.c handle_notification_get: a5..a7 != 0 -> INVALID_PARAMETERS.
  getW5toW7: violation('get.w5-w7-mbz', 'w5..w7 must be zero', INVALID, { optee: INVALID }),
  // OP-TEE handle_notification_info_get: a1..a7 != 0 -> INVALID_PARAMETERS (docs/ffa-reference.md §2.6).
  infoGet32Args: violation('info-get.w1-w7-mbz', 'w1..w7 must be zero', INVALID, { optee: INVALID }),
  infoGet64Args: violation('info-get.x1-x7-mbz', 'x1..x7 must be zero', INVALID, { optee: INVALID }),
} as const;

const R = NOTIFICATION_RULES;

/** w1 with two named 16-bit IDs, high in [31:16]; the names make a RangeError say which field. */
function pairOfIds(highName: string, high: number, lowName: string, low: number): number {
  return packTargetInfo(assertUint(highName, high, 16), assertUint(lowName, low, 16));
}

export type BitmapCreateArgs = { vm: number; vcpus: number };

/** docs/ffa-reference.md §2.1: w1[15:0] VM ID, w2 vCPU count. */
export const notificationBitmapCreate: AbiCodec<BitmapCreateArgs, NoResult> = {
  abi: 'FFA_NOTIFICATION_BITMAP_CREATE',
  fid: FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE,
  args: { vm: 'endpoint', vcpus: 'u32' },
  encodeCall: ({ vm, vcpus }) => registers(FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE, assertUint('vm', vm, 16), assertUint('vcpus', vcpus, 32)),
  decodeCall: (regs) => ({
    args: { vm: w(regs, 1) & 0xffff, vcpus: w(regs, 2) },
    violations: violationsWhere([
      [w(regs, 1) >>> 16 !== 0, R.bitmapCreateVmHigh],
      [wordsNonzero(regs, 3, 7), R.bitmapCreateW3toW7],
    ]),
  }),
  success: EMPTY_SUCCESS_32,
};

export type BitmapDestroyArgs = { vm: number };

/** docs/ffa-reference.md §2.2: w1[15:0] VM ID, everything else MBZ. */
export const notificationBitmapDestroy: AbiCodec<BitmapDestroyArgs, NoResult> = {
  abi: 'FFA_NOTIFICATION_BITMAP_DESTROY',
  fid: FFA_FIDS.FFA_NOTIFICATION_BITMAP_DESTROY,
  args: { vm: 'endpoint' },
  encodeCall: ({ vm }) => registers(FFA_FIDS.FFA_NOTIFICATION_BITMAP_DESTROY, assertUint('vm', vm, 16)),
  decodeCall: (regs) => ({
    args: { vm: w(regs, 1) & 0xffff },
    violations: violationsWhere([
      [w(regs, 1) >>> 16 !== 0, R.bitmapDestroyVmHigh],
      [w(regs, 2) !== 0, R.bitmapDestroyW2],
      [wordsNonzero(regs, 3, 7), R.bitmapDestroyW3toW7],
    ]),
  }),
  success: EMPTY_SUCCESS_32,
};

export type BindArgs = { sender: number; receiver: number; flags?: number; bitmap: bigint };

/** docs/ffa-reference.md §2.3: w1 sender[31:16] | receiver[15:0], w2 flags, w3/w4 bitmap low/high. */
export const notificationBind: AbiCodec<BindArgs, NoResult> = {
  abi: 'FFA_NOTIFICATION_BIND',
  fid: FFA_FIDS.FFA_NOTIFICATION_BIND,
  args: { sender: 'endpoint', receiver: 'endpoint', flags: 'bind-flags', bitmap: 'u64' },
  encodeCall: ({ sender, receiver, flags = 0, bitmap }) => {
    const bits = assertBigUint('bitmap', bitmap);
    return registers(FFA_FIDS.FFA_NOTIFICATION_BIND, pairOfIds('sender', sender, 'receiver', receiver), assertUint('flags', flags, 32), low32(bits), high32(bits));
  },
  decodeCall: (regs) => ({
    args: { ...sendersAndBitmap(regs), flags: w(regs, 2) },
    violations: violationsWhere([
      [(w(regs, 2) & ~BIND_FLAGS.perVcpu) !== 0, R.bindFlagsReserved],
      [wordsNonzero(regs, 5, 7), R.bindW5toW7],
    ]),
  }),
  success: EMPTY_SUCCESS_32,
};

export type UnbindArgs = { sender: number; receiver: number; bitmap: bigint };

/** docs/ffa-reference.md §2.3: as BIND with w2 MBZ. */
export const notificationUnbind: AbiCodec<UnbindArgs, NoResult> = {
  abi: 'FFA_NOTIFICATION_UNBIND',
  fid: FFA_FIDS.FFA_NOTIFICATION_UNBIND,
  args: { sender: 'endpoint', receiver: 'endpoint', bitmap: 'u64' },
  encodeCall: ({ sender, receiver, bitmap }) => {
    const bits = assertBigUint('bitmap', bitmap);
    return registers(FFA_FIDS.FFA_NOTIFICATION_UNBIND, pairOfIds('sender', sender, 'receiver', receiver), 0, low32(bits), high32(bits));
  },
  decodeCall: (regs) => ({
    args: sendersAndBitmap(regs),
    violations: violationsWhere([
      [w(regs, 2) !== 0, R.unbindW2],
      [wordsNonzero(regs, 5, 7), R.unbindW5toW7],
    ]),
  }),
  success: EMPTY_SUCCESS_32,
};

function sendersAndBitmap(regs: RegisterFile): { sender: number; receiver: number; bitmap: bigint } {
  const { high: sender, low: receiver } = unpackTargetInfo(w(regs, 1));
  return { sender, receiver, bitmap: join32(w(regs, 3), w(regs, 4)) };
}

export type SetArgs = { sender: number; receiver: number; flags?: number; vcpu?: number; bitmap: bigint };

const SET_FLAGS_RESERVED_MASK = 0xffff & ~(SET_FLAGS.perVcpu | SET_FLAGS.delaySri);

/**
 * docs/ffa-reference.md §2.4: w1 sender[31:16] | receiver[15:0]; w2 flags[15:0] with the receiver's vCPU in
 * [31:16]; w3/w4 bitmap. `flags` is only w2[15:0] here, `vcpu` is w2[31:16].
 */
export const notificationSet: AbiCodec<SetArgs, NoResult> = {
  abi: 'FFA_NOTIFICATION_SET',
  fid: FFA_FIDS.FFA_NOTIFICATION_SET,
  args: { sender: 'endpoint', receiver: 'endpoint', flags: 'set-flags', vcpu: 'u16', bitmap: 'u64' },
  encodeCall: ({ sender, receiver, flags = 0, vcpu = 0, bitmap }) => {
    const bits = assertBigUint('bitmap', bitmap);
    const w2 = ((assertUint('vcpu', vcpu, 16) << SET_FLAGS_VCPU_SHIFT) | assertUint('flags', flags, 16)) >>> 0;
    return registers(FFA_FIDS.FFA_NOTIFICATION_SET, pairOfIds('sender', sender, 'receiver', receiver), w2, low32(bits), high32(bits));
  },
  decodeCall: (regs) => {
    const flags = w(regs, 2) & 0xffff;
    const vcpu = w(regs, 2) >>> SET_FLAGS_VCPU_SHIFT;
    return {
      args: { ...sendersAndBitmap(regs), flags, vcpu },
      violations: violationsWhere([
        [(flags & SET_FLAGS_RESERVED_MASK) !== 0, R.setFlagsReserved],
        [(flags & SET_FLAGS.perVcpu) === 0 && vcpu !== 0, R.setVcpuOfGlobal],
      ]),
    };
  },
  success: EMPTY_SUCCESS_32,
};

export type GetArgs = { receiver: number; vcpu?: number; flags: number };

/** Bitmaps a GET returns; unrequested ones are 0. spm and hyp are 32-bit (w6, w7). */
export type GetResult = { spBitmap?: bigint; vmBitmap?: bigint; spmBitmap?: bigint; hypBitmap?: bigint };

const GET_FLAGS_RESERVED_MASK = ~0xf;

/** docs/ffa-reference.md §2.5: w1 vCPU[31:16] | receiver[15:0], w2 flags; returns w2..w7 (table in §2.5). */
export const notificationGet: AbiCodec<GetArgs, GetResult> = {
  abi: 'FFA_NOTIFICATION_GET',
  fid: FFA_FIDS.FFA_NOTIFICATION_GET,
  args: { receiver: 'endpoint', vcpu: 'u16', flags: 'get-flags' },
  encodeCall: ({ receiver, vcpu = 0, flags }) =>
    registers(FFA_FIDS.FFA_NOTIFICATION_GET, pairOfIds('vcpu', vcpu, 'receiver', receiver), assertUint('flags', flags, 32)),
  decodeCall: (regs) => {
    const { high: vcpu, low: receiver } = unpackTargetInfo(w(regs, 1));
    return {
      args: { receiver, vcpu, flags: w(regs, 2) },
      violations: violationsWhere([
        [(w(regs, 2) & GET_FLAGS_RESERVED_MASK) !== 0, R.getFlagsReserved],
        [wordsNonzero(regs, 5, 7), R.getW5toW7],
      ]),
    };
  },
  success: {
    fid: FFA_FIDS.FFA_SUCCESS_32,
    encode: ({ spBitmap = 0n, vmBitmap = 0n, spmBitmap = 0n, hypBitmap = 0n }) => {
      const sp = assertBigUint('spBitmap', spBitmap);
      const vm = assertBigUint('vmBitmap', vmBitmap);
      const spm = assertBigUint('spmBitmap', spmBitmap, 32);
      const hyp = assertBigUint('hypBitmap', hypBitmap, 32);
      return ffaSuccess32(0, low32(sp), high32(sp), low32(vm), high32(vm), spm, hyp);
    },
    decode: (regs) => ({
      ok: true,
      result: {
        spBitmap: join32(w(regs, 2), w(regs, 3)),
        vmBitmap: join32(w(regs, 4), w(regs, 5)),
        spmBitmap: BigInt(w(regs, 6)),
        hypBitmap: BigInt(w(regs, 7)),
      },
    }),
  },
};

/** docs/ffa-reference.md §2.6: no arguments; the return packs the endpoint lists (info-get-list.ts). */
function notificationInfoGet(width: InfoGetWidth): AbiCodec<NoArgs, NotificationInfo> {
  const wide = width === 64;
  const fid = wide ? FFA_FIDS.FFA_NOTIFICATION_INFO_GET_64 : FFA_FIDS.FFA_NOTIFICATION_INFO_GET_32;
  return {
    abi: wide ? 'FFA_NOTIFICATION_INFO_GET_64' : 'FFA_NOTIFICATION_INFO_GET_32',
    fid,
    args: {},
    encodeCall: () => registers(fid),
    decodeCall: (regs) => ({
      args: {},
      violations: wide
        ? violationsWhere([[registersNonzero(regs, 1, 7), R.infoGet64Args]])
        : violationsWhere([[wordsNonzero(regs, 1, 7), R.infoGet32Args]]),
    }),
    success: {
      fid: wide ? FFA_FIDS.FFA_SUCCESS_64 : FFA_FIDS.FFA_SUCCESS_32,
      encode: (info) => {
        const [x2, ...ids] = packNotificationInfo(info, width);
        return wide ? ffaSuccess64(0n, x2, ...ids) : ffaSuccess32(0n, x2, ...ids);
      },
      decode: (regs) => {
        const unpacked = unpackNotificationInfo(regs, width);
        return unpacked.ok ? { ok: true, result: unpacked.info } : { ok: false, why: unpacked.error.why };
      },
    },
  };
}

export const notificationInfoGet32 = notificationInfoGet(32);
export const notificationInfoGet64 = notificationInfoGet(64);
