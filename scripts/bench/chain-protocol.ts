/**
 * The chain floor's main thread ↔ ring member protocol (chain.ts, chain-member.ts), declared once.
 * Everything crosses a MessagePort by structured clone; landing times go as Float64Arrays.
 */

export interface ChainMemberSetup {
  /** This member's place in the ring: it links to (index + 1) % threads. */
  index: number;
  threads: number;
  /** Hops one frame is carried before it lands. */
  hops: number;
  maxPayloadBytes: number;
}

export interface ChainTrialSpec {
  id: number;
  ratePerSecond: number;
  arrivals: number;
}

export type ChainCommand =
  | { type: 'connect'; url: string }
  /** Every member: frames of any other trial are dropped from now on (arrivals 0: none is run, the ring drains). */
  | { type: 'arm'; trial: ChainTrialSpec }
  /** Member 0: send the armed trial's arrivals on the open-model schedule. */
  | { type: 'start'; id: number }
  /** The landing member: report what has landed so far (the trial ran out of time). */
  | { type: 'collect'; id: number }
  | { type: 'stop' };

export type ChainReport =
  | { type: 'listening'; url: string }
  | { type: 'linked' }
  | { type: 'armed'; id: number }
  /** Member 0: arrival 0 is due at startNs (process.hrtime, shared by every thread), arrival i at startNs + i / rate. */
  | { type: 'started'; id: number; startNs: number }
  /** The landing member: when each arrival landed (NaN: not yet), every one or as many as `collect` found. */
  | { type: 'landed'; id: number; landedNs: Float64Array; collectedNs: number };
