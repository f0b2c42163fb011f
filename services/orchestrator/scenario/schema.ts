/**
 * The scenario file's shape (../../../shared/design/scenario-format.md, a public interface) as one
 * zod schema: the loader validates with it, and the JSON Schema that editors use is generated from
 * it (`scenarioJsonSchema`), so the two cannot disagree.
 *
 * The schema checks shape only: which keys exist, what type and range each value has. What needs
 * the whole world to judge (does `vm3` exist, does FFA_NOTIFICATION_SET take `bitmaps`) and the
 * conversion into the loaded form (types.ts) are the loader's (load.ts).
 *
 * Numbers: the loader parses integers exactly and hands over those beyond 2^53 as bigints, so a
 * 64-bit value (`u64`) is a number or a bigint; every other numeric field takes numbers only.
 * Every list and number has a bound (TigerBeetle: put a limit on everything).
 */
import { z } from 'zod';
import { FFA_ERROR_CODES, type FfaErrorName, hex } from '../../../shared/ffa/index.ts';
import { CHECK_NAMES } from './types.ts';

export const SCENARIO_LIMITS = {
  /** Characters in a scenario file: far above any hand-written one, well below what slows the parser. */
  fileLength: 4 * 1024 * 1024,
  nameLength: 64,
  titleLength: 200,
  descriptionLength: 10_000,
  cpus: 64,
  vcpus: 64,
  partitions: 64,
  /** VM entries, and VMs after `count` expansion ("hundreds to thousands of guests", world.md §1). */
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

// ---------------------------------------------------------------- wording

/** A value as the file wrote it, for "got …". */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  // Beyond 2^53 the file wrote hex (a register or bitmap), so it reads back in hex.
  if (typeof value === 'bigint') return `0x${value.toString(16)}`;
  const text = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? `0x${item.toString(16)}` : item)) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

type ErrorOption = { error: (issue: { input?: unknown }) => string };

/** Zod's error option: "must be <what>, got <value>", or "is missing" when there is no value. */
export function must(what: string): ErrorOption {
  return { error: (issue) => (issue.input === undefined ? `is missing: add it (${what})` : `must be ${what}, got ${show(issue.input)}`) };
}

/** An object whose keys are all known: a misspelt key is refused with the keys it takes, never ignored. */
export function strict<S extends z.core.$ZodLooseShape>(shape: S, what: string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? unknownKeyMessage(issue.keys[0] ?? '', known, what) : must(`${what} (a mapping)`).error(issue),
  });
}

function unknownKeyMessage(key: string, known: readonly string[], what: string): string {
  const guess = closest(key, known);
  const hint = guess === null ? '' : `did you mean '${guess}'? `;
  return `unknown key '${key}': ${hint}${what} takes ${known.join(', ')}`;
}

/** The candidate nearest to `word` (edit distance at most a third of its length), for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// ---------------------------------------------------------------- values


/** An integer in min..max, both inclusive (hex bounds read better for IDs). */
export function integerIn(min: number, max: number, what = `an integer in ${min}..${max}`) {
  const wording = must(what);
  return z.number(wording).int(wording).min(min, wording).max(max, wording);
}

/** The u64 schemas, which the JSON Schema writes as one integer type (see scenarioJsonSchema). */
const U64_SCHEMAS = new WeakSet<object>();

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
export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]*$/;
export const name = (what = 'a name') => {
  const wording = must(`${what}: a letter, then letters, digits, '.', '_' or '-', at most ${SCENARIO_LIMITS.nameLength} characters`);
  return z.string(wording).regex(NAME_PATTERN, wording).max(SCENARIO_LIMITS.nameLength, wording);
};

/** An endpoint as a step names it (scenario-format.md "Endpoints"); the loader resolves it. */
export const endpointRef = () =>
  z
    .union([z.string(), integerIn(0, 0xffff)], must('an endpoint: a VM or SP name, hypervisor, host, or a 16-bit FF-A ID'))
    .meta({ description: 'An endpoint: a VM or SP name, hypervisor, host, or a 16-bit FF-A ID' });

/**
 * Durations carry their unit: "10ms", "5s", "250us" (or "250µs"), "100ns". A bare number is
 * refused rather than guessed at, because 10 could as well be 10 ns as 10 s.
 */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)$/;
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
export const RATE_PATTERN = /^(\d+(?:\.\d+)?)\s*\/\s*(s|ms)$/;

