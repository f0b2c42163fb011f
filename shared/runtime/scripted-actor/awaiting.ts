/**
 * The awaiting kernel every scripted actor stands on (the orchestrator and the services' test
 * actors): what it was sent or observed goes in, and its script's waits come out matched, in
 * order, or timed out. One arrival is claimed by at most one wait; a wait takes the oldest entry
 * of its key that it accepts, whether that came before the wait began (it is kept in the inbox
 * until then) or after (the waiter claims it on arrival).
 *
 * Time is the component's: timeouts are ctx timers, so a wait means the same under sim (virtual
 * time) and ws (real time), and nothing here reads a clock or a timer of its own (design
 * docs/design.md §3).
 */
import type { CallOutcome, CallRequest, ComponentContext, TimerHandle } from '../component.ts';
import { Inbox, type InboxEntry } from './inbox.ts';
import { type Waiter, Waiters } from './waiters.ts';

export type { InboxEntry };

/** What a wait takes: an entry of `key`, and of those, one `accepts` takes (default: any). */
export interface Wanted<T> {
  readonly key: string;
  readonly accepts?: (entry: InboxEntry<T>) => boolean;
  /** What it is, for a timeout or `pending()`. */
  readonly label?: string;
}

export interface AwaitOptions<T> extends Wanted<T> {
  readonly label: string;
  /** Bound on the wait, in runtime time. */
  readonly timeoutNs: number;
  readonly onMatch: (entry: InboxEntry<T>) => void;
  readonly onTimeout: (timeout: AwaitTimeout) => void;
}

export interface AwaitTimeout {
  readonly label: string;
  readonly waitedNs: number;
}

export interface AwaitEachOptions<T> {
  readonly label: string;
  /** Each is claimed once, in whatever order they come. */
  readonly wanted: readonly Wanted<T>[];
  /** Bound on the wait for the next one: it starts again at every match. */
  readonly progressTimeoutNs: number;
  readonly onEach?: (entry: InboxEntry<T>, index: number) => void;
  /** At the end: the indexes of `wanted` never claimed (none when all came). */
  readonly onEnd: (missing: number[]) => void;
}

export interface AwaitingLimits {
  /** Entries kept unclaimed at most (InboxFullError past it). */
  inboxMax: number;
  /** Waits pending at once at most (TooManyWaitersError past it). */
  waitersMax: number;
}

/** The few things of its context a kernel uses: time, timers and calls. */
export type AwaitingContext = Pick<ComponentContext, 'clock' | 'setTimer' | 'cancelTimer' | 'call'>;

const anyEntry = (): boolean => true;

export class Awaiting<T> {
  private readonly inbox: Inbox<T>;
  private readonly waiters: Waiters<T>;
  /** How to call off each pending wait (its timer and its waiters), for cancelAll. */
  private readonly open = new Set<() => void>();
  /** Calls in flight, by a serial number: their labels, for `pending()`. */
  private readonly calls = new Map<number, string>();
  private arrivals = 0;
  private callSerial = 0;

  constructor(
    private readonly ctx: AwaitingContext,
    limits: AwaitingLimits,
  ) {
    this.inbox = new Inbox<T>(limits.inboxMax);
    this.waiters = new Waiters<T>(limits.waitersMax);
  }

  /** Entries kept, not yet claimed. */
  get kept(): number {
    return this.inbox.size;
  }

  /** An arrival: the oldest waiter of its key that accepts it claims it; otherwise it is kept. */
  offer(key: string, t: number, item: T): void {
    const entry: InboxEntry<T> = { seq: this.arrivals++, t, item };
    if (!this.claim(key, entry)) this.inbox.put(key, entry);
  }

  /**
   * An arrival that only a wait already pending may have: whether one claimed it. An answer
   * nobody waits for any more (its wait timed out) is stale, and kept it would answer the next
   * request of the same kind.
   */
  deliver(key: string, t: number, item: T): boolean {
    return this.claim(key, { seq: this.arrivals++, t, item });
  }

