/**
 * How much of a run trace.json holds. A 64-guest load run's whole trace is 16 MB: more than a
 * browser's trace viewer opens comfortably, and more than a load run needs.
 * - full: every message, slice and counter;
 * - summary: the counter tracks and the components' slices, without one arrow per message;
 * - none: no trace.json.
 */
export const TRACE_DETAILS = ['none', 'summary', 'full'] as const;
export type TraceDetail = (typeof TRACE_DETAILS)[number];
