/**
 * The sim runtime's event queue: a binary min-heap ordered by (virtual time, random tiebreak,
 * insertion order). The tiebreak is drawn by the seeded scheduler, so events ready at the same
 * instant run in a seed-chosen order; insertion order makes the order total. A cancelled event
 * stays in the heap, marked, and is skipped when it reaches the top.
 */

export interface QueuedEvent {
  timeNs: number;
  tiebreak: number;
  order: number;
  fire: () => void;
  cancelled: boolean;
}

export class EventQueue {
  private readonly heap: QueuedEvent[] = [];
  /** Events queued and not yet fired or cancelled, by handle. */
  private readonly live = new Map<number, QueuedEvent>();
  private nextOrder = 1;

  /** Queue `fire` at `timeNs`; returns a handle for `cancel`. */
  push(timeNs: number, tiebreak: number, fire: () => void): number {
    const order = this.nextOrder++;
    const event: QueuedEvent = { timeNs, tiebreak, order, fire, cancelled: false };
    this.heap.push(event);
    this.live.set(order, event);
    this.siftUp(this.heap.length - 1);
    return order;
  }

  /** Cancel a queued event; a handle already fired or cancelled is ignored. */
  cancel(handle: number): void {
    const event = this.live.get(handle);
    if (!event) return;
    event.cancelled = true;
    this.live.delete(handle);
  }

  /** Time of the next live event, or undefined when none is left. */
  peekTime(): number | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.timeNs;
  }

  pop(): QueuedEvent | undefined {
    this.dropCancelledTop();
    const event = this.popTop();
    if (event) this.live.delete(event.order);
    return event;
  }

  /** Live (not cancelled) events queued. */
  get size(): number {
    return this.live.size;
  }

  private dropCancelledTop(): void {
    while (this.heap[0]?.cancelled) this.popTop();
  }

  private popTop(): QueuedEvent | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private less(a: QueuedEvent, b: QueuedEvent): boolean {
    if (a.timeNs !== b.timeNs) return a.timeNs < b.timeNs;
    if (a.tiebreak !== b.tiebreak) return a.tiebreak < b.tiebreak;
    return a.order < b.order;
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const item = heap[index] as QueuedEvent;
    let i = index;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = heap[parentIndex] as QueuedEvent;
      if (!this.less(item, parent)) break;
      heap[i] = parent;
      i = parentIndex;
    }
    heap[i] = item;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const length = heap.length;
    const item = heap[index] as QueuedEvent;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && this.less(heap[right] as QueuedEvent, heap[left] as QueuedEvent)) child = right;
      const childItem = heap[child] as QueuedEvent;
      if (!this.less(childItem, item)) break;
      heap[i] = childItem;
      i = child;
    }
    heap[i] = item;
  }
}
