import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { BATCH_HEADER_MAX_BYTES, decodeBatch, encodeBatch, framedBytes } from './batch.ts';
import { decodeFrame, encodeFrame } from './codec.ts';

const plain = new Packr({ useRecords: false });

describe('batch codec', () => {
  it('carries frames in their order, each one byte for byte', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 40 }), (frames) => {
        const decoded = decodeBatch(encodeBatch(frames), 40);
        assert.ok(decoded.ok);
        assert.deepEqual(decoded.frames.map((f) => Buffer.from(f)), frames.map((f) => Buffer.from(f)));
      }),
    );
  });

  it('takes no more bytes than its header bound and each frame’s framedBytes (bin 8, 16 and 32 sizes)', () => {
    for (const sizes of [[1], [255, 256], [65_535, 65_536], new Array<number>(20).fill(10)]) {
      const bytes = encodeBatch(sizes.map((n) => Buffer.alloc(n)));
      const framed = sizes.reduce((sum, n) => sum + framedBytes(n), 0);
      assert.ok(bytes.length > framed && bytes.length <= BATCH_HEADER_MAX_BYTES + framed, `${sizes.length} frames: ${bytes.length} bytes`);
    }
  });

  it('keeps each frame decodable on its own', () => {
    const call = encodeFrame({ kind: 'return', id: 7, regs: new Array<bigint>(18).fill((1n << 64n) - 1n), memory: null });
    const decoded = decodeBatch(encodeBatch([call, call]), 2);
    assert.ok(decoded.ok);
    for (const frame of decoded.frames) assert.deepEqual(decodeFrame(frame), decodeFrame(call));
  });

  it('refuses what is not a batch, and a batch of no frame or of more than the bound', () => {
    const refusal = (bytes: Uint8Array, maxFrames = 4): string => {
      const decoded = decodeBatch(bytes, maxFrames);
      assert.ok(!decoded.ok);
      return decoded.reason;
    };
    assert.match(refusal(new Uint8Array()), /empty/);
    assert.match(refusal(encodeFrame({ kind: 'return', id: 1, regs: new Array<bigint>(18).fill(0n), memory: null })), /not a batch/);
    assert.match(refusal(Buffer.from([0xc1])), /not a batch/);
    assert.match(refusal(plain.pack([])), /a batch of 0 frames, want 1\.\.4/);
    assert.match(refusal(encodeBatch(new Array(5).fill(Buffer.from([1])))), /a batch of 5 frames, want 1\.\.4/);
    assert.match(refusal(plain.pack([Buffer.from([1]), 'text'])), /batch item 1 is not a frame's bytes/);
    assert.match(refusal(encodeBatch([Buffer.from([1])]).subarray(0, 2)), /not a batch/);
    assert.throws(() => encodeBatch([]), RangeError);
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        decodeBatch(bytes, 8);
      }),
      { numRuns: 2_000 },
    );
  });
});
