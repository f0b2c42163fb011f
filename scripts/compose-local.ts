/**
 * `npm run compose:local -- --scale guest=4`: every service of docker-compose.yml as an OS
 * process (scripts/compose/local-world.ts), the orchestrator last; exits with its verdict
 * (0 every check held, 1 something failed, 2 invalid input). Logs: <out>/logs/.
 */
import { resolve } from 'node:path';
import { cac } from 'cac';
import { LocalWorld } from './compose/local-world.ts';

const EXIT_INVALID = 2;

function parseScale(values: unknown): Record<string, number> {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  return Object.fromEntries(
    list.map((value) => {
      const match = /^([a-z][a-z0-9_-]*)=(\d{1,4})$/.exec(String(value));
      if (!match) throw new Error(`--scale ${String(value)}: want SERVICE=N, e.g. --scale guest=4`);
      return [match[1] as string, Number(match[2])];
    }),
  );
}

const cli = cac('compose:local');
cli
  .command('', 'run docker-compose.yml as local processes')
  .option('--file <file>', 'compose file', { default: 'docker-compose.yml' })
  .option('--scale <service=n>', 'replicas of a service (repeatable)')
  .option('--out <dir>', 'report and logs', { default: 'out/compose-local' })
  .option('--scenario <file>', 'scenario the orchestrator runs (FFA_SCENARIO)')
  .option('--seed <n>', 'seed (FFA_SEED)')
  .action(async (options: { file: string; scale?: unknown; out: string; scenario?: string; seed?: string }) => {
    let scale: Record<string, number>;
    try {
      scale = parseScale(options.scale);
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(EXIT_INVALID);
    }
    const env: NodeJS.ProcessEnv = { ...process.env, ...(options.scenario ? { FFA_SCENARIO: options.scenario } : {}), ...(options.seed ? { FFA_SEED: String(options.seed) } : {}) };
    const world = new LocalWorld({ file: resolve(options.file), scale, out: resolve(options.out), env });
    let code = 1;
    try {
      await world.startServices(['orchestrator']);
      code = await world.run('orchestrator');
    } catch (error) {
      process.stderr.write(`compose:local: ${(error as Error).message}\n`);
    } finally {
      await world.stop();
    }
    process.exit(code);
  });
cli.help();
cli.parse();
