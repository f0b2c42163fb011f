/**
 * The scenario format's bounds and the shapes of its values (docs/scenarios.md):
 * 64-bit integers, names, endpoints, durations, rates, versions, error names. schema.ts builds
 * the file's shape from them.
 *
 * Numbers: the reader parses integers exactly and hands over those beyond 2^53 as bigints, so a
 * 64-bit value (`u64`) is a number or a bigint; every other numeric field takes numbers only.
 * Every list and number has a bound (TigerBeetle: put a limit on everything).
 */
import { z } from 'zod';
import { integerIn, must, oneOf } from '../../../shared/config/zod-kit.ts';
import { FFA_ERROR_CODES, type FfaErrorName } from '../../../shared/ffa/index.ts';

/**
 * `ffa-world load`'s drain when none is given: after the workload the world runs on until it is
 * quiet or this long has passed (twenty times no-lost's default liveness bound of 500 ms). A world
 * that keeps up goes quiet within milliseconds, so the bound only ends the drain of one working
 * through a backlog: 2 s cut off 64 guests at 2500/s under ws on a 2-core machine shared with
 * other work (backlogs of 2 to 3 s after the last arrival), and called their queue a loss.
 */
export const DEFAULT_DRAIN_NS = 10_000_000_000;

export const SCENARIO_LIMITS = {
  /** Characters in a scenario file: far above any hand-written one, well below what slows the parser. */
  fileLength: 4 * 1024 * 1024,
  nameLength: 64,
  titleLength: 200,
  descriptionLength: 10_000,
  cpus: 64,
  vcpus: 64,
  partitions: 64,
  /** VM entries, and VMs after `count` expansion ("hundreds to thousands of guests", docs/design.md §1). */
  vms: 4096,
  steps: 100_000,
  timedFaults: 10_000,
  checks: 64,
  argsPerCall: 32,
  listItems: 64,
  /** x1..x17 (x0 is the call's function ID). */
  rawRegisters: 17,
  /** GICv3 INTIDs 0..1023 (SGI, PPI, SPI and the special IDs); LPIs are not modelled. */
  intidMax: 1023,
  notificationIdMax: 63,
  count: 10_000_000,
  /** One day, in ns: longer than any run, and still a safe integer. */
  durationNsMax: 86_400 * 1e9,
  ratePerSecondMax: 10_000_000,
  seedMax: 0xffff_ffff,
  /** 0x8000 is the SPMC's own ID, 0xFFC0..0xFFFF the SPMD's logical partitions (Hafnium plat_ffa_is_spmd_lp_id). */
  spIdMin: 0x8001,
  spIdMax: 0xffbf,
  /** VM IDs are Xen's domid + 1: bit 15 clear; 0 is the hypervisor's (or the bare-metal host's). */
  vmIdMax: 0x7fff,
} as const;

export const U64_MAX = (1n << 64n) - 1n;

/** The u64 schemas, which the JSON Schema writes as one integer type (see scenarioJsonSchema). */
const U64_SCHEMAS = new WeakSet<object>();

export const isU64Schema = (schema: object): boolean => U64_SCHEMAS.has(schema);

/** A 64-bit register or bitmap: numbers up to 2^53, bigints beyond (see the header). */
export function u64(what = 'an unsigned 64-bit integer (decimal or 0x hex)') {
  const wording = must(what);
  const schema = z
    .union([z.number(wording).int(wording).min(0, wording), z.bigint(wording).min(0n, wording).max(U64_MAX, wording)], wording)
    .meta({ description: 'An unsigned 64-bit integer, decimal or 0x hex, exact to the last bit' });
  U64_SCHEMAS.add(schema);
  return schema;
}

/** A name a step can use: a letter, then letters, digits, '.', '_' or '-'. Never a number, so never an ID. */
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;
export const name = (what = 'a name') => {
  const wording = must(`${what}: a letter, then letters, digits, '.', '_' or '-', at most ${SCENARIO_LIMITS.nameLength} characters`);
  return z.string(wording).regex(NAME_PATTERN, wording).max(SCENARIO_LIMITS.nameLength, wording);
};

/** An endpoint as a step names it (docs/scenarios.md "Endpoints"); the loader resolves it. */
export const endpointRef = () =>
  z
    .union([z.string(), integerIn(0, 0xffff)], must('an endpoint: a VM or SP name, hypervisor, host, or a 16-bit FF-A ID'))
    .meta({ description: 'An endpoint: a VM or SP name, hypervisor, host, or a 16-bit FF-A ID' });

/**
 * Durations carry their unit: "10ms", "5s", "250us" (or "250µs"), "100ns". A bare number is
 * refused rather than guessed at, because 10 could as well be 10 ns as 10 s.
 */
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)$/;
const NS_PER_UNIT: Readonly<Record<string, number>> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };

/** "10ms" -> 10_000_000 (rounded to whole ns); null when the text is not a duration. */
export function durationNs(text: string): number | null {
  const match = DURATION_PATTERN.exec(text);
  if (!match) return null;
  return Math.round(Number(match[1]) * (NS_PER_UNIT[match[2] ?? ''] ?? Number.NaN));
}

const DURATION_WORDING = `a duration with its unit, such as 10ms, 5s, 250us or 100ns (at most one day)`;
export const duration = () => {
  const wording = must(DURATION_WORDING);
  return z
    .string(wording)
    .regex(DURATION_PATTERN, wording)
    .refine((text) => (durationNs(text) ?? Infinity) <= SCENARIO_LIMITS.durationNsMax, wording)
    .meta({ description: 'A duration with its unit: 10ms, 5s, 250us, 100ns' });
};

/** An open-model rate: "2000/s" or "2/ms". */
const RATE_PATTERN = /^(\d+(?:\.\d+)?)\s*\/\s*(s|ms)$/;

export function ratePerSecond(text: string): number | null {
  const match = RATE_PATTERN.exec(text);
  if (!match) return null;
  return Number(match[1]) * (match[2] === 'ms' ? 1000 : 1);
}

export const rate = () => {
  const wording = must(`a rate such as 2000/s or 2/ms (at most ${SCENARIO_LIMITS.ratePerSecondMax}/s)`);
  return z
    .string(wording)
    .regex(RATE_PATTERN, wording)
    .refine((text) => {
      const perSecond = ratePerSecond(text) ?? 0;
      return perSecond > 0 && perSecond <= SCENARIO_LIMITS.ratePerSecondMax;
    }, wording)
    .meta({ description: 'A rate: 2000/s or 2/ms' });
};

/** "1.2" as text; an unquoted 1.2 (a YAML float) or an encoded 0x10002 are read by the loader. */
export const version = () => z.union([z.string(), z.number()], must('an FF-A version such as "1.2"')).meta({ description: 'An FF-A version: "1.2"' });

export const probability = () => {
  const wording = must('a probability in 0..1');
  return z.number(wording).min(0, wording).max(1, wording);
};

export const count = () => integerIn(1, SCENARIO_LIMITS.count);

const ERROR_NAMES = Object.keys(FFA_ERROR_CODES) as FfaErrorName[];
export const errorName = () => oneOf(ERROR_NAMES, must(`an FF-A error name: ${ERROR_NAMES.join(', ')}`));

/**
 * Policy overrides: a mapping of policy name to value, judged here by the component's own policy
 * check (its config.ts, which it checks again at start) so that a bad name or value is refused
 * with the file's line, before anything runs. The mapping stays as written (no defaults filled in).
 */
export const policies = (check: z.ZodType) =>
  z.record(z.string(), z.unknown(), must('a mapping of policy name to value')).superRefine((value, ctx) => {
    const result = check.safeParse(value);
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
