/**
 * A run's output files (docs/design.md §8): trace.json for Perfetto, report.html for a person,
 * summary.json for tools, and JUnit XML for CI.
 */
export { buildTrace, TraceFold } from './trace.ts';
export { nsToUs } from './trace-emit.ts';
export { LANE_STRIDE } from './trace-lanes.ts';
export type { ChromeTrace, TraceEvent } from './trace-model.ts';
export { renderReport, renderReportOf, firstFailure, failureFocus, FaultTable, type FirstFailure, type ReportInput } from './report.ts';
export { sequenceWindowOf } from './sequence.ts';
export { junitXml } from './junit.ts';
export { writeOutputs, writeRunOutputs, summaryJson, traceJson, type RunOutputPaths } from './write.ts';
export { latencySamples, PlotSamples, type LatencySample } from './latency-samples.ts';
