/**
 * FF-A function IDs (docs/ffa-reference.md §1.1): SMCCC fast calls to the Standard Secure Service (OEN 4).
 * SMC32 FID = 0x84000000 | fnum, SMC64 FID = 0xC4000000 | fnum (TF-A ffa_svc.h `FFA_FID()`,
 * Linux `FFA_SMC_32/64`). The names are the scenario format's ABI names; an ABI that exists in both
 * conventions carries a _32/_64 suffix, except FFA_ERROR (SMC32), which every component returns.
 */

export const FFA_FIDS = {
  FFA_ERROR: 0x8400_0060,
  FFA_ERROR_64: 0xc400_0060, // TF-A FFA_ERROR_SMC64
  FFA_SUCCESS_32: 0x8400_0061,
  FFA_SUCCESS_64: 0xc400_0061,
  FFA_INTERRUPT: 0x8400_0062,
  FFA_VERSION: 0x8400_0063,
  FFA_FEATURES: 0x8400_0064,
  FFA_RX_RELEASE: 0x8400_0065,
  FFA_RXTX_MAP_32: 0x8400_0066,
  FFA_RXTX_MAP_64: 0xc400_0066,
  FFA_RXTX_UNMAP: 0x8400_0067,
  FFA_PARTITION_INFO_GET: 0x8400_0068,
  FFA_ID_GET: 0x8400_0069,
  FFA_MSG_POLL: 0x8400_006a, // v1.0 legacy
  FFA_MSG_WAIT: 0x8400_006b,
  FFA_YIELD: 0x8400_006c,
  FFA_RUN: 0x8400_006d,
  FFA_MSG_SEND: 0x8400_006e, // v1.0 legacy
  FFA_MSG_SEND_DIRECT_REQ_32: 0x8400_006f,
  FFA_MSG_SEND_DIRECT_REQ_64: 0xc400_006f,
  FFA_MSG_SEND_DIRECT_RESP_32: 0x8400_0070,
  FFA_MSG_SEND_DIRECT_RESP_64: 0xc400_0070,
  FFA_MEM_DONATE_32: 0x8400_0071,
  FFA_MEM_DONATE_64: 0xc400_0071,
  FFA_MEM_LEND_32: 0x8400_0072,
  FFA_MEM_LEND_64: 0xc400_0072,
  FFA_MEM_SHARE_32: 0x8400_0073,
  FFA_MEM_SHARE_64: 0xc400_0073,
  FFA_MEM_RETRIEVE_REQ_32: 0x8400_0074,
  FFA_MEM_RETRIEVE_REQ_64: 0xc400_0074,
  FFA_MEM_RETRIEVE_RESP: 0x8400_0075,
  FFA_MEM_RELINQUISH: 0x8400_0076,
  FFA_MEM_RECLAIM: 0x8400_0077,
  FFA_MEM_OP_PAUSE: 0x8400_0078, // Linux arm_ffa.h
  FFA_MEM_OP_RESUME: 0x8400_0079,
  FFA_MEM_FRAG_RX: 0x8400_007a,
  FFA_MEM_FRAG_TX: 0x8400_007b,
  FFA_NORMAL_WORLD_RESUME: 0x8400_007c,
  // v1.1: notifications and friends (TF-A ffa_svc.h "FF-A v1.1").
  FFA_NOTIFICATION_BITMAP_CREATE: 0x8400_007d,
  FFA_NOTIFICATION_BITMAP_DESTROY: 0x8400_007e,
  FFA_NOTIFICATION_BIND: 0x8400_007f,
  FFA_NOTIFICATION_UNBIND: 0x8400_0080,
  FFA_NOTIFICATION_SET: 0x8400_0081,
  FFA_NOTIFICATION_GET: 0x8400_0082,
  FFA_NOTIFICATION_INFO_GET_32: 0x8400_0083,
  FFA_NOTIFICATION_INFO_GET_64: 0xc400_0083,
  FFA_RX_ACQUIRE: 0x8400_0084,
  FFA_SPM_ID_GET: 0x8400_0085,
  FFA_MSG_SEND2: 0x8400_0086,
  FFA_SECONDARY_EP_REGISTER_32: 0x8400_0087,
  FFA_SECONDARY_EP_REGISTER_64: 0xc400_0087,
  FFA_MEM_PERM_GET_32: 0x8400_0088,
  FFA_MEM_PERM_GET_64: 0xc400_0088,
  FFA_MEM_PERM_SET_32: 0x8400_0089,
  FFA_MEM_PERM_SET_64: 0xc400_0089,
  // v1.2
  FFA_CONSOLE_LOG_32: 0x8400_008a,
  FFA_CONSOLE_LOG_64: 0xc400_008a,
  FFA_PARTITION_INFO_GET_REGS: 0xc400_008b,
  FFA_EL3_INTR_HANDLE: 0x8400_008c,
  FFA_MSG_SEND_DIRECT_REQ2: 0xc400_008d,
  FFA_MSG_SEND_DIRECT_RESP2: 0xc400_008e,
  FFA_NS_RES_INFO_GET: 0xc400_008f,
  // v1.3 (TF-A ffa_svc.h)
  FFA_ABORT_32: 0x8400_0090,
  FFA_ABORT_64: 0xc400_0090,
  FFA_NOTIFICATION_BIND2: 0xc400_0094,
  FFA_NOTIFICATION_UNBIND2: 0xc400_0095,
  FFA_NOTIFICATION_SET2: 0xc400_0096,
  FFA_NOTIFICATION_GET2: 0xc400_0097,
} as const;