export function ratePerSecond(text: string): number | null {
  const match = RATE_PATTERN.exec(text);
  if (!match) return null;
  return Number(match[1]) * (match[2] === 'ms' ? 1000 : 1);
}

const rate = () => {
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

/** A discriminated union's refusal, about its discriminator's value rather than the whole mapping. */
function discriminatorError(key: string, what: string): ErrorOption {
  const value = (input: unknown): unknown => (typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[key] : input);
  return { error: (issue) => must(what).error({ input: value(issue.input) }) };
}

const probability = () => {
  const wording = must('a probability in 0..1');
  return z.number(wording).min(0, wording).max(1, wording);
};

const count = () => integerIn(1, SCENARIO_LIMITS.count);

export const ERROR_NAMES = Object.keys(FFA_ERROR_CODES) as FfaErrorName[];
const errorName = () => z.enum(ERROR_NAMES as [FfaErrorName, ...FfaErrorName[]], must(`an FF-A error name: ${ERROR_NAMES.join(', ')}`));

function oneOf<const T extends string>(values: readonly T[]) {
  return z.enum(values as readonly [T, ...T[]], must(`one of ${values.join(', ')}`));
}

function listOf<T extends z.ZodType>(item: T, max: number = SCENARIO_LIMITS.listItems) {
  const wording = must(`a list of at most ${max}`);
  return z.array(item, wording).max(max, wording);
}

/** Policy overrides stay records: each component checks its own policies at start. */
const policies = () => z.record(z.string(), z.unknown(), must('a mapping of policy name to value'));

// ---------------------------------------------------------------- world

const partitionSchema = strict(
  {
    id: integerIn(
      SCENARIO_LIMITS.spIdMin,
      SCENARIO_LIMITS.spIdMax,
      `a secure partition ID in ${hex(SCENARIO_LIMITS.spIdMin)}..${hex(SCENARIO_LIMITS.spIdMax)} (bit 15 set; 0x8000 is the SPMC's, 0xffc0..0xffff the SPMD's)`,
    ),
    name: name('a partition name').optional(),
    uuid: z.string(must('a UUID')).regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, must('a UUID such as 486178e0-e7f8-11e3-bc5e-0002a5d5c51b')).optional(),
    vcpus: integerIn(1, SCENARIO_LIMITS.vcpus).optional(),
    ffaVersion: version().optional(),
    notifications: z.boolean(must('true or false')).optional(),
    messaging: listOf(oneOf(['direct', 'indirect'] as const), 2).optional(),
    behaviour: oneOf(['raw', 'optee', 'echo', 'notifier'] as const).optional(),
  },
  'a partition',
);

const spmcSchema = strict(
  {
    profile: oneOf(['optee', 'hafnium'] as const).optional(),
    ffaVersion: version().optional(),
    policies: policies().optional(),
    partitions: listOf(partitionSchema, SCENARIO_LIMITS.partitions).optional(),
  },
  'world.spmc',
);

const hypervisorSchema = strict({ profile: oneOf(['xen', 'raw', 'none'] as const).optional(), policies: policies().optional() }, 'world.hypervisor');

export const DRIVER_NAMES = ['linux-6.10', 'linux-v1-patch', 'linux-6.9', 'raw'] as const;

const vmSchema = strict(
  {
    name: name('a VM name').optional(),
    id: integerIn(0, SCENARIO_LIMITS.vmIdMax, `a VM ID in 1..${hex(SCENARIO_LIMITS.vmIdMax)} (bit 15 clear; 0 only for the bare-metal host)`).optional(),
    vcpus: integerIn(1, SCENARIO_LIMITS.vcpus).optional(),
    driver: oneOf(DRIVER_NAMES).optional(),
    count: integerIn(1, SCENARIO_LIMITS.vms).optional(),
    opteeClient: z.boolean(must('true or false')).optional(),
    boot: z.boolean(must('true or false')).optional(),
    pcpus: listOf(integerIn(0, SCENARIO_LIMITS.cpus - 1), SCENARIO_LIMITS.vcpus).optional(),
    policies: policies().optional(),
  },
  'a VM',
);

const worldSchema = strict(
  {
    cpus: integerIn(1, SCENARIO_LIMITS.cpus).optional(),
    spmc: spmcSchema.optional(),
    hypervisor: hypervisorSchema.optional(),
    vms: listOf(vmSchema, SCENARIO_LIMITS.vms).optional(),
  },
  'world',
);

