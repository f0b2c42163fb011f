/**
 * Every bound of the ws runtime in one place (docs/design.md §4: maxPayload, queue depth per
 * link, backpressure rather than unbounded buffering). Units are in the names.
 */
export interface LinkLimits {
  /** Largest websocket message accepted; ws itself closes a link with 1009 past it. A batch never exceeds it. */
  maxPayloadBytes: number;
  /**
   * Frames in one websocket message (wire/batch.ts): a link sends what it queued during a turn as
   * batches of at most this many frames; a received batch of more is refused whole.
   */
  batchFrames: number;
  /** Frames waiting in a link's outbound queue before transmit() answers queue-full. */
  queueFrames: number;
  /** Bytes waiting in a link's outbound queue before transmit() answers queue-full. */
  queueBytes: number;
  /** The queue hands frames to the socket only while socket.bufferedAmount is below this. */
  highWatermarkBytes: number;
  /** How long a socket may take over the whole handshake: hello to welcome (server and client). */
  helloTimeoutMs: number;
  /**
   * Invalid frames a welcomed link may bring within any badFrameWindowMs before it is closed with
   * 1008 (bad-frame-window.ts): counted over time, so valid frames in between do not reset it.
   */
  badFramesPerWindow: number;
  badFrameWindowMs: number;
  /** Sockets that have not finished the handshake, per server; more are refused at once (1013). */
  maxUnauthenticated: number;
  /**
   * Of those, from one source address: one client holding every pre-hello slot would delay every
   * other peer's link (docs/threat-model.md).
   */
  maxUnauthenticatedPerAddress: number;
  /**
   * Inbound links one key may hold at one node: a key names one peer (a link key, a guest's own
   * key), so one; the enrollment credential is counted under the key it issues.
   */
  maxLinksPerCredential: number;
  /** Guest names the enrollment credential may bind at one server in all (enrollments.ts): registrations per credential. */
  maxEnrollments: number;
  /** Guest names the enrollment credential may bind from one source address. */
  maxEnrollmentsPerAddress: number;
  /** Frames held back by delay faults, per node. */
  heldFrames: number;
  /** Arrivals kept while the component has not started yet, per node. */
  earlyArrivals: number;
  /** After a clean close, how long to wait for the peer's close frame before terminating. */
  closeGraceMs: number;
}

export const DEFAULT_LINK_LIMITS: LinkLimits = {
  maxPayloadBytes: 64 * 1024,
  batchFrames: 256,
  queueFrames: 4096,
  queueBytes: 16 * 1024 * 1024,
  highWatermarkBytes: 1024 * 1024,
  helloTimeoutMs: 5_000,
  badFramesPerWindow: 32,
  badFrameWindowMs: 10_000,
  maxUnauthenticated: 64,
  maxUnauthenticatedPerAddress: 8,
  maxLinksPerCredential: 1,
  maxEnrollments: 64,
  maxEnrollmentsPerAddress: 1,
  heldFrames: 4096,
  earlyArrivals: 4096,
  closeGraceMs: 1_000,
};

export function linkLimits(overrides: Partial<LinkLimits> = {}): LinkLimits {
  const limits = { ...DEFAULT_LINK_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`link limit ${name} = ${value} must be a positive integer`);
  }
  return limits;
}

/** Close codes (RFC 6455 §7.4.1). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
/** Policy violation: a refused hello, a frame before hello, too many protocol errors. */
export const CLOSE_POLICY = 1008;
/** RFC 6455 1013 "try again later": the server is busy (too many links waiting for their hello); the dialer retries. */
export const CLOSE_TRY_AGAIN = 1013;
/** Message too big: ws sends it by itself past maxPayload. */
export const CLOSE_TOO_BIG = 1009;
/** Application code: a reconnect that proved the same peer's key replaced this link. */
export const CLOSE_REPLACED = 4000;
