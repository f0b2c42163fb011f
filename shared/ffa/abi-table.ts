/** Every ABI codec, found by the scenario's ABI name or by function ID. */
import type { AnyAbiCodec } from './abi-codec.ts';
import { ffaInterrupt, ffaMsgWait, ffaNormalWorldResume, ffaRun } from './cpu-cycles.ts';
import { msgSendDirectReq32, msgSendDirectReq64, msgSendDirectResp32, msgSendDirectResp64 } from './direct-messaging.ts';
import { abiNameOf, isAbiName } from './function-ids.ts';
import { msgSend2 } from './indirect-messaging.ts';
import {
  notificationBind,
  notificationBitmapCreate,
  notificationBitmapDestroy,
  notificationGet,
  notificationInfoGet32,
  notificationInfoGet64,
  notificationSet,
  notificationUnbind,
} from './notifications.ts';
import {
  ffaFeatures,
  ffaIdGet,
  ffaPartitionInfoGet,
  ffaPartitionInfoGetRegs,
  ffaRxAcquire,
  ffaRxRelease,
  ffaRxtxMap32,
  ffaRxtxMap64,
  ffaRxtxUnmap,
  ffaSpmIdGet,
  ffaVersion,
} from './setup-and-discovery.ts';

export const ABI_CODECS: readonly AnyAbiCodec[] = [
  ffaVersion,
  ffaFeatures,
  ffaIdGet,
  ffaSpmIdGet,
  ffaPartitionInfoGet,
  ffaPartitionInfoGetRegs,
  ffaRxtxMap32,
  ffaRxtxMap64,
  ffaRxtxUnmap,
  ffaRxRelease,
  ffaRxAcquire,
  notificationBitmapCreate,
  notificationBitmapDestroy,
  notificationBind,
  notificationUnbind,
  notificationSet,
  notificationGet,
  notificationInfoGet32,
  notificationInfoGet64,
  msgSendDirectReq32,
  msgSendDirectReq64,
  msgSendDirectResp32,
  msgSendDirectResp64,
  msgSend2,
  ffaRun,
  ffaMsgWait,
  ffaInterrupt,
  ffaNormalWorldResume,
];

const codecByAbi = new Map(ABI_CODECS.map((codec) => [codec.abi, codec]));

/** The codec of an ABI name (e.g. 'FFA_NOTIFICATION_SET'), or null if there is none. */
export function codecForAbi(name: string): AnyAbiCodec | null {
  return isAbiName(name) ? (codecByAbi.get(name) ?? null) : null;
}

/** The codec for the call in w0, or null if there is none. */
export function codecForFid(fid: number | bigint): AnyAbiCodec | null {
  const name = abiNameOf(fid);
  return name === null ? null : (codecByAbi.get(name) ?? null);
}
