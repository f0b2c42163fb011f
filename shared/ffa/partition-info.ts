/**
 * What FFA_PARTITION_INFO_GET carries outside the argument registers: the UUID in w1..w4, and the
 * partition descriptors it writes to the caller's RX buffer.
 */

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** OP-TEE's UUID (thread_spmc.c my_uuid_words): its SP's, which the Linux OP-TEE driver looks for. */
export const OPTEE_UUID = '486178e0-e7f8-11e3-bc5e-0002a5d5c51b';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID_PATTERN.test(text);
}

/** The 16 bytes of a UUID in its written order. */
export function uuidToBytes(uuid: string): Uint8Array {
  if (!isUuid(uuid)) throw new RangeError(`'${uuid}' is not a UUID`);
  const hex = uuid.replaceAll('-', '');
  return Uint8Array.from({ length: 16 }, (_, index) => parseInt(hex.slice(index * 2, index * 2 + 2), 16));
}

export function uuidFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`a UUID is 16 bytes, got ${bytes.length}`);
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * w1..w4 of FFA_PARTITION_INFO_GET: the UUID's bytes read as four little-endian 32-bit words.
 * OP-TEE thread_spmc.c my_uuid_words: 486178e0-e7f8-11e3-bc5e-0002a5d5c51b is
 * { 0xe0786148, 0xe311f8e7, 0x02005ebc, 0x1bc5d5a5 } (and tee_uuid_from_octets on the way back).
 */
export function uuidToWords(uuid: string): [number, number, number, number] {
  const view = new DataView(uuidToBytes(uuid).buffer);
  return [view.getUint32(0, true), view.getUint32(4, true), view.getUint32(8, true), view.getUint32(12, true)];
}

export function uuidFromWords(words: readonly [number, number, number, number]): string {
  const view = new DataView(new ArrayBuffer(16));
  words.forEach((word, index) => view.setUint32(index * 4, word >>> 0, true));
  return uuidFromBytes(new Uint8Array(view.buffer));
}

/** Partition properties (Linux arm_ffa.h FFA_PARTITION_*, OP-TEE ffa.h FFA_PART_PROP_*). */
export const PARTITION_PROPERTIES = {
  directRequestReceive: 1 << 0,
  directRequestSend: 1 << 1,
  indirectMessages: 1 << 2,
  notificationReceive: 1 << 3,
  vmCreatedMessage: 1 << 6, // wants the VM_CREATED framework message (Xen FFA_PART_PROP_NOTIF_CREATED)
  vmDestroyedMessage: 1 << 7,
  aarch64: 1 << 8,
} as const;

/**
 * Descriptor sizes: v1.0 {u16 id, u16 execution contexts, u32 properties}; v1.1 adds the 16-byte
 * UUID (TF-A ffa_svc.h ffa_partition_info_v1_0/_v1_1). FFA_PARTITION_INFO_GET returns the size in w3.
 */
export const PARTITION_INFO_SIZE_V1_0 = 8;
export const PARTITION_INFO_SIZE_V1_1 = 24;
export type PartitionInfoSize = typeof PARTITION_INFO_SIZE_V1_0 | typeof PARTITION_INFO_SIZE_V1_1;

export interface PartitionInfo {
  readonly id: number;
  /** Execution contexts, i.e. vCPUs. */
  readonly vcpus: number;
  readonly properties: number;
  /** NIL_UUID in a v1.0 descriptor, which has none. */
  readonly uuid: string;
}

function assertFits(partition: PartitionInfo, index: number): void {
  const fits = (value: number, max: number) => Number.isInteger(value) && value >= 0 && value <= max;
  if (!fits(partition.id, 0xffff) || !fits(partition.vcpus, 0xffff) || !fits(partition.properties, 0xffff_ffff)) {
    throw new RangeError(`partition ${index}: id and vcpus must be 16-bit and properties 32-bit`);
  }
}

/** The RX buffer contents for these partitions. */
export function encodePartitionInfo(partitions: readonly PartitionInfo[], size: PartitionInfoSize = PARTITION_INFO_SIZE_V1_1): Uint8Array {
  const buffer = new Uint8Array(partitions.length * size);
  const view = new DataView(buffer.buffer);
  partitions.forEach((partition, index) => {
    assertFits(partition, index);
    const offset = index * size;
    view.setUint16(offset, partition.id, true);
    view.setUint16(offset + 2, partition.vcpus, true);
    view.setUint32(offset + 4, partition.properties, true);
    if (size === PARTITION_INFO_SIZE_V1_1) buffer.set(uuidToBytes(partition.uuid), offset + 8);
  });
  return buffer;
}

export type PartitionInfoDecoding =
  | { readonly ok: true; readonly partitions: PartitionInfo[] }
  | { readonly ok: false; readonly why: string };

/** Read `count` descriptors of `size` bytes from an RX buffer; a short buffer or odd size is a value. */
export function decodePartitionInfo(buffer: Uint8Array, count: number, size: number): PartitionInfoDecoding {
  if (size !== PARTITION_INFO_SIZE_V1_0 && size !== PARTITION_INFO_SIZE_V1_1) return { ok: false, why: `descriptor size ${size} is neither 8 nor 24` };
  if (!Number.isInteger(count) || count < 0 || count * size > buffer.length) return { ok: false, why: `${count} descriptors of ${size} bytes do not fit ${buffer.length} bytes` };
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const partitions = Array.from({ length: count }, (_, index) => {
    const offset = index * size;
    return {
      id: view.getUint16(offset, true),
      vcpus: view.getUint16(offset + 2, true),
      properties: view.getUint32(offset + 4, true),
      uuid: size === PARTITION_INFO_SIZE_V1_1 ? uuidFromBytes(buffer.slice(offset + 8, offset + 24)) : NIL_UUID,
    };
  });
  return { ok: true, partitions };
}

/** Manifest messaging methods; vm-created/vm-destroyed subscribe to those framework messages. */
export type MessagingMethod = 'direct' | 'indirect' | 'vm-created' | 'vm-destroyed';
export const MESSAGING_METHODS: readonly MessagingMethod[] = ['direct', 'indirect', 'vm-created', 'vm-destroyed'];

/** A partition's properties (Linux arm_ffa.h FFA_PARTITION_*) from its manifest's messaging and notification support. */
export function partitionProperties(messaging: readonly MessagingMethod[], notifications: boolean): number {
  const P = PARTITION_PROPERTIES;
  let properties: number = P.aarch64;
  if (messaging.includes('direct')) properties |= P.directRequestReceive | P.directRequestSend;
  if (messaging.includes('indirect')) properties |= P.indirectMessages;
  if (notifications) properties |= P.notificationReceive;
  if (messaging.includes('vm-created')) properties |= P.vmCreatedMessage;
  if (messaging.includes('vm-destroyed')) properties |= P.vmDestroyedMessage;
  return properties >>> 0;
}
