/**
 * A scripted actor's inbox: what it was sent (or observed) that no waiter has claimed yet,
 * indexed by key, so that a wait finds its match without scanning everything kept. Each entry is
 * filed under one key (say `control gic gic-synced`); a wait names its key and, at most, a
 * refinement (a field, a time) tried only against the entries of that key, oldest first.
 *
 * Bounded: with `bound` entries kept, the next `put` throws InboxFullError instead of dropping
 * one. An actor that quietly forgot what it was sent would wait for it until its timeout, or
 * match a later one and report the wrong time.
 *
 * Each key's entries are a queue in arrival order with a head index: taking the oldest is O(1)
 * and no entry moves when one arrives or leaves (a shift or splice at the front moves the whole
 * array, which made a long workload quadratic). An entry claimed behind the head (a refinement
 * passed over older ones) is marked taken; a queue is rewritten once half of it is taken, so
 * that cost is paid once per claim, amortised.
 */
import { InboxFullError } from './errors.ts';

export interface InboxEntry<T> {
  /** Arrival number from 0, across keys: the order the actor received its entries in. */
  readonly seq: number;
  /** When it happened, in runtime time (for an observed event, the time it has in the history). */
  readonly t: number;
  readonly item: T;
}

interface Filed<T> {
  readonly entry: InboxEntry<T>;
  taken: boolean;
}

/** One key's entries, oldest first from `head`; `takenBehindHead` counts claimed ones past it. */
interface KeyQueue<T> {
  entries: Filed<T>[];
  head: number;
  takenBehindHead: number;
}

const anyEntry = (): boolean => true;

export class Inbox<T> {
  private readonly queues = new Map<string, KeyQueue<T>>();
  private kept = 0;

  constructor(readonly bound: number) {
    if (!Number.isSafeInteger(bound) || bound < 1) throw new RangeError(`an inbox bound must be a positive integer, not ${bound}`);
  }

  /** Entries kept and not yet claimed. */
  get size(): number {
    return this.kept;
  }

  /** Keeps `entry` under `key`; at the bound, throws InboxFullError and keeps nothing. */
  put(key: string, entry: InboxEntry<T>): void {
    if (this.kept >= this.bound) throw new InboxFullError(this.bound, key);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { entries: [], head: 0, takenBehindHead: 0 };
      this.queues.set(key, queue);
    }
    queue.entries.push({ entry, taken: false });
    this.kept++;
  }

  /** Removes and returns the oldest entry under `key` that `accepts` takes. */
  take(key: string, accepts: (entry: InboxEntry<T>) => boolean = anyEntry): InboxEntry<T> | undefined {
    const queue = this.queues.get(key);
    if (!queue) return undefined;
    const index = this.indexOf(queue, accepts);
    if (index < 0) return undefined;
    const filed = queue.entries[index] as Filed<T>;
    filed.taken = true;
    this.kept--;
    if (index === queue.head) this.advanceHead(queue);
    else queue.takenBehindHead++;
    this.tidy(key, queue);
    return filed.entry;
  }

  /** The oldest entry under `key` that `accepts` takes, left where it is. */
  find(key: string, accepts: (entry: InboxEntry<T>) => boolean = anyEntry): InboxEntry<T> | undefined {
    const queue = this.queues.get(key);
    if (!queue) return undefined;
    const index = this.indexOf(queue, accepts);
    return index < 0 ? undefined : queue.entries[index]?.entry;
  }

  /**
   * Drops every entry that happened before `t`, from the oldest of each key: a key's entries are
   * in time order when they come from one component, which every caller's keys do. (One that
   * came out of order stays, so a wait that must not see it checks its time too.)
   */
  dropBefore(t: number): void {
    for (const [key, queue] of this.queues) {
      while (queue.head < queue.entries.length) {
        const filed = queue.entries[queue.head] as Filed<T>;
        if (!filed.taken && filed.entry.t >= t) break;
        if (filed.taken) queue.takenBehindHead--;
        else {
          filed.taken = true;
          this.kept--;
        }
        queue.head++;
      }
      this.tidy(key, queue);
    }
  }

  clear(): void {
    this.queues.clear();
    this.kept = 0;
  }

  private indexOf(queue: KeyQueue<T>, accepts: (entry: InboxEntry<T>) => boolean): number {
    for (let index = queue.head; index < queue.entries.length; index++) {
      const filed = queue.entries[index] as Filed<T>;
      if (!filed.taken && accepts(filed.entry)) return index;
    }
    return -1;
  }

  /** Past the entry just taken at the head, and past any claimed behind it. */
  private advanceHead(queue: KeyQueue<T>): void {
    queue.head++;
    while (queue.head < queue.entries.length && (queue.entries[queue.head] as Filed<T>).taken) {
      queue.head++;
      queue.takenBehindHead--;
    }
  }

  /** An empty queue goes; one that is half taken is rewritten with only what is still kept. */
  private tidy(key: string, queue: KeyQueue<T>): void {
    const taken = queue.head + queue.takenBehindHead;
    if (taken === queue.entries.length) {
      this.queues.delete(key);
      return;
    }
    if (taken * 2 < queue.entries.length) return;
    queue.entries = queue.entries.slice(queue.head).filter((filed) => !filed.taken);
    queue.head = 0;
    queue.takenBehindHead = 0;
  }
}
