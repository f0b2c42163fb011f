/**
 * The guest's configuration: plain data as a world file gives it (`GuestConfig`), and the checked
 * form the guest runs on (`ValidGuestConfig`). A bad config is a bug in the world:
 * `validateGuestConfig` throws a GuestConfigError naming the field, at create.
 *
 * There is no partition list here: the driver reads the descriptors FFA_PARTITION_INFO_GET wrote
 * into its RX buffer (driver-probe.ts), or those PARTITION_INFO_GET_REGS returns in x3..x17.
 */
import { z } from 'zod';
import { componentName, endpointId } from '../../shared/config/blocks.ts';
import { flag, integerIn, listOf, must, oneOf, show, strictObject } from '../../shared/config/zod-kit.ts';
import { parseConfig } from '../../shared/config/parse-config.ts';
import { hex, isSecureId } from '../../shared/ffa/index.ts';
import type { Conduit } from '../../shared/protocol/messages.ts';
import { VARIANT_NAMES, type VariantName } from './variants.ts';

/** When the kernel starts running its drivers. */
export type BootTrigger =
  /** Bare metal: the kernel runs from the start of the world. */
  | 'at-start'
  /** A guest: the hypervisor unpaused the domain and told us a vCPU is online. */
  | 'on-vcpu-online';

export interface GuestPolicies {
  /**
   * driver.c ffa_notification_info_get: `if (ids_processed >= max_ids - 1) break;` so the 20th
   * (10th) ID of a full response is never processed (docs/ffa-reference.md §4.3, §8.15). false: all of them.
   */
  maxIdsQuirk: boolean;
  /** Iterations of the INFO_GET "more pending" loop before giving up (Linux has no bound). */
  infoGetLoopBound: number;
  /** Each work item starts after a seeded delay in [0, workJitterNs] (vCPUs interleave per seed). */
  workJitterNs: number;
  /** FFA_INTERRUPT/FFA_YIELD → FFA_RUN resumptions of one direct request (Linux: unbounded). */
  runLoopBound: number;
  /** Work items queued per vCPU before a new one is refused (and recorded). */
  maxQueuedWorkPerVcpu: number;
  /**
   * Partition discovery (driver.c ffa_partition_probe): 'when-offered' uses
   * FFA_PARTITION_INFO_GET_REGS when FFA_FEATURES says it is supported (the driver read, v6.12+);
   * 'never' always uses FFA_PARTITION_INFO_GET and the RX buffer, as drivers before it did.
   */
  partitionInfoRegs: 'when-offered' | 'never';
}

export const POLICY_DEFAULTS: GuestPolicies = {
  maxIdsQuirk: true,
  infoGetLoopBound: 32,
  workJitterNs: 2_000,
  runLoopBound: 16,
  maxQueuedWorkPerVcpu: 64,
  partitionInfoRegs: 'when-offered',
};

export interface ValidGuestConfig {
  readonly variant: VariantName;
  readonly name: string;
  readonly vmId: number | null;
  readonly vcpus: number;
  readonly firmware: string;
  readonly conduit: Conduit;
  readonly gic: string | null;
  readonly placement: readonly number[];
  readonly boot: BootTrigger;
  readonly opteeClient: boolean;
  readonly controllers: ReadonlySet<string>;
  readonly observers: readonly string[];
  readonly policies: GuestPolicies;
  /** Registers with config.firmware (the hypervisor) at start, which creates its VM and gives its ID. */
  readonly registration: boolean;
  /** Told to the hypervisor at registration: where an orchestrator dials this guest. */
  readonly advertiseUrl: string | null;
  /** Told to the hypervisor at registration: the machine this guest runs on (per-host figures), or null. */
  readonly hostLabel: string | null;
}

export const CONFIG_LIMITS = {
  vcpusMax: 64,
  cpuMax: 255,
  namesMax: 64,
  nameLengthMax: 64,
  infoGetLoopBoundMax: 4096,
  workJitterNsMax: 1_000_000_000,
  runLoopBoundMax: 1024,
  maxQueuedWorkMax: 4096,
  /** The hypervisor's bound on a registering guest's URL (services/hypervisor config.ts guestUrlLengthMax). */
  advertiseUrlLengthMax: 200,
  /** The hypervisor's bound on a registering guest's host label (services/hypervisor config.ts guestHostLengthMax). */
  hostLabelLengthMax: 63,
} as const;

