/**
 * What FF-A puts in RX and TX buffers (docs/ffa-reference.md §2.7, §3.8), as structured data:
 * a buffer is memory that every party which mapped it reads and writes, and the simulation keeps
 * its contents as these values instead of bytes (docs/design.md "Buffer memory"). Three things
 * travel through buffers here:
 * - partition descriptors, which FFA_PARTITION_INFO_GET writes into the caller's RX buffer
 *   (Hafnium api.c send_versioned_partition_info_descriptors, Xen ffa_partinfo.c);
 * - an indirect message's header, which FFA_MSG_SEND2 reads from the sender's TX buffer and
 *   copies into the receiver's RX buffer (Hafnium api_ffa_msg_send2_copy_data,
 *   struct ffa_partition_rxtx_header; Xen struct ffa_part_msg_rxtx_1_2);
 * - the endpoint RX/TX descriptor a hypervisor puts in its own TX buffer before it forwards a
 *   VM's FFA_RXTX_MAP with zero addresses (Xen ffa_rxtx.c ffa_handle_rxtx_map,
 *   struct ffa_endpoint_rxtx_descriptor_1_1; Hafnium api.c api_get_rxtx_description).
 * A message's payload bytes are not kept: its size is.
 */
import { isUuid, PARTITION_INFO_SIZE_V1_0, PARTITION_INFO_SIZE_V1_1, type PartitionInfo } from './partition-info.ts';
import { FFA_VERSION_1_2 } from './version.ts';

/** FFA_PAGE_SIZE: buffers are counted in 4 KiB pages (FFA_RXTX_MAP's w3). */
export const FFA_PAGE_SIZE = 4096;

/** The most descriptors one 4 KiB page holds (v1.0 descriptors of 8 bytes), which bounds a decoded list. */
export const MAX_DESCRIPTORS_PER_PAGE = FFA_PAGE_SIZE / PARTITION_INFO_SIZE_V1_0;

/**
 * struct ffa_partition_rxtx_header: 20 bytes up to v1.1 (Hafnium FFA_RXTX_HEADER_SIZE_V1_1 =
 * offsetof(reserved_2); Xen sizeof(struct ffa_part_msg_rxtx_1_1)), 40 with v1.2's reserved_2 and
 * UUID (FFA_RXTX_HEADER_SIZE).
 */
export const MESSAGE_HEADER_SIZE_V1_1 = 20;
export const MESSAGE_HEADER_SIZE_V1_2 = 40;

export interface PartitionInfoContent {
  readonly kind: 'partition-info';
  /** 8 (v1.0 descriptors) or 24 (v1.1 and later, with the UUID). */
  readonly descriptorSize: number;
  readonly partitions: readonly PartitionInfo[];
}

/** An indirect message as its header describes it: send_recv_id, the payload's offset and size, the UUID (v1.2). */
export interface IndirectMessage {
  readonly kind: 'message';
  readonly sender: number;
  readonly receiver: number;
  /** Where the payload starts, from the start of the buffer (at least the header's size). */
  readonly offset: number;
  readonly size: number;
  readonly uuid: string;
}

/** The endpoint RX/TX descriptor: whose buffers, and where they are (one address range each). */
export interface RxtxDescriptor {
  readonly kind: 'rxtx-descriptor';
  readonly endpoint: number;
  readonly rx: bigint;
  readonly tx: bigint;
  readonly pageCount: number;
}

export type BufferContent = PartitionInfoContent | IndirectMessage | RxtxDescriptor;

/**
 * A buffer's content as it travels with a frame: on a call, the caller's TX buffer as the callee
 * reads it; on a return, what the callee (or one it called) wrote into an RX buffer, `owner`'s.
 */
export interface BufferWrite {
  readonly buffer: 'rx' | 'tx';
  /** The endpoint whose buffer it is. */
  readonly owner: number;
  readonly content: BufferContent;
}

export function rxWrite(owner: number, content: BufferContent): BufferWrite {
  return { buffer: 'rx', owner, content };
}

export function txWrite(owner: number, content: BufferContent): BufferWrite {
  return { buffer: 'tx', owner, content };
}

