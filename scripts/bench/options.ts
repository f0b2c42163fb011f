/**
 * `npm run bench` arguments: `--quick` (shorter runs, for iterating) and `--only` a comma-separated
 * list of sections. Pure, so it is tested without running anything.
 */
import { parseArgs } from 'node:util';

export const SECTIONS = ['sim', 'echo', 'ws', 'world', 'chain', 'thousand'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchPlan {
  quick: boolean;
  sections: ReadonlySet<Section>;
  /** Calls the sim's test world makes. */
  simCalls: number;
  /** Bare echo round trips one at a time (four times as many with 256 in flight). */
  echoRoundTrips: number;
  /** ws runtime round trips one at a time, and per vCPU with 256 vCPUs in flight. */
  wsSequential: number;
  wsPipelinedPerVcpu: number;
  /** The world's saturation run: offered rate, and every world run's workload. */
  saturationRatePerSecond: number;
  worldDurationMs: number;
  /** Search the highest rate with p99 within 20 ms (several more world runs). */
  withinP99: boolean;
  /** The saturation run and its baseline again with the platform in one worker (--platform-workers 1). */
  onePlatformWorker: boolean;
  /** Each saturation probe of the chain, and the most probes. */
  chainProbeDurationMs: number;
  chainProbesMax: number;
}

/** The chain's rates when the world was not run: a low one, two near a loaded world's half capacity, and the world's saturation offer. */
export const CHAIN_RATES_WITHOUT_WORLD = [25, 50, 100, 5000];

export const USAGE = `usage: npm run bench [-- --quick] [-- --only ${SECTIONS.join(',')}]
  --quick   shorter runs (about a quarter of the time); leaves out 'thousand' unless --only names it
  --only    the sections to run, comma-separated`;

/** Not a plan: the usage asked for (exit 0), or what is wrong with the arguments (exit 2). */
export interface NoPlan {
  message: string;
  exitCode: 0 | 2;
}

const refused = (problem: string): NoPlan => ({ message: `${problem}\n${USAGE}`, exitCode: 2 });

export function isPlan(plan: BenchPlan | NoPlan): plan is BenchPlan {
  return !('exitCode' in plan);
}

/** The plan from the command line. */
export function benchPlan(args: readonly string[]): BenchPlan | NoPlan {
  let values: { quick?: boolean; only?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...args], options: { quick: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    return refused(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { message: USAGE, exitCode: 0 };
  const quick = values.quick === true;
  let sections: Set<Section>;
  if (values.only === undefined) sections = new Set(SECTIONS.filter((s) => !(quick && s === 'thousand')));
  else {
    const named = values.only.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const unknown = named.filter((s) => !(SECTIONS as readonly string[]).includes(s));
    if (named.length === 0 || unknown.length > 0) return refused(`--only takes sections among ${SECTIONS.join(', ')}${unknown.length > 0 ? `, not ${unknown.join(', ')}` : ''}`);
    sections = new Set(named as Section[]);
  }
  return {
    quick,
    sections,
    simCalls: quick ? 50_000 : 200_000,
    echoRoundTrips: quick ? 2_000 : 10_000,
    wsSequential: quick ? 2_000 : 10_000,
    wsPipelinedPerVcpu: quick ? 40 : 160,
    saturationRatePerSecond: 5_000,
    worldDurationMs: quick ? 1_000 : 2_000,
    withinP99: !quick,
    onePlatformWorker: !quick,
    chainProbeDurationMs: quick ? 500 : 1_000,
    chainProbesMax: quick ? 6 : 10,
  };
}
