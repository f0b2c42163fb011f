// Lint for ffa-world. The one project-specific rule: service logic is handed its clock, random
// stream and timers by the runtime (design world.md §3), so ambient time, randomness and timers
// are banned there; the runtimes themselves (shared/runtime/sim, shared/runtime/ws) may use them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    // Service logic: every platform component, and the test world's components.
    files: ['services/**/*.ts', 'shared/runtime/test-world/**/*.ts', 'shared/scenario/orchestrator.ts', 'shared/scenario/workload.ts'],
    ignores: ['**/*.test.ts'],
    rules: ambientTimeAndRandomness,
  },
);