export class GuestConfigError extends Error {
  readonly code = 'GUEST_CONFIG_INVALID';
  override readonly name = 'GuestConfigError';
}

const L = CONFIG_LIMITS;
const name = () => componentName(L.nameLengthMax);
const names = () => listOf(name(), L.namesMax, must(`a list of at most ${L.namesMax} names`));

const d = POLICY_DEFAULTS;
/** A guest's policies, each checked; the scenario reader judges a VM's `policies` with it too. */
export const guestPoliciesSchema = strictObject({
  maxIdsQuirk: flag().default(d.maxIdsQuirk),
  infoGetLoopBound: integerIn(1, L.infoGetLoopBoundMax).default(d.infoGetLoopBound),
  workJitterNs: integerIn(0, L.workJitterNsMax).default(d.workJitterNs),
  runLoopBound: integerIn(0, L.runLoopBoundMax).default(d.runLoopBound),
  maxQueuedWorkPerVcpu: integerIn(1, L.maxQueuedWorkMax).default(d.maxQueuedWorkPerVcpu),
  partitionInfoRegs: oneOf(['when-offered', 'never'], must("'when-offered' or 'never'")).default(d.partitionInfoRegs),
}) satisfies z.ZodType<GuestPolicies, Partial<GuestPolicies>>;

/** Read first: the placement list's length depends on it. */
const vcpusShape = { vcpus: integerIn(1, L.vcpusMax) };
const vcpusSchema = z.looseObject(vcpusShape, { error: (issue) => `must be an object, got ${show(issue.input)}` });

function guestConfigSchema(vcpus: number) {
  return strictObject({
    variant: oneOf(VARIANT_NAMES),
    /** The VM's name: the subject of the hypervisor's lifecycle messages (default: the component name). */
    name: name().optional(),
    /** The FF-A ID this guest expects (checked against FFA_ID_GET); default: learnt from ID_GET. */
    vmId: endpointId()
      .refine((id) => !isSecureId(id), { error: (issue) => `${hex(issue.input as number)} is a secure-world ID` })
      .nullable()
      .optional(),
    ...vcpusShape,
    /** The component the driver's SMC/HVC goes to: 'hypervisor' under Xen, 'spmd' on bare metal. */
    firmware: name(),
    conduit: oneOf(['hvc', 'smc'], must("'hvc' or 'smc'")),
    /** The GIC broker (default 'gic'); null: no interrupts reach this guest. */
    gic: name().nullable().default('gic'),
    /** The physical CPU of each vCPU until the hypervisor says otherwise (default: vCPU i on CPU i). */
    placement: z
      .array(integerIn(0, L.cpuMax), must(`a list naming a physical CPU for each of the ${vcpus} vCPUs`))
      .length(vcpus, `must name a physical CPU for each of the ${vcpus} vCPUs`)
      .default(() => Array.from({ length: vcpus }, (_, index) => index)),
    /**
     * Default: 'on-vcpu-online' on conduit hvc, 'at-start' otherwise. It also says where the kernel
     * runs: booted by a hypervisor, its interrupts are virtual (the VM's vCPUs at the GIC); at start,
     * it is the bare-metal host and its interrupts are physical (every CPU's non-secure group).
     */
    boot: oneOf(['at-start', 'on-vcpu-online'], must("'at-start' or 'on-vcpu-online'")).optional(),
    /** Probe drivers/tee/optee/ffa_abi.c on the OP-TEE partition after the FF-A driver. */
    opteeClient: flag().default(false),
    /** Components whose control messages drive the notifier API and raw calls. */
    controllers: names().default(() => []),
    /** Components told of milestones (`guest-event` control messages): probe done, callbacks, bottom halves. */
    observers: names().default(() => []),
    policies: guestPoliciesSchema.prefault({}),
    /**
     * Default false. true: at start the guest registers with its firmware (the hypervisor), which
     * creates its VM, names it after this component, gives its FF-A ID and assigns it its virtual
     * interrupts at the GIC (services/hypervisor registration.ts).
     */
    registration: flag().default(false),
    /** With registration: the URL an orchestrator dials this guest at (default null). */
    advertiseUrl: z
      .string(must(`a string of at most ${L.advertiseUrlLengthMax} characters, or null`))
      .max(L.advertiseUrlLengthMax, must(`a string of at most ${L.advertiseUrlLengthMax} characters, or null`))
      .nullable()
      .default(null),
    /** With registration: the machine this guest runs on, told to the hypervisor (default null). */
    hostLabel: z
      .string(must(`a string of at most ${L.hostLabelLengthMax} characters, or null`))
      .max(L.hostLabelLengthMax, must(`a string of at most ${L.hostLabelLengthMax} characters, or null`))
      .nullable()
      .default(null),
  }).superRefine((config, ctx) => checkRegistration(config, ctx));
}
export type GuestConfig = z.input<ReturnType<typeof guestConfigSchema>>;

