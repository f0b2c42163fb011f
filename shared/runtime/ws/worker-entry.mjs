// Worker entry for one component (plain JavaScript). The supervisor starts its workers while it
// builds the workers' bundle (bundle.ts), so a worker's own start-up overlaps the build; its
// first message (WorkerLoad, worker-protocol.ts) then says where the code is:
// - the bundle: imported as it is, with source maps on, so a crash's stack names the .ts sources;
// - null (`bundle: false`, or the bundle could not be built): the TypeScript sources through tsx's
//   API. libraries.md tsx trap: `new Worker(url, { execArgv: ['--import', 'tsx'] })` fails on
//   Node 20 with ERR_UNKNOWN_FILE_EXTENSION.
import { parentPort } from 'node:worker_threads';

if (!parentPort) throw new Error('worker-entry.mjs runs only as a worker thread');
const load = await new Promise((resolve) => parentPort.once('message', resolve));
if (load?.type !== 'load') throw new Error(`the worker's first message must say where its code is, not ${JSON.stringify(load?.type)}`);
if (load.bundle) {
  process.setSourceMapsEnabled(true);
  await import(load.bundle); // its entry registers the component modules, then runs worker-main
} else {
  const { tsImport } = await import('tsx/esm/api');
  const { runWorker } = await tsImport('./worker-main.ts', import.meta.url);
  await runWorker();
}
