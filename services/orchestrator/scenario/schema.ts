/**
 * The scenario file's shape (docs/scenarios.md: a public interface) as one
 * zod schema: the reader validates with it, and the JSON Schema that editors use is generated from
 * it (json-schema.ts), so the two cannot disagree. Its values and bounds are value-shapes.ts's.
 *
 * The schema checks shape only: which keys exist, what type and range each value has. What needs
 * the whole world to judge (does `vm3` exist, does FFA_NOTIFICATION_SET take `bitmaps`) and the
 * conversion into the loaded form (types.ts) are the reader's (reader/).
 */
import { z } from 'zod';
import { discriminatorError, flag, integerIn, listOf, must, oneOf, show, strictObject, uuid } from '../../../shared/config/zod-kit.ts';
import { guestPoliciesSchema } from '../../guest/config.ts';
import { VARIANT_NAMES } from '../../guest/variants.ts';
import { hypervisorPolicyOverrides } from '../../hypervisor/config.ts';
import { PROFILE_NAMES as HYPERVISOR_PROFILE_NAMES } from '../../hypervisor/profiles.ts';
import { SP_BEHAVIOUR_NAMES, spmcPolicyOverrides } from '../../spmc/config.ts';
import { PROFILE_NAMES as SPMC_PROFILE_NAMES } from '../../spmc/profiles.ts';
import { hex } from '../../../shared/ffa/index.ts';
import { CHECK_NAMES } from './types.ts';
import { SERVICE_TIME_NAMES } from './service-times.ts';
import { CONFIG_LIMITS as SPMC_LIMITS } from '../../spmc/config.ts';
import { count, duration, endpointRef, errorName, name, policies, probability, rate, SCENARIO_LIMITS, u64, version } from './value-shapes.ts';


// ---------------------------------------------------------------- world

const partitionSchema = strictObject(
  {
    id: integerIn(
      SCENARIO_LIMITS.spIdMin,
      SCENARIO_LIMITS.spIdMax,
      `a secure partition ID in ${hex(SCENARIO_LIMITS.spIdMin)}..${hex(SCENARIO_LIMITS.spIdMax)} (bit 15 set; 0x8000 is the SPMC's, 0xffc0..0xffff the SPMD's)`,
    ),
    name: name('a partition name').optional(),
    uuid: uuid().optional(),
    vcpus: integerIn(1, SCENARIO_LIMITS.vcpus).optional(),
    ffaVersion: version().optional(),
    notifications: flag().optional(),
    messaging: listOf(oneOf(['direct', 'indirect'] as const), 2).optional(),
    behaviour: oneOf(SP_BEHAVIOUR_NAMES).optional(),
  },
  'a partition',
);

const spmcSchema = strictObject(
  {
    profile: oneOf(SPMC_PROFILE_NAMES).optional(),
    ffaVersion: version().optional(),
    policies: policies(spmcPolicyOverrides()).optional(),
    /** Normal-world VM notification slots (BITMAP_CREATE); default the profile's build value. */
    vmSlots: integerIn(1, SPMC_LIMITS.vmSlotsMax).optional(),
    partitions: listOf(partitionSchema, SCENARIO_LIMITS.partitions).optional(),
  },
  'world.spmc',
);

const hypervisorSchema = strictObject({ profile: oneOf(HYPERVISOR_PROFILE_NAMES).optional(), policies: policies(hypervisorPolicyOverrides()).optional() }, 'world.hypervisor');

const vmSchema = strictObject(
  {
    name: name('a VM name').optional(),
    id: integerIn(0, SCENARIO_LIMITS.vmIdMax, `a VM ID in 1..${hex(SCENARIO_LIMITS.vmIdMax)} (bit 15 clear; 0 only for the bare-metal host)`).optional(),
    vcpus: integerIn(1, SCENARIO_LIMITS.vcpus).optional(),
    driver: oneOf(VARIANT_NAMES).optional(),
    count: integerIn(1, SCENARIO_LIMITS.vms).optional(),
    opteeClient: flag().optional(),
    boot: flag().optional(),
    pcpus: listOf(integerIn(0, SCENARIO_LIMITS.cpus - 1), SCENARIO_LIMITS.vcpus).optional(),
    policies: policies(guestPoliciesSchema).optional(),
  },
  'a VM',
);

