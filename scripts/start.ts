/**
 * `npm start`: the main job. The default world (scenarios/default-world.yaml) under the ws
 * runtime, every component in its own worker thread; prints the verdict of every checker and
 * where the report is (out/start/). It ends with npm however npm ends (parent-watch.ts).
 */
import { exitWithParent } from './parent-watch.ts';
import { DEFAULT_WORLD_FILE, runScenarioFiles } from './run-scenarios.ts';

exitWithParent('npm start');
process.exitCode = await runScenarioFiles({ files: [DEFAULT_WORLD_FILE], runtime: 'ws', out: 'out/start', json: false });
