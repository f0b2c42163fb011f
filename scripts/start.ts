/**
 * `npm start`: the main job. The default world (scripts/default-world.ts) under the ws runtime,
 * every component in its own worker thread; prints the verdict and writes out/start/.
 */
import { randomInt } from 'node:crypto';
import { printDefaultWorldSummary, runDefaultWorld } from './default-world.ts';

const seed = randomInt(0, 2 ** 32 - 1);
console.log(`seed ${seed} (runtime ws, a worker per component)`);
const summary = await runDefaultWorld({ runtime: 'ws', seed, rounds: 20, out: 'out/start' });
printDefaultWorldSummary(summary);
process.exitCode = summary.passed ? 0 : 1;