// ---------------------------------------------------------------- expectations

/** wN (low 32 bits) or xN, N in 0..17. */
export const REGISTER_NAME_PATTERN = /^[wx](?:[0-9]|1[0-7])$/;

const EXPECTATION_WORDING = must('success, any, { error: NAME }, { success: { field: value } }, { version: "1.2" } or { regs: { w2: value } }');

export const EXPECTATION_BRANCHES = {
  word: z.enum(['success', 'any'], EXPECTATION_WORDING),
  error: strict({ error: errorName() }, '{ error: NAME }'),
  success: strict({ success: z.record(z.string(), z.unknown(), must('a mapping of result field to value')) }, '{ success: { field: value } }'),
  version: strict({ version: version() }, '{ version: "1.2" }'),
  regs: strict(
    {
      regs: z.record(z.string().regex(REGISTER_NAME_PATTERN), u64(), {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? `unknown register ${show(issue.input)}: the registers are w0..w17 (low 32 bits) and x0..x17`
            : must('a mapping of register (w0..w17, x0..x17) to value').error(issue),
      }),
    },
    '{ regs: { w2: value } }',
  ),
} as const;

const expectationSchema = z.union(Object.values(EXPECTATION_BRANCHES), EXPECTATION_WORDING);

/**
 * The fields `{ success: { … } }` may compare, per ABI (scenario-format.md "expect forms"), named as
 * the ABI's codec decodes them (shared/ffa). Besides the format's list: FEATURES `moreProperties`,
 * DIRECT_REQ `sender`/`receiver`/`flags` and PARTITION_INFO_GET_REGS' header, which the codecs decode too.
 */
export type SuccessFieldKind = 'u64' | 'u32' | 'u16' | 'bitmap32' | 'id' | 'boolean' | 'payload' | 'info-lists' | 'partitions';

const GET_FIELDS = { spBitmap: 'u64', vmBitmap: 'u64', spmBitmap: 'bitmap32', hypBitmap: 'bitmap32' } as const;
const INFO_GET_FIELDS = { morePending: 'boolean', lists: 'info-lists' } as const;
const DIRECT_REQ_FIELDS = { payload: 'payload', sender: 'id', receiver: 'id', flags: 'u32' } as const;

export const SUCCESS_FIELDS: Readonly<Record<string, Readonly<Record<string, SuccessFieldKind>>>> = {
  FFA_FEATURES: { intid: 'u32', properties: 'u32', moreProperties: 'u32' },
  FFA_ID_GET: { id: 'id' },
  FFA_SPM_ID_GET: { id: 'id' },
  FFA_NOTIFICATION_GET: GET_FIELDS,
  FFA_NOTIFICATION_INFO_GET_32: INFO_GET_FIELDS,
  FFA_NOTIFICATION_INFO_GET_64: INFO_GET_FIELDS,
  FFA_MSG_SEND_DIRECT_REQ_32: DIRECT_REQ_FIELDS,
  FFA_MSG_SEND_DIRECT_REQ_64: DIRECT_REQ_FIELDS,
  FFA_PARTITION_INFO_GET: { partitions: 'partitions', count: 'u32' },
  FFA_PARTITION_INFO_GET_REGS: { lastIndex: 'u16', currentIndex: 'u16', tag: 'u16', partitions: 'partitions' },
};

/** The shape of each expected field's value; IDs are resolved by the loader afterwards. */
export const SUCCESS_FIELD_SCHEMAS = {
  u64: u64(),
  u32: integerIn(0, 0xffff_ffff),
  u16: integerIn(0, 0xffff),
  bitmap32: u64('a 32-bit bitmap (w6 and w7 of a GET are 32 bits)').refine((value) => BigInt(value) <= 0xffff_ffffn, must('a 32-bit bitmap (w6 and w7 of a GET are 32 bits)')),
  id: endpointRef(),
  boolean: z.boolean(must('true or false')),
  /** x3..x7 (w3..w7 for the 32-bit call). */
  payload: listOf(u64(), 5),
  /** INFO_GET's lists, at most 20 (the 64-bit call), each at most 3 vCPUs (reference §2.6). */
  'info-lists': listOf(strict({ id: endpointRef(), vcpus: listOf(integerIn(0, 0xffff), 3).optional() }, 'an INFO_GET list'), 20),
  partitions: listOf(strict({ id: endpointRef(), vcpus: integerIn(0, 0xffff), properties: integerIn(0, 0xffff_ffff) }, 'a partition descriptor'), SCENARIO_LIMITS.partitions),
} as const satisfies Record<SuccessFieldKind, z.ZodType>;

