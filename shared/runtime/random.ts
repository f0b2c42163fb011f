/**
 * Seeded random streams (pure-rand xoroshiro128+). Each component gets its own stream, made by
 * jumping the run's root generator once per component in name order, so streams never overlap
 * and a draw in one component never shifts another's (the set of names fixes the streams).
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomSource } from './component.ts';

type Generator = ReturnType<typeof xoroshiro128plus>;

class XoroshiroSource implements RandomSource {
  constructor(private readonly generator: Generator) {}

  nextU32(): number {
    return this.generator.next() >>> 0;
  }

  nextFloat(): number {
    // 53 random bits, as Math.random does, from two 32-bit draws.
    const high = this.nextU32() >>> 5;
    const low = this.nextU32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  intBelow(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0 || bound > 2 ** 32) {
      throw new RangeError(`intBelow(${bound}): bound must be an integer in 1..2^32`);
    }
    // Rejection sampling keeps the draw uniform.
    const limit = 2 ** 32 - (2 ** 32 % bound);
    let value = this.nextU32();
    while (value >= limit) value = this.nextU32();
    return value % bound;
  }
}

/** One independent stream per name, all derived from `seed` (a 32-bit unsigned integer). */
export function randomStreams(seed: number, names: readonly string[]): Map<string, RandomSource> {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError(`seed ${seed} must be an integer in 0..2^32-1`);
  }
  const streams = new Map<string, RandomSource>();
  const generator = xoroshiro128plus(seed | 0);
  for (const name of [...names].sort()) {
    generator.jump();
    streams.set(name, new XoroshiroSource(generator.clone()));
  }
  return streams;
}

/** A single stream for `seed` (e.g. the runtime's scheduler or fault stream). */
export function randomStream(seed: number, name: string): RandomSource {
  const stream = randomStreams(seed, [name]).get(name);
  if (!stream) throw new Error('unreachable: stream just created');
  return stream;
}
