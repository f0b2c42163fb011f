/**
 * How many bad frames a welcomed link may bring: at most `limit` within any `windowNs`, a
 * sliding window over the link's clock. Counting "in a row" instead would let a hostile peer
 * send bad frames for ever by slipping in one valid frame before each limit-th; counted over
 * time, valid frames in between change nothing. Bounded: the times of the last `limit` bad
 * frames, in a ring.
 */
export class BadFrameWindow {
  private readonly times: number[];
  private next = 0;
  private seen = 0;

  constructor(
    readonly limit: number,
    readonly windowNs: number,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`bad-frame limit ${limit} must be a positive integer`);
    if (!(windowNs > 0)) throw new RangeError(`bad-frame window ${windowNs} ns must be positive`);
    this.times = new Array<number>(limit).fill(0);
  }

  /** Note a bad frame at `nowNs`; true when it is the limit-th within the window (close the link). */
  note(nowNs: number): boolean {
    this.times[this.next] = nowNs;
    this.next = (this.next + 1) % this.limit;
    this.seen++;
    if (this.seen < this.limit) return false;
    // The ring is full: the slot after the newest holds the oldest of the last `limit` bad frames.
    const oldest = this.times[this.next] as number;
    return nowNs - oldest < this.windowNs;
  }
}