/** Which expectation form a value means to be, for an error about that form rather than "matches none". */
export function expectationBranchOf(value: unknown): z.ZodType | null {
  if (typeof value === 'string') return EXPECTATION_BRANCHES.word;
  if (typeof value !== 'object' || value === null) return null;
  const key = (['error', 'success', 'version', 'regs'] as const).find((candidate) => candidate in value);
  return key === undefined ? null : EXPECTATION_BRANCHES[key];
}

// ---------------------------------------------------------------- faults

const interruptFault = { intid: integerIn(0, SCENARIO_LIMITS.intidMax), to: endpointRef().optional(), count: count().optional(), probability: probability().optional() };
/** A link or a call path: two components (or endpoints, which name their component). */
const between = () => z.tuple([endpointRef(), endpointRef()], must('two components, such as [hypervisor, spmd]'));
const callFilter = () => z.union([z.string(), integerIn(0, 0xffff_ffff)], must('an ABI name, a function ID, or any'));

/** Each fault's own keys; a step adds nothing, a timed fault adds `at`. */
const FAULT_SHAPES = {
  'drop-interrupt': interruptFault,
  'delay-interrupt': { ...interruptFault, by: duration() },
  'duplicate-interrupt': interruptFault,
  'spurious-interrupt': { intid: integerIn(0, SCENARIO_LIMITS.intidMax), to: endpointRef(), vcpu: integerIn(0, SCENARIO_LIMITS.vcpus - 1).optional() },
  'fail-call': { call: callFilter().optional(), between: between(), error: errorName(), count: count().optional(), probability: probability().optional() },
  'delay-call': { call: callFilter().optional(), between: between(), by: duration(), count: count().optional(), probability: probability().optional() },
  'cut-link': { between: between(), for: duration() },
  crash: { component: endpointRef(), 'restart-after': duration().optional() },
  /** Extension: a component runs nothing for a while; deliveries and timers wait. */
  stall: { component: endpointRef(), for: duration() },
  /** Extension: an INTID disabled at the GIC for a while, so its interrupts stay pending (held), then enabled. */
  'hold-interrupt': { intid: integerIn(0, SCENARIO_LIMITS.intidMax), for: duration() },
  swarm: { intensity: probability() },
} as const;

export type FaultKind = keyof typeof FAULT_SHAPES;
export const FAULT_KINDS = Object.keys(FAULT_SHAPES) as FaultKind[];

function faultUnion<E extends z.core.$ZodLooseShape>(extra: E, what: string) {
  const branch = <K extends FaultKind>(kind: K) => strict({ fault: z.literal(kind), ...FAULT_SHAPES[kind], ...extra }, `${what} ${kind}`);
  return z.discriminatedUnion(
    'fault',
    [
      branch('drop-interrupt'),
      branch('delay-interrupt'),
      branch('duplicate-interrupt'),
      branch('spurious-interrupt'),
      branch('fail-call'),
      branch('delay-call'),
      branch('cut-link'),
      branch('crash'),
      branch('stall'),
      branch('hold-interrupt'),
      branch('swarm'),
    ],
    discriminatorError('fault', `one of ${FAULT_KINDS.join(', ')}`),
  );
}

const faultStep = faultUnion({}, 'a fault step');

/**
 * A timed fault, `{ at: 10ms, fault: … }`, read either way the format's line allows: the fault's
 * keys beside `at` (`fault: drop-interrupt, intid: 8`), or a fault step's mapping under `fault`.
 */
export const TIMED_FAULT_BRANCHES = {
  flat: faultUnion({ at: duration() }, 'a timed fault'),
  nested: strict({ at: duration(), fault: faultStep }, 'a timed fault'),
} as const;

const timedFaultSchema = z.union(
  [TIMED_FAULT_BRANCHES.flat, TIMED_FAULT_BRANCHES.nested],
  must('a timed fault: { at: 10ms, fault: drop-interrupt, … } or { at: 10ms, fault: { fault: drop-interrupt, … } }'),
);

