/**
 * Each link's view of the clock at its other end (clock-offset.ts), kept by a node for its links:
 * so an orchestrator can put every component's history on one time base when the components run
 * on other machines, whose monotonic clocks count from their own boots.
 *
 * The exchange is two control frames on the welcomed link, answered by the node and never seen
 * by the component (docs/control-and-records.md):
 *
 *   link.clock-probe {t1, boot}              → link.clock-reply {t1, t2, t3, boot}
 *
 * t1..t3 are absolute monotonic ns as decimal strings (past 2^53, as world.clock's base), `boot`
 * the kernel's boot ID. Two ends that name the same boot read one CLOCK_MONOTONIC: their offset
 * is exactly 0, and the link is not probed again. Otherwise a prober probes a new link a few times
 * at once (the first estimate comes with the link) and then every PROBE_INTERVAL_MS, one probe
 * outstanding per link; a reply that is not to the outstanding probe is ignored.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { SentControlMessage } from '../../protocol/control.ts';
import type { Message } from '../../protocol/messages.ts';
import { ClockOffsetEstimator, type OffsetEstimate } from './clock-offset.ts';

export const LINK_CLOCK_OPS = { probe: 'link.clock-probe', reply: 'link.clock-reply' } as const;

/** Probes sent as soon as a link is up, a burst that finds a short round trip early… */
export const BURST_PROBES = 4;
const BURST_SPACING_MS = 10;
/** …then one probe a link this often: enough to follow 15 ppm of drift, nothing to a link's load. */
export const PROBE_INTERVAL_MS = 5_000;
/** An unanswered probe is given up after this long, and the next one sent. */
const PROBE_TIMEOUT_MS = 2_000;

/** The clock this node reads, and the boot it counts from. */
export interface NodeClockSource {
  /** Absolute monotonic ns (process.hrtime.bigint(), or a test's skewed copy). */
  now(): bigint;
  /** The kernel's boot ID, or null where it cannot be read (then no peer is taken to share the clock). */
  bootId: string | null;
}

/** A peer's clock: the same as this node's, or an estimate of how far off it is. */
export type PeerClock = { sameClock: true } | ({ sameClock: false } & OffsetEstimate);

let cachedBootId: string | null | undefined;

/** This machine's boot ID (Linux: /proc/sys/kernel/random/boot_id), read once. */
export function hostBootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId;
}

export const hostClockSource = (): NodeClockSource => ({ now: () => process.hrtime.bigint(), bootId: hostBootId() });

export interface LinkClocksOptions {
  source: NodeClockSource;
  /** Probe this node's links (answering a peer's probes needs no option: it is always done). */
  probe: boolean;
  /** Send on the link to `to`, past the component. */
  send(to: string, message: SentControlMessage): unknown;
  log: Logger;
}

interface PeerState {
  estimator: ClockOffsetEstimator;
  sameClock: boolean;
  /** The outstanding probe's t1, as sent. */
  outstanding: string | null;
  burstLeft: number;
  timer: NodeJS.Timeout | null;
}

const TIMESTAMP = /^\d{1,20}$/;

export class LinkClocks {
  private readonly peers = new Map<string, PeerState>();

  constructor(private readonly options: LinkClocksOptions) {}

  /** A link to `peer` is up: probe it (when this node probes). */
  linked(peer: string): void {
    this.unlinked(peer);
    if (!this.options.probe) return;
    const state: PeerState = { estimator: new ClockOffsetEstimator(), sameClock: false, outstanding: null, burstLeft: BURST_PROBES, timer: null };
    this.peers.set(peer, state);
    this.sendProbe(peer, state);
  }

  /** The link to `peer` is gone: its probes stop, and its estimate with them. */
  unlinked(peer: string): void {
    const state = this.peers.get(peer);
    if (state?.timer) clearTimeout(state.timer);
    this.peers.delete(peer);
  }

  /** What this node knows of `peer`'s clock; null before the first answer (or when it does not probe). */
  peerClock(peer: string): PeerClock | null {
    const state = this.peers.get(peer);
    if (!state) return null;
    if (state.sameClock) return { sameClock: true };
    const estimate = state.estimator.estimate(this.options.source.now());
    return estimate ? { sameClock: false, ...estimate } : null;
  }

  /** A link.* clock frame from `from`; true when it was one (consumed either way). */
  handle(from: string, message: Message): boolean {
    if (message.kind !== 'control' || (message.op !== LINK_CLOCK_OPS.probe && message.op !== LINK_CLOCK_OPS.reply)) return false;
    const received = this.options.source.now();
    const data = (typeof message.data === 'object' && message.data !== null ? message.data : {}) as Record<string, unknown>;
    if (message.op === LINK_CLOCK_OPS.probe) this.answer(from, data, received);
    else this.onReply(from, data, received);
    return true;
  }

  stop(): void {
    for (const peer of [...this.peers.keys()]) this.unlinked(peer);
  }

  private answer(from: string, data: Record<string, unknown>, received: bigint): void {
    const t1 = data['t1'];
    if (typeof t1 !== 'string' || !TIMESTAMP.test(t1)) {
      this.options.log.warn({ from }, 'link.clock-probe without a t1: ignored');
      return;
    }
    const { source } = this.options;
    this.options.send(from, { kind: 'control', op: LINK_CLOCK_OPS.reply, data: { t1, t2: received.toString(), t3: source.now().toString(), boot: source.bootId } });
  }

  private onReply(from: string, data: Record<string, unknown>, t4: bigint): void {
    const state = this.peers.get(from);
    const { t1, t2, t3, boot } = data;
    if (!state || state.outstanding === null || t1 !== state.outstanding) return;
    if (typeof t2 !== 'string' || typeof t3 !== 'string' || !TIMESTAMP.test(t2) || !TIMESTAMP.test(t3)) {
      this.options.log.warn({ from }, 'link.clock-reply without t2 and t3: ignored');
      return;
    }
    state.outstanding = null;
    if (this.options.source.bootId !== null && boot === this.options.source.bootId) {
      // One kernel, one CLOCK_MONOTONIC: nothing to estimate, now or later.
      state.sameClock = true;
      if (state.timer) clearTimeout(state.timer);
      state.timer = null;
      return;
    }
    const refused = state.estimator.add({ t1: BigInt(t1), t2: BigInt(t2), t3: BigInt(t3), t4 });
    if (typeof refused === 'string') this.options.log.warn({ from, reason: refused }, 'clock probe refused');
    this.schedule(from, state);
  }

  private sendProbe(peer: string, state: PeerState): void {
    state.outstanding = this.options.source.now().toString();
    this.options.send(peer, { kind: 'control', op: LINK_CLOCK_OPS.probe, data: { t1: state.outstanding, boot: this.options.source.bootId } });
    // Given up on if no answer comes: the next probe goes out (a lost frame never stops probing).
    this.arm(peer, state, PROBE_TIMEOUT_MS);
  }

  /** The next probe: the rest of the burst soon, then the steady interval. */
  private schedule(peer: string, state: PeerState): void {
    state.burstLeft = Math.max(0, state.burstLeft - 1);
    this.arm(peer, state, state.burstLeft > 0 ? BURST_SPACING_MS : PROBE_INTERVAL_MS);
  }

  private arm(peer: string, state: PeerState, delayMs: number): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = null;
      if (this.peers.get(peer) === state && !state.sameClock) this.sendProbe(peer, state);
    }, delayMs);
    state.timer.unref();
  }
}
