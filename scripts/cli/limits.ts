/**
 * The bounds and defaults that the commands' help prints. They live apart from the commands so
 * that `ffa-world --help` loads none of the machinery that runs a world.
 */
export const LOAD_LIMITS = { guests: 5000, vcpus: 16, cpus: 64 } as const;
export const LOAD_DEFAULTS = { guests: 8, vcpus: 2, cpus: 4, rate: '1000/s', duration: '1s', runtime: 'ws', spmc: 'optee' } as const;
/** `shards`: K of `sweep --shard I/K`, one results file each for `sweep merge` to read. */
export const SWEEP_LIMITS = { seeds: 1_000_000, jobs: 64, seedMax: 0xffff_ffff, shards: 10_000 } as const;

/** pino's levels, for --log-level. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export { TRACE_DETAILS, type TraceDetail } from '../../services/orchestrator/report/trace-detail.ts';
export { COMPARE_LIMITS } from '../../services/orchestrator/compare/limits.ts';