export function timedFaultBranchOf(value: unknown): z.ZodType | null {
  if (typeof value !== 'object' || value === null) return null;
  const fault = (value as Record<string, unknown>).fault;
  return typeof fault === 'object' && fault !== null ? TIMED_FAULT_BRANCHES.nested : TIMED_FAULT_BRANCHES.flat;
}

// ---------------------------------------------------------------- steps

/** What a named argument may be; the loader checks it against the ABI's codec (shared/ffa). */
const argValue = z.union(
  [z.string(), z.number(), z.bigint(), z.boolean(), listOf(z.union([z.string(), z.number(), z.bigint()]))],
  must('a number, a name, true or false, or a list of those'),
);

const callStep = strict(
  {
    from: endpointRef(),
    vcpu: integerIn(0, SCENARIO_LIMITS.vcpus - 1).optional(),
    call: z.union([z.string(), integerIn(0, 0xffff_ffff)], must('an ABI name such as FFA_NOTIFICATION_SET, or a function ID')),
    args: z.record(z.string(), argValue, must('a mapping of argument name to value')).optional(),
    regs: listOf(u64(), SCENARIO_LIMITS.rawRegisters).optional(),
    expect: expectationSchema.optional(),
  },
  'a call step',
);

const awaitStep = z.discriminatedUnion(
  'await',
  [
    strict({ await: z.literal('interrupt'), to: endpointRef(), vcpu: integerIn(0, SCENARIO_LIMITS.vcpus - 1).optional(), intid: integerIn(0, SCENARIO_LIMITS.intidMax), within: duration() }, 'await: interrupt'),
    strict({ await: z.literal('callback'), in: endpointRef(), notification: integerIn(0, SCENARIO_LIMITS.notificationIdMax), within: duration() }, 'await: callback'),
    strict({ await: z.literal('idle') }, 'await: idle'),
    /** Extension: a guest's kernel finished its probe (after boot, reboot, re-creation or a crash's restart). */
    strict({ await: z.literal('probe'), in: endpointRef(), within: duration() }, 'await: probe'),
  ],
  discriminatorError('await', 'interrupt, callback, idle or probe'),
);

const expectNoneStep = strict(
  {
    'expect-none': z.literal('interrupt', must('interrupt')),
    to: endpointRef(),
    vcpu: integerIn(0, SCENARIO_LIMITS.vcpus - 1).optional(),
    intid: integerIn(0, SCENARIO_LIMITS.intidMax).optional(),
    for: duration(),
  },
  'an expect-none step',
);

const vmStep = strict({ vm: oneOf(['create', 'destroy', 'reboot'] as const), name: endpointRef() }, 'a vm step');
const vcpuStep = strict({ vcpu: oneOf(['online', 'offline'] as const), vm: endpointRef(), id: integerIn(0, SCENARIO_LIMITS.vcpus - 1) }, 'a vcpu step');
const sleepStep = strict({ sleep: duration() }, 'a sleep step');

const workloadStep = strict(
  {
    workload: z.literal('notifications', must('notifications')),
    senders: listOf(endpointRef(), SCENARIO_LIMITS.partitions).optional(),
    receivers: z.union([z.literal('all'), listOf(endpointRef(), SCENARIO_LIMITS.vms)], must('all, or a list of VMs')).optional(),
    rate: rate(),
    count: count().optional(),
    duration: duration().optional(),
  },
  'a workload step',
);

/**
 * The step kinds, each found by the key only it has (checked in this order: a call step also has
 * `vcpu`, a vcpu step also has `vm`).
 */
export const STEP_BRANCHES = [
  { keys: ['from', 'call'], schema: callStep },
  { keys: ['await'], schema: awaitStep },
  { keys: ['expect-none'], schema: expectNoneStep },
  { keys: ['fault'], schema: faultStep },
  { keys: ['workload'], schema: workloadStep },
  { keys: ['sleep'], schema: sleepStep },
  { keys: ['vcpu'], schema: vcpuStep },
  { keys: ['vm'], schema: vmStep },
] as const;

export const STEP_KEYS_WORDING = 'a step: a call (from, call), await, expect-none, vm, vcpu, sleep, workload or fault';

const stepSchema = z.union(
  STEP_BRANCHES.map((branch) => branch.schema),
  must(STEP_KEYS_WORDING),
);

