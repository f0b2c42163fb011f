/**
 * A run's output files (docs/design.md §8): trace.json for Perfetto, report.html for a person,
 * summary.json for tools, and JUnit XML for CI.
 */
export { buildTrace } from './trace.ts';
export { nsToUs } from './trace-emit.ts';
export { LANE_STRIDE } from './trace-lanes.ts';
export type { ChromeTrace, TraceEvent } from './trace-model.ts';
export { renderReport, firstFailure, type FirstFailure } from './report.ts';
export { junitXml } from './junit.ts';
export { writeRunOutputs, summaryJson, traceJson, type RunOutputPaths } from './write.ts';
export { latencySamples, type LatencySample } from './latency-samples.ts';
