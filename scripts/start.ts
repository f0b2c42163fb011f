/**
 * `npm start`: the main job. Until the default world lands (the scenario issue), it runs the
 * two-component test world under the ws runtime, every component in its own worker thread.
 */
import { randomInt } from 'node:crypto';
import { runTestWorld } from './run-test-world.ts';

const seed = randomInt(0, 2 ** 32 - 1);
console.log(`seed ${seed} (runtime ws)`);
const summary = await runTestWorld({ runtime: 'ws', seed, vcpus: 2, callsPerVcpu: 50, out: 'out/start' });
console.log(`${summary.passed ? 'PASS' : 'FAIL'} ${summary.name}: ${summary.calls.echoedExactly}/${summary.calls.issued} calls echoed bit for bit, ${summary.calls.failed} failed, ${summary.wallMs} ms (${summary.ended})`);
console.log(`history ${summary.historyFile} (${summary.historyEntries} events, sha256 ${summary.historyHash})`);
console.log(`replay: ${summary.replay}`);
process.exitCode = summary.passed ? 0 : 1;