const worldSchema = strictObject(
  {
    cpus: integerIn(1, SCENARIO_LIMITS.cpus).optional(),
    spmc: spmcSchema.optional(),
    hypervisor: hypervisorSchema.optional(),
    vms: listOf(vmSchema, SCENARIO_LIMITS.vms).optional(),
    serviceTimes: oneOf(SERVICE_TIME_NAMES).optional(),
  },
  'world',
);

// ---------------------------------------------------------------- expectations

/** wN (low 32 bits) or xN, N in 0..17. */
export const REGISTER_NAME_PATTERN = /^[wx](?:[0-9]|1[0-7])$/;

const EXPECTATION_WORDING = must('success, any, { error: NAME }, { success: { field: value } }, { version: "1.2" } or { regs: { w2: value } }');

export const EXPECTATION_BRANCHES = {
  word: z.enum(['success', 'any'], EXPECTATION_WORDING),
  error: strictObject({ error: errorName() }, '{ error: NAME }'),
  success: strictObject({ success: z.record(z.string(), z.unknown(), must('a mapping of result field to value')) }, '{ success: { field: value } }'),
  version: strictObject({ version: version() }, '{ version: "1.2" }'),
  regs: strictObject(
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
 * The fields `{ success: { … } }` may compare, per ABI (docs/scenarios.md "expect forms"), named as
 * the ABI's codec decodes them (shared/ffa). Besides the format's list: FEATURES `moreProperties`,
 * DIRECT_REQ `sender`/`receiver`/`flags` and PARTITION_INFO_GET_REGS' header, which the codecs decode too.
 */
export type SuccessFieldKind = 'u64' | 'u32' | 'u16' | 'bitmap32' | 'id' | 'boolean' | 'payload' | 'info-lists' | 'partitions' | 'message';

/** `message`: the indirect message in the caller's RX buffer once the GET reported it full (services/orchestrator/rx-buffer.ts). */
const GET_FIELDS = { spBitmap: 'u64', vmBitmap: 'u64', spmBitmap: 'bitmap32', hypBitmap: 'bitmap32', message: 'message' } as const;
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
  boolean: flag(),
  /** x3..x7 (w3..w7 for the 32-bit call). */
  payload: listOf(u64(), 5),
  /** INFO_GET's lists, at most 20 (the 64-bit call), each at most 3 vCPUs (docs/ffa-reference.md §2.6). */
  'info-lists': listOf(strictObject({ id: endpointRef(), vcpus: listOf(integerIn(0, 0xffff), 3).optional() }, 'an INFO_GET list'), 20),
  partitions: listOf(
    strictObject({ id: endpointRef(), vcpus: integerIn(0, 0xffff).optional(), properties: integerIn(0, 0xffff_ffff).optional(), uuid: uuid().optional() }, 'a partition descriptor'),
    SCENARIO_LIMITS.partitions,
  ),
  message: strictObject(
    { sender: endpointRef().optional(), receiver: endpointRef().optional(), size: integerIn(0, 0xffff_ffff).optional(), offset: integerIn(0, 0xffff_ffff).optional(), uuid: uuid().optional() },
    'an indirect message header { sender?, receiver?, size?, offset?, uuid? }',
  ),
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
  const branch = <K extends FaultKind>(kind: K) => strictObject({ fault: z.literal(kind), ...FAULT_SHAPES[kind], ...extra }, `${what} ${kind}`);
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
  nested: strictObject({ at: duration(), fault: faultStep }, 'a timed fault'),
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

/** The name a scenario gives a call it does not wait for (`async: NAME`). */
const pendingCallName = () => name('a name for the pending call');

/** What a named argument may be; the loader checks it against the ABI's codec (shared/ffa). */
const argValue = z.union(
  [z.string(), z.number(), z.bigint(), z.boolean(), listOf(z.union([z.string(), z.number(), z.bigint()]), SCENARIO_LIMITS.listItems)],
  must('a number, a name, true or false, or a list of those'),
);

/**
 * Extension `tx:` of a call step: what the caller's TX buffer holds when it calls
 * (shared/ffa/buffer-content.ts): an indirect message's header for FFA_MSG_SEND2, or the endpoint
 * RX/TX descriptor a hypervisor forwards a VM's FFA_RXTX_MAP with.
 */
const txSchema = z.union(
  [
    strictObject(
      {
        message: strictObject(
          { sender: endpointRef(), receiver: endpointRef(), size: integerIn(0, 0xffff_ffff), offset: integerIn(0, 0xffff_ffff).optional(), uuid: uuid().optional() },
          'an indirect message header { sender, receiver, size, offset?, uuid? }',
        ),
      },
      'tx: { message: … }',
    ),
    strictObject(
      { rxtxDescriptor: strictObject({ endpoint: endpointRef(), tx: u64(), rx: u64(), pageCount: integerIn(0, 0xffff_ffff) }, 'an RX/TX descriptor { endpoint, tx, rx, pageCount }') },
      'tx: { rxtxDescriptor: … }',
    ),
  ],
  must('{ message: { sender, receiver, size } } or { rxtxDescriptor: { endpoint, tx, rx, pageCount } }'),
);

const callStep = strictObject(
  {
    from: endpointRef(),
    vcpu: integerIn(0, SCENARIO_LIMITS.vcpus - 1).optional(),
    call: z.union([z.string(), integerIn(0, 0xffff_ffff)], must('an ABI name such as FFA_NOTIFICATION_SET, or a function ID')),
    args: z.record(z.string(), argValue, must('a mapping of argument name to value')).optional(),
    regs: listOf(u64(), SCENARIO_LIMITS.rawRegisters).optional(),
    expect: expectationSchema.optional(),
    tx: txSchema.optional(),
    /** Extension: make the call without waiting for its answer; a later step awaits or answers it by this name. */
    async: pendingCallName().optional(),
    /** Extension: an SP's FFA_MSG_SEND_DIRECT_RESP to the pending direct request of this name. */
    answers: pendingCallName().optional(),
  },
  'a call step',
);

const awaitStep = z.discriminatedUnion(
  'await',
  [
    strictObject({ await: z.literal('interrupt'), to: endpointRef(), vcpu: integerIn(0, SCENARIO_LIMITS.vcpus - 1).optional(), intid: integerIn(0, SCENARIO_LIMITS.intidMax), within: duration() }, 'await: interrupt'),
    strictObject({ await: z.literal('callback'), in: endpointRef(), notification: integerIn(0, SCENARIO_LIMITS.notificationIdMax), within: duration() }, 'await: callback'),
    strictObject({ await: z.literal('idle') }, 'await: idle'),
    /** Extension: a guest's kernel finished its probe (after boot, reboot, re-creation or a crash's restart). */
    strictObject({ await: z.literal('probe'), in: endpointRef(), within: duration() }, 'await: probe'),
    /** Extension: a guest's driver read an indirect message from its RX buffer (RX-buffer-full framework notification). */
    strictObject({ await: z.literal('message'), in: endpointRef(), from: endpointRef().optional(), within: duration() }, 'await: message'),
    /** Extension: the answer to a call made with `async: NAME`. */
    strictObject({ await: z.literal('call'), call: pendingCallName(), within: duration().optional(), expect: expectationSchema.optional() }, 'await: call'),
  ],
  discriminatorError('await', 'interrupt, callback, idle, probe, message or call'),
);

const expectNoneStep = strictObject(
  {
    'expect-none': z.literal('interrupt', must('interrupt')),
    to: endpointRef(),
    vcpu: integerIn(0, SCENARIO_LIMITS.vcpus - 1).optional(),
    intid: integerIn(0, SCENARIO_LIMITS.intidMax).optional(),
    for: duration(),
  },
  'an expect-none step',
);

const vmStep = strictObject({ vm: oneOf(['create', 'destroy', 'reboot'] as const), name: endpointRef() }, 'a vm step');
const vcpuStep = strictObject({ vcpu: oneOf(['online', 'offline'] as const), vm: endpointRef(), id: integerIn(0, SCENARIO_LIMITS.vcpus - 1) }, 'a vcpu step');
const sleepStep = strictObject({ sleep: duration() }, 'a sleep step');

const workloadStep = strictObject(
  {
    workload: z.literal('notifications', must('notifications')),
    senders: listOf(endpointRef(), SCENARIO_LIMITS.partitions).optional(),
    receivers: z.union([z.literal('all'), listOf(endpointRef(), SCENARIO_LIMITS.vms)], must('all, or a list of VMs')).optional(),
    rate: rate(),
    count: count().optional(),
    duration: duration().optional(),
    drain: duration().optional(),
  },
  'a workload step',
);

/**
 * The step kinds, each found by the key only it has (checked in this order: an await step may
 * also have `call`, a call step also has `vcpu`, a vcpu step also has `vm`).
 */
export const STEP_BRANCHES = [
  { keys: ['await'], schema: awaitStep },
  { keys: ['from', 'call'], schema: callStep },
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
  latency: strictObject(
    {
      latency: z.record(
        z.string(),
        strictObject(Object.fromEntries(PERCENTILE_KEYS.map((key) => [key, duration().optional()])), 'a latency measure'),
        must('a mapping of measure (end-to-end or a hop) to percentile thresholds'),
      ),
    },
    '{ latency: { measure: { p99: 5ms } } }',
  ),
  expectFail: strictObject({ 'expect-fail': checkName() }, '{ expect-fail: check }'),
} as const;

const checkSchema = z.union(Object.values(CHECK_BRANCHES), must(`a check: ${CHECK_NAMES.join(', ')}, { latency: … } or { expect-fail: name }`));

export function checkBranchOf(value: unknown): z.ZodType | null {
  if (typeof value === 'string') return CHECK_BRANCHES.name;
  if (typeof value !== 'object' || value === null) return null;
  if ('latency' in value) return CHECK_BRANCHES.latency;
  return 'expect-fail' in value ? CHECK_BRANCHES.expectFail : null;
}

// ---------------------------------------------------------------- the scenario

export const scenarioSchema = strictObject(
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
  description: 'A scenario for ffa-world (docs/scenarios.md). Integers may be decimal or 0x hex; durations carry a unit (10ms).',
});

/**
 * The parts the reader judges one by one when the whole file is not valid, so that a problem in
 * one step does not hide those of the next.
 */
export const SCENARIO_PARTS = { world: worldSchema, step: stepSchema, timedFault: timedFaultSchema, check: checkSchema } as const;

/** The validated file, before normalization. */
export type ScenarioInput = z.output<typeof scenarioSchema>;
export type WorldInput = NonNullable<ScenarioInput['world']>;
export type StepInput = NonNullable<ScenarioInput['steps']>[number];
export type TimedFaultInput = NonNullable<ScenarioInput['faults']>[number];
export type FaultInput = z.output<typeof faultStep>;
export type ExpectationInput = z.output<typeof expectationSchema>;
export type TxInput = z.output<typeof txSchema>;
export type CheckInput = z.output<typeof checkSchema>;
export type ArgValue = z.output<typeof argValue>;