/** Which step kind a value means to be, or null when it has none of their keys. */
export function stepBranchOf(value: unknown): z.ZodType | null {
  if (typeof value !== 'object' || value === null) return null;
  return STEP_BRANCHES.find((branch) => branch.keys.some((key) => key in value))?.schema ?? null;
}

// ---------------------------------------------------------------- checks

export const PERCENTILE_KEYS = ['p50', 'p90', 'p99', 'p99.9', 'max'] as const;

const checkName = () => oneOf(CHECK_NAMES);

export const CHECK_BRANCHES = {
  name: checkName(),
  latency: strict(
    {
      latency: z.record(
        z.string(),
        strict(Object.fromEntries(PERCENTILE_KEYS.map((key) => [key, duration().optional()])), 'a latency measure'),
        must('a mapping of measure (end-to-end or a hop) to percentile thresholds'),
      ),
    },
    '{ latency: { measure: { p99: 5ms } } }',
  ),
  expectFail: strict({ 'expect-fail': checkName() }, '{ expect-fail: check }'),
} as const;

const checkSchema = z.union(Object.values(CHECK_BRANCHES), must(`a check: ${CHECK_NAMES.join(', ')}, { latency: … } or { expect-fail: name }`));

export function checkBranchOf(value: unknown): z.ZodType | null {
  if (typeof value === 'string') return CHECK_BRANCHES.name;
  if (typeof value !== 'object' || value === null) return null;
  if ('latency' in value) return CHECK_BRANCHES.latency;
  return 'expect-fail' in value ? CHECK_BRANCHES.expectFail : null;
}

// ---------------------------------------------------------------- the scenario

export const scenarioSchema = strict(
  {
    name: z.string(must('the scenario name')).min(1, must('a non-empty name')).max(SCENARIO_LIMITS.titleLength, must(`at most ${SCENARIO_LIMITS.titleLength} characters`)),
    description: z.string(must('text')).max(SCENARIO_LIMITS.descriptionLength, must(`at most ${SCENARIO_LIMITS.descriptionLength} characters`)).optional(),
    seed: integerIn(0, SCENARIO_LIMITS.seedMax, `a seed in 0..${SCENARIO_LIMITS.seedMax}`).optional(),
    runtime: oneOf(['sim', 'ws'] as const).optional(),
    world: worldSchema.optional(),
    steps: listOf(stepSchema, SCENARIO_LIMITS.steps).optional(),
    faults: listOf(timedFaultSchema, SCENARIO_LIMITS.timedFaults).optional(),
    checks: listOf(checkSchema, SCENARIO_LIMITS.checks).optional(),
  },
  'a scenario',
).meta({
  title: 'ffa-world scenario',
  description: 'A scenario for ffa-world (shared/design/scenario-format.md). Integers may be decimal or 0x hex; durations carry a unit (10ms).',
});

/** The validated file, before normalization. */
export type ScenarioInput = z.output<typeof scenarioSchema>;
export type WorldInput = NonNullable<ScenarioInput['world']>;
export type StepInput = NonNullable<ScenarioInput['steps']>[number];
export type TimedFaultInput = NonNullable<ScenarioInput['faults']>[number];
export type FaultInput = z.output<typeof faultStep>;
export type ExpectationInput = z.output<typeof expectationSchema>;
export type CheckInput = z.output<typeof checkSchema>;
export type ArgValue = z.output<typeof argValue>;

/**
 * The JSON Schema for editors (yaml-language-server). Draft 7, which every editor plugin reads.
 * A 64-bit value is a bigint here, which JSON Schema has no type for: it is written as an integer.
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(scenarioSchema, {
    target: 'draft-07',
    io: 'input',
    unrepresentable: (ctx) => (ctx.zodSchema._zod.def.type === 'bigint' ? { type: 'integer', minimum: 0 } : 'throw'),
    override: (ctx) => {
      if (!U64_SCHEMAS.has(ctx.zodSchema)) return;
      // An editor reads 0x8004000040000003 as an integer; one type reads better than number-or-bigint.
      delete ctx.jsonSchema.anyOf;
      Object.assign(ctx.jsonSchema, { type: 'integer', minimum: 0 });
    },
  });
}

/** The published file's text (scenarios/scenario.schema.json): what scripts/scenario-schema.ts writes. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
