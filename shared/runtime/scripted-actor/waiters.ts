/**
 * The waits a scripted actor has pending, by the key each waits on. An arrival is offered only to
 * the waiters of its own key, oldest first, and the first whose refinement accepts it claims it:
 * matching costs the few waiters of one key, not a pass over every wait or every entry kept.
 */
import { TooManyWaitersError } from './errors.ts';
import type { InboxEntry } from './inbox.ts';

export interface Waiter<T> {
  /** What is awaited, as a reader of a timeout wants it said ("step 3: gic-synced from gic"). */
  readonly label: string;
  readonly key: string;
  readonly accepts: (entry: InboxEntry<T>) => boolean;
  readonly onMatch: (entry: InboxEntry<T>) => void;
}

export class Waiters<T> {
  private readonly byKey = new Map<string, Waiter<T>[]>();
  private count = 0;

  constructor(readonly bound: number) {
    if (!Number.isSafeInteger(bound) || bound < 1) throw new RangeError(`a waiter bound must be a positive integer, not ${bound}`);
  }

  get size(): number {
    return this.count;
  }

  add(waiter: Waiter<T>): void {
    if (this.count >= this.bound) throw new TooManyWaitersError(this.bound, waiter.label);
    const waiting = this.byKey.get(waiter.key);
    if (waiting) waiting.push(waiter);
    else this.byKey.set(waiter.key, [waiter]);
    this.count++;
  }

  /** Whether it was still pending (a waiter that matched or timed out is gone already). */
  remove(waiter: Waiter<T>): boolean {
    const waiting = this.byKey.get(waiter.key);
    const index = waiting ? waiting.indexOf(waiter) : -1;
    if (!waiting || index < 0) return false;
    waiting.splice(index, 1);
    if (waiting.length === 0) this.byKey.delete(waiter.key);
    this.count--;
    return true;
  }

  /** The oldest waiter of `key` that accepts `entry`, removed; undefined if none does. */
  claim(key: string, entry: InboxEntry<T>): Waiter<T> | undefined {
    const waiter = this.byKey.get(key)?.find((candidate) => candidate.accepts(entry));
    if (waiter) this.remove(waiter);
    return waiter;
  }

  labels(): string[] {
    return [...this.byKey.values()].flatMap((waiting) => waiting.map((waiter) => waiter.label));
  }

  clear(): void {
    this.byKey.clear();
    this.count = 0;
  }
}
