/**
 * `npm run compose:local -- --scale guest=4`: every service of docker-compose.yml as an OS
 * process (scripts/compose/local-world.ts), the orchestrator last; exits with its verdict
 * (0 every check held, 1 something failed, 2 invalid input). Logs: <out>/logs/. With
 * --world-only it starts no orchestrator: the world stays up, and the command line that attaches
 * a load to it (`ffa-world load --attach`, scripts/load-attach.ts) is printed.
 *
 * Its services end with it however it ends: SIGTERM and SIGINT stop the world first; when npm
 * (its parent) is killed, it notices (parent-watch.ts) and exits, and exiting kills the services
 * (LocalWorld); were it killed outright, each service notices that it has gone.
 */
import { resolve } from 'node:path';
import { cac } from 'cac';
import { FileInputError, makeFolder } from '../shared/runtime/files.ts';
import { LocalWorld } from './compose/local-world.ts';
import { joinNegativeValues, valueOptionsOf } from './negative-values.ts';
import { exitWithParent } from './parent-watch.ts';

const EXIT_INVALID = 2;
/** 128 + the signal's number, as a shell reports a process a signal ended. */
const EXIT_ON_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;

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

/** --seed as the orchestrator service takes FFA_SEED: checked here, before a world is started for nothing. */
function checkSeed(seed: unknown): void {
  if (seed === undefined) return;
  const text = String(seed);
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffff_ffff) throw new Error(`--seed must be an integer in 0..4294967295, not ${text}`);
}

function refuse(message: string): never {
  process.stderr.write(`compose:local: ${message}\n`);
  process.exit(EXIT_INVALID);
}

/** Set once a signal asked the world to stop: its services' exits are then expected. */
let stoppingOnSignal = false;

/** Stop the world on SIGTERM or SIGINT, then exit as the signal would have. */
function stopOnSignals(world: LocalWorld): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stoppingOnSignal = true;
      void world.stop().finally(() => process.exit(EXIT_ON_SIGNAL[signal]));
    });
  }
}

/** --world-only: the world stays up for an orchestrator started elsewhere (`ffa-world load --attach`) until a signal, or until one of its services exits. */
async function keepWorldUp(world: LocalWorld, env: NodeJS.ProcessEnv): Promise<number> {
  await world.waitStarted('guest');
  const attach = { ...world.attachEnvironment(), ...(env['FFA_SCENARIO'] ? { FFA_SCENARIO: env['FFA_SCENARIO'] } : {}) };
  const variables = Object.entries(attach).map(([name, value]) => `${name}=${value}`).join(' ');
  process.stdout.write(`compose:local: the world is up without its orchestrator (Ctrl-C stops it); attach a load to it with:\n  ${variables} npx ffa-world load --attach --rate 200/s --duration 5s\n`);
  const gone = await Promise.race(world.containers.map((c) => c.exited.then((code) => `${c.service}-${c.replica} exited with ${code}`)));
  if (!stoppingOnSignal) process.stderr.write(`compose:local: ${gone}: the world is stopped\n`);
  return 1;
}

const cli = cac('compose:local');
cli
  .command('', 'run docker-compose.yml as local processes')
  .option('--file <file>', 'compose file', { default: 'docker-compose.yml' })
  .option('--scale <service=n>', 'replicas of a service (repeatable)')
  .option('--out <dir>', 'report and logs', { default: 'out/compose-local' })
  .option('--scenario <file>', 'scenario the orchestrator runs (FFA_SCENARIO)')
  .option('--seed <n>', 'seed (FFA_SEED)')
  .option('--world-only', 'start every service but the orchestrator and keep the world up until Ctrl-C, for ffa-world load --attach')
  .action(async (options: { file: string; scale?: unknown; out: string; scenario?: string; seed?: string; worldOnly?: boolean }) => {
    let scale: Record<string, number> = {};
    try {
      scale = parseScale(options.scale);
      checkSeed(options.seed);
      makeFolder(String(options.out));
    } catch (error) {
      refuse(error instanceof FileInputError ? `--out ${error.message}` : (error as Error).message);
    }
    const env: NodeJS.ProcessEnv = { ...process.env, ...(options.scenario ? { FFA_SCENARIO: options.scenario } : {}), ...(options.seed ? { FFA_SEED: String(options.seed) } : {}) };
    const world = new LocalWorld({ file: resolve(options.file), scale, out: resolve(String(options.out)), env });
    stopOnSignals(world);
    exitWithParent('compose:local');
    let code = 1;
    try {
      await world.startServices(['orchestrator']);
      code = options.worldOnly === true ? await keepWorldUp(world, env) : await world.run('orchestrator');
    } catch (error) {
      process.stderr.write(`compose:local: ${(error as Error).message}\n`);
    } finally {
      await world.stop();
    }
    process.exit(code);
  });
cli.help();
cli.parse(joinNegativeValues(process.argv, valueOptionsOf(cli)));
