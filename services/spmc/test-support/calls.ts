/** Register files of the calls the tests make, built with the shared/ffa codecs wherever one exists. */
import {
  FFA_FIDS,
  FRAMEWORK_MESSAGES,
  SPMD_ID,
  ffaFeatures,
  ffaIdGet,
  ffaMsgWait,
  ffaPartitionInfoGet,
  ffaRun,
  ffaRxAcquire,
  ffaRxRelease,
  ffaRxtxMap64,
  ffaRxtxUnmap,
  ffaSpmIdGet,
  ffaVersion,
  frameworkMessageFlags,
  msgSend2,
  msgSendDirectReq32,
  msgSendDirectReq64,
  msgSendDirectResp32,
  notificationBind,
  notificationBitmapCreate,
  notificationBitmapDestroy,
  notificationGet,
  notificationInfoGet32,
  notificationInfoGet64,
  notificationSet,
  notificationUnbind,
  MESSAGE_HEADER_SIZE_V1_2,
  NIL_UUID,
  registers,
  txWrite,
  type BufferWrite,
  type RegisterFile,
} from '../../../shared/ffa/index.ts';

export const bitmapCreate = (vm: number, vcpus = 2): RegisterFile => notificationBitmapCreate.encodeCall({ vm, vcpus });
export const bitmapDestroy = (vm: number): RegisterFile => notificationBitmapDestroy.encodeCall({ vm });
export const bind = (sender: number, receiver: number, bitmap: bigint, flags = 0): RegisterFile => notificationBind.encodeCall({ sender, receiver, bitmap, flags });
export const unbind = (sender: number, receiver: number, bitmap: bigint): RegisterFile => notificationUnbind.encodeCall({ sender, receiver, bitmap });
export const set = (sender: number, receiver: number, bitmap: bigint, flags = 0, vcpu = 0): RegisterFile =>
  notificationSet.encodeCall({ sender, receiver, bitmap, flags, vcpu });
export const get = (receiver: number, flags: number, vcpu = 0): RegisterFile => notificationGet.encodeCall({ receiver, flags, vcpu });
export const infoGet64 = (): RegisterFile => notificationInfoGet64.encodeCall({});
export const infoGet32 = (): RegisterFile => notificationInfoGet32.encodeCall({});
export const features = (id: number, properties = 0): RegisterFile => ffaFeatures.encodeCall({ id, properties });
export const version = (v: number): RegisterFile => ffaVersion.encodeCall({ version: v });
export const idGet = (): RegisterFile => ffaIdGet.encodeCall({});
export const spmIdGet = (): RegisterFile => ffaSpmIdGet.encodeCall({});
export const partitionInfoGet = (uuid?: string, countOnly = false): RegisterFile => ffaPartitionInfoGet.encodeCall({ ...(uuid ? { uuid } : {}), countOnly });
export const rxtxMap = (tx = 0x10_0000n, rx = 0x10_1000n, pageCount = 1): RegisterFile => ffaRxtxMap64.encodeCall({ tx, rx, pageCount });
export const rxtxUnmap = (id = 0): RegisterFile => ffaRxtxUnmap.encodeCall({ id });
export const rxRelease = (receiver = 0): RegisterFile => ffaRxRelease.encodeCall({ receiver });
export const rxAcquire = (receiver = 0): RegisterFile => ffaRxAcquire.encodeCall({ receiver });
/** A hypervisor's forwarded FFA_RXTX_MAP: zero addresses and page count, the VM's buffers in the hypervisor's own TX buffer. */
export const forwardedRxtxMap = (): RegisterFile => ffaRxtxMap64.encodeCall({ tx: 0n, rx: 0n, pageCount: 0 });
/** The endpoint RX/TX descriptor that goes with it, in the hypervisor's (ID 0) TX buffer. */
export const rxtxDescriptor = (vm: number, tx = 0x6000_0000n, rx = 0x6000_1000n, pageCount = 1): BufferWrite =>
  txWrite(0, { kind: 'rxtx-descriptor', endpoint: vm, tx, rx, pageCount });
export const run = (target: number, vcpu = 0): RegisterFile => ffaRun.encodeCall({ target, vcpu });
export const msgWait = (): RegisterFile => ffaMsgWait.encodeCall({});

/** FFA_MSG_SEND2's registers: the flags, and the sender a hypervisor forwards for in w1[31:16]. */
export const msgSend2Call = (flags = 0, forwardedSender = 0): RegisterFile => msgSend2.encodeCall({ sender: forwardedSender, flags });

/**
 * A TX buffer holding an indirect message's header (struct ffa_partition_rxtx_header): `owner`'s
 * buffer (default: the header's sender), the payload right after a v1.2 header unless `offset`.
 */
export const message = (sender: number, receiver: number, size: number, options: { owner?: number; offset?: number; uuid?: string } = {}): BufferWrite =>
  txWrite(options.owner ?? sender, { kind: 'message', sender, receiver, size, offset: options.offset ?? MESSAGE_HEADER_SIZE_V1_2, uuid: options.uuid ?? NIL_UUID });

export const directReq = (sender: number, receiver: number, payload: bigint[], width: 32 | 64 = 32): RegisterFile =>
  (width === 64 ? msgSendDirectReq64 : msgSendDirectReq32).encodeCall({ sender, receiver, payload });
export const directResp = (sender: number, receiver: number, payload: bigint[]): RegisterFile => msgSendDirectResp32.encodeCall({ sender, receiver, payload });

/** The framework messages of docs/ffa-reference.md §2.7: VM ID in w5, the SPMD's VERSION request with the version in w3. */
export const vmCreated = (sp: number, vm: number, sender = 0): RegisterFile =>
  msgSendDirectReq32.encodeCall({ sender, receiver: sp, flags: frameworkMessageFlags(FRAMEWORK_MESSAGES.VM_CREATED_REQ), payload: [0n, 0n, BigInt(vm)] });
export const vmDestroyed = (sp: number, vm: number, sender = 0): RegisterFile =>
  msgSendDirectReq32.encodeCall({ sender, receiver: sp, flags: frameworkMessageFlags(FRAMEWORK_MESSAGES.VM_DESTROYED_REQ), payload: [0n, 0n, BigInt(vm)] });
export const versionRequest = (spmcId: number, requested: number, sender = SPMD_ID): RegisterFile =>
  msgSendDirectReq32.encodeCall({ sender, receiver: spmcId, flags: frameworkMessageFlags(FRAMEWORK_MESSAGES.VERSION_REQ), payload: [BigInt(requested)] });

/** A copy of `regs` with some registers replaced (reserved-bit rows). */
export function withRegs(regs: RegisterFile, changes: Record<number, bigint | number>): RegisterFile {
  const copy = [...regs];
  for (const [index, value] of Object.entries(changes)) copy[Number(index)] = BigInt.asUintN(64, BigInt(value));
  return copy;
}

export const raw = (fid: number, ...rest: (number | bigint)[]): RegisterFile => registers(fid, ...rest);

export const RESP_32 = FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_32;
export const RESP_64 = FFA_FIDS.FFA_MSG_SEND_DIRECT_RESP_64;
export const REQ_32 = FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32;
/** A framework response's w2: BIT(31) | type. */
export const fwk = (type: number): number => frameworkMessageFlags(type);
/** An FF-A status as the u32 a framework response carries in w3. */
export const status = (code: number): number => code >>> 0;
