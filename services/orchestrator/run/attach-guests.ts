/**
 * The registered guests an attached run takes (attach.ts): each must answer within its own bound
 * (its link proven at the URL it advertised, its world channel subscribed, its driver probed:
 * the guest's `done` record) or it is left out of the run and named with why. One dead URL or
 * one guest that never probes costs the attach that guest's bound, not the whole run; the
 * scenario then runs against the guests that answered (docs/threat-model.md, docs/compose.md).
 */
import type { Logger } from 'pino';
import type { PeerAddress } from '../../../shared/runtime/ws/node.ts';
import type { RegisteredGuest } from './distributed-world.ts';

/** What the attach needs of its run to take the guests in. */
export interface GuestJoining {
  /** Open the link to a guest (its server proves it holds that guest's key before anything is sent). */
  open(peer: PeerAddress, deadlineMs: number): Promise<void>;
  /** Subscribe to its history; resolves with its clock's base. */
  subscribe(name: string, timeoutMs: number): Promise<bigint>;
  /** Resolves true once the guest recorded `done` (its probe ended), false after `timeoutMs`. */
  probed(name: string, timeoutMs: number): Promise<boolean>;
  /** Leave it out: its history is dropped from the run, and no change waits on it. */
  leaveOut(name: string): void;
}

export interface JoinedGuests {
  joined: RegisteredGuest[];
  /** Each guest left out, as `name (url): why`. */
  absent: string[];
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Link to and subscribe to every guest at once, each bounded by `answerMs`; then, once the world's base is set (`onLinked`), wait for their probes. */
export async function joinGuests(run: GuestJoining, guests: readonly RegisteredGuest[], answerMs: number, log: Logger, onLinked: (bases: bigint[]) => Promise<void> | void): Promise<JoinedGuests> {
  const absent: string[] = [];
  const leaveOut = (guest: RegisteredGuest, why: string): void => {
    absent.push(`${guest.name} (${guest.url ?? 'no url'}): ${why}`);
    log.warn({ guest: guest.name, url: guest.url, why }, 'a registered guest did not answer: it is left out of the run');
    run.leaveOut(guest.name);
  };
  const linked = await Promise.all(
    guests.map(async (guest) => {
      try {
        await run.open({ name: guest.name, url: guest.url ?? '' }, answerMs);
        return { guest, base: await run.subscribe(guest.name, answerMs) };
      } catch (error) {
        leaveOut(guest, `no link or no history within ${answerMs} ms: ${describeError(error)}`);
        return null;
      }
    }),
  );
  const answering = linked.filter((entry) => entry !== null);
  await onLinked(answering.map((entry) => entry.base));
  const probed = await Promise.all(answering.map(({ guest }) => run.probed(guest.name, answerMs)));
  const joined = answering.filter((entry, index) => {
    if (!probed[index]) leaveOut(entry.guest, `its driver did not finish probing (no done record) within ${answerMs} ms`);
    return probed[index];
  });
  return { joined: joined.map((entry) => entry.guest), absent };
}
