/**
 * A peer's clock as seen over one link, estimated the way NTP does (RFC 5905 §8, the on-wire
 * protocol): this end sends a probe at t1 (its clock), the peer receives it at t2 and answers at
 * t3 (the peer's clock), the answer arrives at t4 (this end's). Then
 *
 *   offset     θ = ((t2 − t1) + (t3 − t4)) / 2     (peer clock − own clock)
 *   round trip δ = (t4 − t1) − (t3 − t2)
 *
 * and whatever the two one-way delays were, the true offset lies within θ ± δ/2: θ is wrong by
 * half the difference of the two delays, and that is at most half their sum. A probe's answer
 * waiting in a queue only adds to a delay, so the bound holds for it too.
 *
 * Two clocks also drift apart between probes; as NTP's dispersion does (RFC 5905 §10), a
 * sample's uncertainty grows by PHI, 15 ppm, for each ns since it was taken. Of the last few
 * samples the estimate takes the one with the least uncertainty now (NTP's clock filter keeps the
 * least round trip of its last 8; with the growth added, a fresh sample wins over a stale one
 * whose round trip was a little shorter).
 *
 * Times are absolute monotonic nanoseconds as bigints: two machines' clocks can be further apart
 * than a double counts exactly (2^53 ns is 104 days of uptime).
 */

/** The four timestamps of one probe: t1, t4 on this end's clock, t2, t3 on the peer's. */
export interface ClockProbe {
  t1: bigint;
  t2: bigint;
  t3: bigint;
  t4: bigint;
}

export interface OffsetSample {
  /** The peer's clock minus this end's, in ns. */
  offsetNs: bigint;
  roundTripNs: bigint;
  /** When the answer arrived, on this end's clock (t4). */
  atNs: bigint;
}

export interface OffsetEstimate {
  /** The peer's clock minus this end's, in ns: peer time − offsetNs is own time. */
  offsetNs: bigint;
  /** The true offset is within offsetNs ± uncertaintyNs: half the round trip, plus the drift since. */
  uncertaintyNs: number;
  /** The chosen sample's round trip, and how many samples were kept to choose from. */
  roundTripNs: number;
  samples: number;
}

/** RFC 5905 §7.2 PHI: the frequency tolerance assumed of a clock, 15 ppm. */
export const DRIFT_PER_NS = 15e-6;
/** Samples kept per link (RFC 5905 §10: the clock filter's 8 stages). */
export const SAMPLES_KEPT = 8;

/** One probe as a sample, or why its timestamps cannot be of one exchange (a bug, or a clock run backwards). */
export function offsetSample(probe: ClockProbe): OffsetSample | string {
  const { t1, t2, t3, t4 } = probe;
  if (t4 < t1) return `the answer arrived (t4 ${t4}) before the probe left (t1 ${t1})`;
  if (t3 < t2) return `the peer answered (t3 ${t3}) before it received the probe (t2 ${t2})`;
  const roundTripNs = t4 - t1 - (t3 - t2);
  if (roundTripNs < 0n) return `the peer held the probe ${t3 - t2} ns, longer than its whole round trip, ${t4 - t1} ns`;
  return { offsetNs: (t2 - t1 + (t3 - t4)) / 2n, roundTripNs, atNs: t4 };
}

/**
 * A sample's uncertainty at `nowNs` (own clock): half its round trip, and half a ns for halving an
 * odd sum in whole ns, grown by the drift since.
 */
export function uncertaintyAt(sample: OffsetSample, nowNs: bigint): number {
  const age = nowNs > sample.atNs ? Number(nowNs - sample.atNs) : 0;
  return (Number(sample.roundTripNs) + 1) / 2 + age * DRIFT_PER_NS;
}

/** The last SAMPLES_KEPT samples of one link, and the estimate they give. */
export class ClockOffsetEstimator {
  private readonly samples: OffsetSample[] = [];
  /** Probes whose timestamps could not be of one exchange. */
  refused = 0;

  constructor(private readonly kept: number = SAMPLES_KEPT) {
    if (!Number.isInteger(kept) || kept < 1) throw new RangeError(`samples kept must be a positive integer, not ${kept}`);
  }

  /** A probe's four timestamps; a string says why they were refused (counted, never used). */
  add(probe: ClockProbe): OffsetSample | string {
    const sample = offsetSample(probe);
    if (typeof sample === 'string') {
      this.refused++;
      return sample;
    }
    this.samples.push(sample);
    if (this.samples.length > this.kept) this.samples.shift();
    return sample;
  }

  /** The estimate at `nowNs` (own clock), or null before the first sample. */
  estimate(nowNs: bigint): OffsetEstimate | null {
    let best: OffsetSample | null = null;
    let bestUncertainty = Infinity;
    for (const sample of this.samples) {
      const uncertainty = uncertaintyAt(sample, nowNs);
      if (uncertainty < bestUncertainty) [best, bestUncertainty] = [sample, uncertainty];
    }
    if (best === null) return null;
    return { offsetNs: best.offsetNs, uncertaintyNs: bestUncertainty, roundTripNs: Number(best.roundTripNs), samples: this.samples.length };
  }
}