export type FfaAbiName = keyof typeof FFA_FIDS;

/** TF-A FFA_FNUM_MIN_VALUE / FFA_FNUM_MAX_VALUE: function numbers it treats as FF-A. */
export const FFA_FNUM_MIN = 0x60;
export const FFA_FNUM_MAX = 0x97;

const SMC64_BIT = 0x4000_0000;
const FAST_CALL_STD_SECURE = 0x8400_0000; // bit 31 fast call, OEN 4 in bits [29:24]

const abiNameByFid = new Map<number, FfaAbiName>(
  (Object.entries(FFA_FIDS) as [FfaAbiName, number][]).map(([name, fid]) => [fid, name]),
);

export function isAbiName(name: string): name is FfaAbiName {
  return Object.hasOwn(FFA_FIDS, name);
}

/** The FID of an ABI name, or null if the name is not an FF-A ABI. */
export function fidOf(name: string): number | null {
  return isAbiName(name) ? FFA_FIDS[name] : null;
}

/** The ABI name of a FID (compared as w0, the low 32 bits), or null if none has it. */
export function abiNameOf(fid: number | bigint): FfaAbiName | null {
  return abiNameByFid.get(Number(BigInt.asUintN(32, BigInt(fid)))) ?? null;
}

/** Bit 30 of the FID: the SMC64 calling convention. */
export function isSmc64(fid: number): boolean {
  return ((fid >>> 0) & SMC64_BIT) !== 0;
}

/** Bits [15:0] of the FID (SMCCC function number). */
export function functionNumber(fid: number): number {
  return (fid >>> 0) & 0xffff;
}

/**
 * A fast call to the Standard Secure Service whose function number is in FF-A's range
 * (TF-A ffa_svc.h `is_ffa_fid`, which the SPMD applies after the SMCCC dispatch by OEN).
 */
export function isFfaFid(fid: number): boolean {
  // Accepts a signed 32-bit value too: `0x84000000 | fnum` is negative in JavaScript.
  if (!Number.isInteger(fid) || fid < -0x8000_0000 || fid > 0xffff_ffff) return false;
  const fnum = functionNumber(fid);
  return ((fid & ~SMC64_BIT & 0xffff_ff00) >>> 0) === FAST_CALL_STD_SECURE && fnum >= FFA_FNUM_MIN && fnum <= FFA_FNUM_MAX;
}