  /** The oldest kept entry of `key` that `accepts` takes, now or when it arrives; or a timeout. */
  await(options: AwaitOptions<T>): void {
    const accepts = options.accepts ?? anyEntry;
    const kept = this.inbox.take(options.key, accepts);
    if (kept) return options.onMatch(kept);
    const startNs = this.ctx.clock.nowNs();
    const waiter: Waiter<T> = {
      label: options.label,
      key: options.key,
      accepts,
      onMatch: (entry) => {
        close();
        options.onMatch(entry);
      },
    };
    const close = () => {
      this.ctx.cancelTimer(timer);
      this.open.delete(cancel);
    };
    const cancel = () => {
      this.waiters.remove(waiter);
      close();
    };
    this.waiters.add(waiter);
    const timer = this.ctx.setTimer(options.timeoutNs, () => {
      cancel();
      options.onTimeout({ label: options.label, waitedNs: this.ctx.clock.nowNs() - startNs });
    });
    this.open.add(cancel);
  }

  /**
   * Every one of `wanted`, in any order: those kept are taken at once (one look per key), then
   * one waiter per missing one, with one timer for them all that starts again at each match.
   * (Awaiting them one after another would look through the inbox once per one wanted.)
   */
  awaitEach(options: AwaitEachOptions<T>): void {
    const missing = new Map<number, Waiter<T>>();
    options.wanted.forEach((wanted, index) => {
      const kept = this.inbox.take(wanted.key, wanted.accepts ?? anyEntry);
      if (kept) options.onEach?.(kept, index);
      else missing.set(index, this.eachWaiter(options, wanted, index, (entry) => onMatch(entry, index)));
    });
    if (missing.size === 0) return options.onEnd([]);
    const cancel = () => {
      for (const waiter of missing.values()) this.waiters.remove(waiter);
      this.ctx.cancelTimer(timer);
      this.open.delete(cancel);
    };
    const expire = () => {
      const left = [...missing.keys()];
      cancel();
      options.onEnd(left);
    };
    let timer: TimerHandle = this.ctx.setTimer(options.progressTimeoutNs, expire);
    const onMatch = (entry: InboxEntry<T>, index: number) => {
      missing.delete(index);
      this.ctx.cancelTimer(timer);
      options.onEach?.(entry, index);
      if (missing.size > 0) timer = this.ctx.setTimer(options.progressTimeoutNs, expire);
      else {
        this.open.delete(cancel);
        options.onEnd([]);
      }
    };
    for (const waiter of missing.values()) this.waiters.add(waiter);
    this.open.add(cancel);
  }

  /** The oldest kept entry of `key` that `accepts` takes, left kept (a look, not a claim). */
  find(wanted: Wanted<T>): InboxEntry<T> | undefined {
    return this.inbox.find(wanted.key, wanted.accepts ?? anyEntry);
  }

  /** Forgets the kept entries that happened before `t` (no wait from now on may take them). */
  dropBefore(t: number): void {
    this.inbox.dropBefore(t);
  }

  /** A call whose return is awaited: `onOutcome` runs once, with the return or why there is none. */
  call(label: string, to: string, request: CallRequest, onOutcome: (outcome: CallOutcome) => void): void {
    const serial = this.callSerial++;
    this.calls.set(serial, label);
    this.ctx.call(to, request, (outcome) => {
      this.calls.delete(serial);
      onOutcome(outcome);
    });
  }

  /** What is awaited now: each pending wait's label and each call in flight. */
  pending(): string[] {
    return [...this.waiters.labels(), ...[...this.calls.values()].map((label) => `the return of ${label}`)];
  }

  /** Every pending wait called off, without its callbacks (the actor gave up on its script). */
  cancelAll(): void {
    for (const cancel of [...this.open]) cancel();
  }

  private claim(key: string, entry: InboxEntry<T>): boolean {
    const waiter = this.waiters.claim(key, entry);
    waiter?.onMatch(entry);
    return waiter !== undefined;
  }

  private eachWaiter(options: AwaitEachOptions<T>, wanted: Wanted<T>, index: number, onMatch: (entry: InboxEntry<T>) => void): Waiter<T> {
    return { label: wanted.label ?? `${options.label} #${index}`, key: wanted.key, accepts: wanted.accepts ?? anyEntry, onMatch };
  }
}