/** The header an FF-A version uses (Hafnium api_ffa_msg_send2_copy_data's min_offset). */
export function messageHeaderSize(version: number): number {
  return version >= FFA_VERSION_1_2 ? MESSAGE_HEADER_SIZE_V1_2 : MESSAGE_HEADER_SIZE_V1_1;
}

// ---------------------------------------------------------------- checking a value that arrived

const U64_MAX = (1n << 64n) - 1n;

type Problem = string | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function uint(value: unknown, max: number, path: string): Problem {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= max ? undefined : `${path} must be an integer in 0..${max}`;
}

function address(value: unknown, path: string): Problem {
  return typeof value === 'bigint' && value >= 0n && value <= U64_MAX ? undefined : `${path} must be a 64-bit address (bigint)`;
}

function uuid(value: unknown, path: string): Problem {
  return typeof value === 'string' && value.length === 36 && isUuid(value) ? undefined : `${path} must be a UUID`;
}

/** Exactly these keys, each checked; the first problem, or undefined. */
function fields(value: Record<string, unknown>, path: string, checks: Readonly<Record<string, (field: unknown, at: string) => Problem>>): Problem {
  const extra = Object.keys(value).find((key) => !Object.hasOwn(checks, key));
  if (extra !== undefined) return `${path} has unexpected key ${extra.slice(0, 32)}`;
  for (const [key, check] of Object.entries(checks)) {
    const problem = check(value[key], `${path}.${key}`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function descriptor(value: unknown, path: string): Problem {
  if (!isRecord(value)) return `${path} must be a partition descriptor`;
  return fields(value, path, {
    id: (field, at) => uint(field, 0xffff, at),
    vcpus: (field, at) => uint(field, 0xffff, at),
    properties: (field, at) => uint(field, 0xffff_ffff, at),
    uuid,
  });
}

function descriptors(value: unknown, path: string): Problem {
  if (!Array.isArray(value) || value.length > MAX_DESCRIPTORS_PER_PAGE) return `${path} must be a list of at most ${MAX_DESCRIPTORS_PER_PAGE} descriptors`;
  for (let index = 0; index < value.length; index++) {
    const problem = descriptor(value[index], `${path}[${index}]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

const CONTENT_CHECKS: Readonly<Record<BufferContent['kind'], Readonly<Record<string, (field: unknown, at: string) => Problem>>>> = {
  'partition-info': {
    kind: () => undefined,
    descriptorSize: (field, at) => (field === PARTITION_INFO_SIZE_V1_0 || field === PARTITION_INFO_SIZE_V1_1 ? undefined : `${at} must be 8 or 24`),
    partitions: descriptors,
  },
  message: {
    kind: () => undefined,
    sender: (field, at) => uint(field, 0xffff, at),
    receiver: (field, at) => uint(field, 0xffff, at),
    offset: (field, at) => uint(field, 0xffff_ffff, at),
    size: (field, at) => uint(field, 0xffff_ffff, at),
    uuid,
  },
  'rxtx-descriptor': {
    kind: () => undefined,
    endpoint: (field, at) => uint(field, 0xffff, at),
    rx: address,
    tx: address,
    pageCount: (field, at) => uint(field, 0xffff_ffff, at),
  },
};

function content(value: unknown, path: string): Problem {
  if (!isRecord(value)) return `${path} must be a buffer's content`;
  const kind = value['kind'];
  if (kind !== 'partition-info' && kind !== 'message' && kind !== 'rxtx-descriptor') return `${path}.kind must be partition-info, message or rxtx-descriptor`;
  return fields(value, path, CONTENT_CHECKS[kind]);
}

/**
 * What is wrong with a value that should be a BufferWrite (or null), or undefined when it is one:
 * every key known, every number in range, the descriptor list bounded. Never throws.
 */
export function bufferWriteProblem(value: unknown, path = 'memory'): Problem {
  if (value === null) return undefined;
  if (!isRecord(value)) return `${path} must be null or a buffer write`;
  return fields(value, path, {
    buffer: (field, at) => (field === 'rx' || field === 'tx' ? undefined : `${at} must be rx or tx`),
    owner: (field, at) => uint(field, 0xffff, at),
    content,
  });
}
