// Piscina worker for `ffa-world sweep` (libraries.md tsx trap: a worker cannot be started with
// `--import tsx` on Node 20). Plain JavaScript that loads the TypeScript task through tsx's API,
// as shared/runtime/ws/worker-entry.mjs does; piscina calls the default export once per task.
const { tsImport } = await import('tsx/esm/api');
const { runSweepTask } = await tsImport('./sweep-task.ts', import.meta.url);

export default runSweepTask;
