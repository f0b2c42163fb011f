/**
 * The parts of a trace (trace.ts): the Chrome trace-event format's events, and the slices, flows
 * and instants the builder makes from a history before they are emitted as events.
 */

export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 's' | 'f' | 'M' | 'C';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  /** Instant scope: thread or process. */
  s?: 't' | 'p';
  /** Flow id (v1 flow events). */
  id?: number;
  /** Flow end binding: the enclosing slice. */
  bp?: 'e';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ns';
}


/** A complete slice on one thread of a component's track. */
export interface Slice {
  pid: number;
  /** The track's own thread (vCPU or CPU); `tid` may be an overlap thread of it. */
  base: number;
  tid: number;
  startNs: number;
  endNs: number;
  name: string;
  cat: string;
  args: Record<string, unknown>;
  /** Seq of the entry that opened it: orders slices that start together. */
  order: number;
}

/** A flow arrow from one slice to another. */
export interface Flow {
  id: number;
  name: string;
  from: Slice;
  to: Slice;
}

/** A point in time on a thread (scope 't') or a whole process ('p'). */
export interface Instant {
  pid: number;
  tid: number;
  t: number;
  name: string;
  cat: string;
  scope: 't' | 'p';
  args: Record<string, unknown>;
  order: number;
}
