/**
 * One frame as msgpack (docs/design.md §4); on a welcomed link frames travel in batches
 * (batch.ts), each frame still encoded and decoded here on its own. Both ends build their
 * Packr/Unpackr from the one structure table, with maxSharedStructures equal to its length: a
 * shape outside the table (e.g. an object inside control data) is encoded with its record
 * definition inline in the same frame, never as a definition a later frame depends on.
 *
 * 64-bit registers: msgpackr writes a bigint as msgpack int64 when it is below 2^63 and as uint64
 * above (an all-ones register is 0xcf ff…ff); the Unpackr reads both back as bigints
 * (int64AsType 'bigint'), and validation refuses negative ones.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { WireFrame } from './frames.ts';
import { STRUCTURE_COUNT, structureTable } from './structures.ts';
import { type FrameResult, validateFrame } from './validate.ts';

const packr = new Packr({
  structures: structureTable(),
  maxSharedStructures: STRUCTURE_COUNT,
  useRecords: true,
});

const unpackr = new Unpackr({
  structures: structureTable(),
  maxSharedStructures: STRUCTURE_COUNT,
  int64AsType: 'bigint',
  mapsAsObjects: true,
});

/**
 * Encode a frame. It throws only on a bug (a value msgpack cannot carry, e.g. a bigint beyond 64
 * bits); callers validate what they send.
 */
export function encodeFrame(frame: WireFrame): Buffer {
  return packr.pack(frame);
}

/** The decoded value, or why the bytes are not msgpack. Never throws. */
export function unpackBytes(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (bytes.length === 0) return { ok: false, reason: 'empty frame' };
  try {
    return { ok: true, value: unpackr.unpack(bytes) as unknown };
  } catch (error) {
    // msgpackr throws Errors, and RangeError on deep nesting; anything thrown is a bad frame.
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: reason.slice(0, 200) };
  }
}

/** Decode and validate one frame. Never throws, whatever the bytes. */
export function decodeFrame(bytes: Uint8Array): FrameResult {
  const unpacked = unpackBytes(bytes);
  if (!unpacked.ok) return { ok: false, code: 'MALFORMED_FRAME', reason: unpacked.reason, ref: -1 };
  return validateFrame(unpacked.value);
}
