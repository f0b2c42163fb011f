/**
 * `npm start`: the main job. The default world (scenarios/default-world.yaml) under the ws
 * runtime, every component in its own worker thread; prints the verdict of every checker and
 * where the report is (out/start/).
 */
import { runScenarioFiles } from './run-scenarios.ts';

process.exitCode = await runScenarioFiles({ files: ['scenarios/default-world.yaml'], runtime: 'ws', out: 'out/start', json: false });