/** The fields registration depends on, as parsed. */
interface RegistrationFields {
  readonly registration: boolean;
  readonly advertiseUrl: string | null;
  readonly hostLabel: string | null;
  readonly vmId?: number | null | undefined;
  readonly name?: string | undefined;
  readonly conduit: Conduit;
  readonly boot?: BootTrigger | undefined;
}

/** A registering guest is a VM the hypervisor makes: its ID and name are the hypervisor's to give, it boots at vcpu-online. */
function checkRegistration(config: RegistrationFields, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (!config.registration) {
    if (config.advertiseUrl !== null) issue('advertiseUrl', 'applies with registration only');
    if (config.hostLabel !== null) issue('hostLabel', 'applies with registration only');
    return;
  }
  if (config.vmId !== undefined && config.vmId !== null) issue('vmId', 'must be absent with registration: the hypervisor gives the VM ID');
  if (config.name !== undefined) issue('name', 'must be absent with registration: the hypervisor names the VM after the component');
  if (config.conduit !== 'hvc') issue('conduit', "must be 'hvc' with registration: a guest registers with a hypervisor");
  if (config.boot === 'at-start') issue('boot', "must be 'on-vcpu-online' with registration: the kernel runs once the hypervisor made its VM");
}

const PARSE_OPTIONS = { component: 'guest', errorFactory: ({ message }: { message: string }) => new GuestConfigError(message) };

/**
 * One schema per vCPU count, made once (at most L.vcpusMax of them): a worker running hundreds of
 * guests built and compiled a fresh schema for each one, a sixth of its start-up.
 */
const schemasByVcpus = new Map<number, ReturnType<typeof guestConfigSchema>>();

function schemaFor(vcpus: number): ReturnType<typeof guestConfigSchema> {
  const known = schemasByVcpus.get(vcpus);
  if (known) return known;
  const made = guestConfigSchema(vcpus);
  schemasByVcpus.set(vcpus, made);
  return made;
}

/** Checks a config and fills in the defaults; throws GuestConfigError naming the first bad field. */
export function validateGuestConfig(input: unknown, componentName_: string): ValidGuestConfig {
  const { vcpus } = parseConfig(vcpusSchema, input, PARSE_OPTIONS);
  const config = parseConfig(schemaFor(vcpus), input, PARSE_OPTIONS);
  return {
    ...config,
    name: config.name ?? componentName_,
    vmId: config.vmId ?? null,
    boot: config.boot ?? (config.conduit === 'hvc' ? 'on-vcpu-online' : 'at-start'),
    controllers: new Set(config.controllers),
  };
}

/** The config as one history record at start (every option printed with the run). */
export function describeConfig(config: ValidGuestConfig) {
  return {
    variant: config.variant,
    name: config.name,
    vmId: config.vmId,
    vcpus: config.vcpus,
    firmware: config.firmware,
    conduit: config.conduit,
    gic: config.gic,
    placement: [...config.placement],
    boot: config.boot,
    opteeClient: config.opteeClient,
    controllers: [...config.controllers],
    observers: [...config.observers],
    policies: { ...config.policies },
    // Printed only when on, so the start record of a configured guest is what it always was.
    ...(config.registration ? { registration: true, advertiseUrl: config.advertiseUrl, ...(config.hostLabel === null ? {} : { hostLabel: config.hostLabel }) } : {}),
  };
}
