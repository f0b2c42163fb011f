/**
 * A batch: what one websocket message carries on a welcomed link (wire protocol 2). A msgpack
 * array of 1..maxFrames bins, each bin one frame exactly as codec.ts encodes it. The sender puts
 * every frame a link queued during one turn of its event loop into one batch, so a loaded link
 * costs one socket write, one read and one wake-up per turn rather than per frame.
 *
 * Why bins, not the frames themselves inline: each frame keeps its own bytes, so the receiver
 * decodes and validates each one alone (decodeFrame), and a malformed frame is refused without
 * taking its neighbours with it. Concatenated msgpack items would leave no way to find the frame
 * after a bad one. The hello and the welcome are not batched: a peer of another protocol version
 * must still be able to read the refusal of its hello.
 */
import { Packr, Unpackr } from 'msgpackr';

/** The array's header at its largest (array 32: 0xdd and a 32-bit count). */
export const BATCH_HEADER_MAX_BYTES = 5;

/** Plain msgpack: the batch holds only an array of bins, so no records or structures. */
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

export type BatchResult = { ok: true; frames: Uint8Array[] } | { ok: false; reason: string };

/** Bytes one frame of `frameBytes` takes inside a batch: its bin header (bin 8, 16 or 32) and itself. */
export function framedBytes(frameBytes: number): number {
  if (frameBytes < 0x100) return 2 + frameBytes;
  if (frameBytes < 0x1_0000) return 3 + frameBytes;
  return 5 + frameBytes;
}

/** One websocket message of frames, in their order. A batch of no frame is a bug of the caller. */
export function encodeBatch(frames: readonly Uint8Array[]): Buffer {
  if (frames.length === 0) throw new RangeError('a batch holds at least one frame');
  return packr.pack(frames);
}

/**
 * The frames of a batch (each still to be decoded and validated alone), or why the bytes are not
 * a batch of at most `maxFrames`. Never throws, whatever the bytes.
 */
export function decodeBatch(bytes: Uint8Array, maxFrames: number): BatchResult {
  if (bytes.length === 0) return { ok: false, reason: 'empty message' };
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `not a batch: ${reason.slice(0, 200)}` };
  }
  if (!Array.isArray(value)) return { ok: false, reason: `not a batch: a message is an array of frames (wire protocol 2), got ${typeof value}` };
  if (value.length === 0 || value.length > maxFrames) return { ok: false, reason: `a batch of ${value.length} frames, want 1..${maxFrames}` };
  const frames = value as unknown[];
  const notBytes = frames.findIndex((frame) => !(frame instanceof Uint8Array));
  if (notBytes >= 0) return { ok: false, reason: `batch item ${notBytes} is not a frame's bytes (msgpack bin)` };
  return { ok: true, frames: frames as Uint8Array[] };
}
