// Lint for ffa-world. The one project-specific rule: service logic is handed its clock, random
// stream and timers by the runtime (docs/design.md §3), so ambient time, randomness and timers
// are banned there; the runtimes themselves (shared/runtime/sim, shared/runtime/ws) may use them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const ambientTimeAndRandomness = {
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'Use ctx.clock.nowNs(): service logic never reads the real clock.' },
    { object: 'Math', property: 'random', message: 'Use ctx.random: randomness comes from the run seed.' },
    { object: 'performance', property: 'now', message: 'Use ctx.clock.nowNs().' },
    { object: 'process', property: 'hrtime', message: 'Use ctx.clock.nowNs().' },
  ],
  'no-restricted-globals': [
    'error',
    { name: 'setTimeout', message: 'Use ctx.setTimer(): timers belong to the runtime.' },
    { name: 'setInterval', message: 'Use ctx.setTimer().' },
    { name: 'setImmediate', message: 'Use ctx.setTimer(0, …).' },
    { name: 'performance', message: 'Use ctx.clock.' },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date']", message: 'Use ctx.clock.nowNs().' },
  ],
  'no-restricted-imports': [
    'error',
    ...['ws', 'node:net', 'node:timers', 'node:timers/promises', 'node:worker_threads', 'node:fs'].map((name) => ({
      name,
      message: 'Service logic talks only through its ComponentContext.',
    })),
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'bench-results/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Service logic: every platform component, the orchestrator's step loop and workloads, the
    // scripted actors' kernel and the test world's components.
    files: [
      'services/{gic,spmd,spmc,hypervisor,guest}/**/*.ts',
      'services/orchestrator/{orchestrator,awaiting,apply-faults,workload,faults}.ts',
      'shared/runtime/scripted-actor/**/*.ts',
      'shared/runtime/test-world/**/*.ts',
    ],
    ignores: ['**/*.test.ts'],
    rules: ambientTimeAndRandomness,
  },
  {
    // The layers (docs/design.md "Layers"): each zone names what a folder may never import, so
    // the folders form a graph without cycles and the foundation never reaches up.
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', 'services/orchestrator/test-support/**'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.mjs', '.js'] } } },
    rules: { 'import-x/no-restricted-paths': ['error', { zones: layerZones() }] },
  },
);

/** What each folder may not import: the foundation below the services, the services side by side, the orchestrator above them. */
function layerZones() {
  const platform = ['gic', 'spmd', 'spmc', 'hypervisor', 'guest'];
  const orchestrator = './services/orchestrator';
  const top = ['orchestrator.ts', 'awaiting.ts', 'apply-faults.ts', 'config.ts', 'step-outcome.ts', 'faults.ts', 'swarm.ts', 'workload.ts', 'expect.ts'].map((f) => `${orchestrator}/${f}`);
  const sub = (names) => names.map((n) => `${orchestrator}/${n}`);
  const zone = (target, from, message, except) => ({ target, from, message, ...(except ? { except } : {}) });
  return [
    zone('./shared', ['./services', './scripts', './scenarios'], 'shared/ is the foundation: it imports nothing above it.'),
    zone('./shared/ffa', ['./shared/protocol', './shared/wire', './shared/config', './shared/runtime'], 'shared/ffa is the ABI alone.'),
    zone('./shared/protocol', ['./shared/wire', './shared/config', './shared/runtime'], 'shared/protocol sits on the ABI only.'),
    zone('./shared/config', ['./shared/wire', './shared/runtime'], 'shared/config sits below the runtime.'),
    zone('./shared/wire', ['./shared/config', './shared/runtime'], 'the wire sits below the runtime.'),
    ...platform.map((role) =>
      zone(`./services/${role}`, [...platform.filter((r) => r !== role).map((r) => `./services/${r}`), orchestrator, './scripts'],
        `services/${role} talks to other components only through links, never by import.`)),
    ...platform.map((role) =>
      zone(orchestrator, `./services/${role}`, `the orchestrator may use a service's config (limits, shapes), names (profiles, driver variants) and test support only.`,
        ['./config.ts', './test-support', './variants.ts', './profiles.ts'])),
    zone(sub(['scenario']), [...top, ...sub(['checkers', 'report', 'run', 'load-test'])], 'the scenario format sits below everything that runs it.'),
    zone(top, sub(['checkers', 'report', 'run', 'load-test']), 'the step loop sits below the runner.'),
    zone(sub(['checkers']), sub(['report', 'run', 'load-test']), 'checkers judge histories; they do not run worlds.'),
    zone(sub(['report']), sub(['run', 'load-test']), 'the report renders results; it does not run worlds.'),
    zone(sub(['run']), sub(['load-test']), 'the runner does not know the load test.'),
    zone(['./services', './shared'], ['./scripts'], 'scripts/ is the top: nothing imports it.'),
  ];
}
