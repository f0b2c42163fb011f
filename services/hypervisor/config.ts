/**
 * The hypervisor's configuration: plain data as a world file gives it (`HypervisorConfig`), and the
 * checked form it runs on (`ValidHypervisorConfig`). A bad config is a bug in the world:
 * `validateHypervisorConfig` throws a HypervisorConfigError naming the field, at create.
 *
 * There is no SP list here: Xen takes it from the descriptors the SPMC writes into its RX buffer
 * at probe (ffa_partinfo.c ffa_partinfo_init; setup-and-discovery.ts).
 */
import { z } from 'zod';
import { checkUnique, componentName, policyOverrides } from '../../shared/config/blocks.ts';
import { flag, integerIn, listOf, must, oneOf, show, strictObject } from '../../shared/config/zod-kit.ts';
import { parseConfig } from '../../shared/config/parse-config.ts';
import { checkPolicyValue, isPolicyName, type PolicyName, type PolicyValues } from './policies.ts';
import { infoGetMaxIds } from '../../shared/ffa/info-get-list.ts';
import { PROFILE_NAMES, PROFILES, type RunnableProfileName } from './profiles.ts';

export interface ValidVm {
  readonly name: string;
  readonly id: number | null;
  readonly vcpus: number;
  readonly component: string;
  readonly pcpus: readonly number[] | null;
}

export interface ValidHypervisorConfig {
  readonly profile: RunnableProfileName;
  readonly policies: PolicyValues;
  readonly cpus: number;
  readonly spmd: string;
  readonly gic: string | null;
  readonly controllers: ReadonlySet<string>;
  readonly vms: readonly ValidVm[];
  readonly maxVms: number;
  readonly maxVcpusPerVm: number;
  readonly maxPendingGuestCalls: number;
  readonly maxPendingGuestCallsPerVm: number;
  readonly maxQueuedLifecycleOps: number;
  readonly teardownRetries: number;
  readonly teardownRetryDelayNs: number;
  /** Guests may register themselves (registration.ts); false: only config and controllers create VMs. */
  readonly registration: boolean;
  /** The raw profile's SRI: the INTID it takes on every CPU (profiles.ts RAW). */
  readonly rawSriIntid: number;
}

export const CONFIG_LIMITS = {
  cpusMax: 256,
  maxVmsMax: 4096,
  maxVcpusPerVmMax: 256,
  controllersMax: 64,
  nameLengthMax: 64,
  pendingCallsMax: 65_536,
  queuedOpsMax: 4096,
  teardownRetriesMax: 100,
  /** Xen DOMID_FIRST_RESERVED is 0x7FF0: domids below it, so FF-A IDs 1..0x7FF0 (ffa_domain_init -ERANGE). */
  vmIdMax: 0x7ff0,
  /** A registering guest's advertised URL (registration.ts): where an orchestrator dials it. */
  guestUrlLengthMax: 200,
  /** A registering guest's driver name (its variant). */
  guestDriverLengthMax: 32,
  /** A registering guest's host label: which machine it runs on, for per-host figures (a host name's 63-character label). */
  guestHostLengthMax: 63,
} as const;

export const CONFIG_DEFAULTS = {
  profile: 'xen',
  cpus: 4,
  spmd: 'spmd',
  gic: 'gic',
  maxVms: 64,
  maxVcpusPerVm: 16,
  maxPendingGuestCalls: 256,
  maxPendingGuestCallsPerVm: 64,
  maxQueuedLifecycleOps: 64,
  teardownRetries: 10,
  teardownRetryDelayNs: 1_000_000_000,
  /** TF-A Tests include/runtime_services/ffa_helpers.h FFA_SCHEDULE_RECEIVER_INTERRUPT_ID. */
  rawSriIntid: 8,
} as const;

export class HypervisorConfigError extends Error {
  readonly code = 'HYPERVISOR_CONFIG_INVALID';
  override readonly name = 'HypervisorConfigError';
}

const name = () => componentName(CONFIG_LIMITS.nameLengthMax);
const names = (max: number) => listOf(name(), max);

/** The limits a VM is checked against: the config's, or the running hypervisor's for `vm-create`. */
interface VmLimits {
  readonly cpus: number;
  readonly maxVcpusPerVm: number;
}

/** A VM: Xen's domain with the FF-A mediator enabled. */
function vmSchema(limits: VmLimits) {
  return strictObject({
    name: name(),
    /** FF-A ID = domid + 1 (Xen ffa_get_vm_id). Default: the lowest free one. */
    id: integerIn(1, CONFIG_LIMITS.vmIdMax).optional(),
    vcpus: integerIn(1, limits.maxVcpusPerVm),
    /** The guest component whose calls are this VM's (the link decides). Default: `name`. */
    component: name().optional(),
    /** The physical CPU of each vCPU. Default: vCPU i on CPU i mod cpus. */
    pcpus: listOf(integerIn(0, limits.cpus - 1), limits.maxVcpusPerVm).optional(),
  }).superRefine((vm, ctx) => {
    if (vm.pcpus !== undefined && vm.pcpus.length !== vm.vcpus) {
      ctx.addIssue({ code: 'custom', path: ['pcpus'], message: `must name a CPU for each of the ${vm.vcpus} vCPUs, got ${vm.pcpus.length}` });
    }
  });
}
export type VmConfig = z.input<ReturnType<typeof vmSchema>>;

/** Read first: the VM list's bounds depend on them. */
const sizesShape = {
  /** Physical CPUs (default 4). */
  cpus: integerIn(1, CONFIG_LIMITS.cpusMax).default(CONFIG_DEFAULTS.cpus),
  /** Bound on the VM table (default 64). */
  maxVms: integerIn(1, CONFIG_LIMITS.maxVmsMax).default(CONFIG_DEFAULTS.maxVms),
  /** Bound on a VM's vCPUs (default 16, the GIC's default maxVcpusPerVm). */
  maxVcpusPerVm: integerIn(1, CONFIG_LIMITS.maxVcpusPerVmMax).default(CONFIG_DEFAULTS.maxVcpusPerVm),
};
const sizesSchema = z.looseObject(sizesShape, { error: (issue) => `must be an object, got ${show(issue.input)}` });

/** 'none' is a profile of the world (bare metal), but a world that has it has no hypervisor component. */
const profileSchema = oneOf(PROFILE_NAMES).refine((profile) => profile !== 'none', {
  error: '"none" is bare metal: the hypervisor component is absent from such a world (the host kernel calls the SPMD itself)',
});

/** Policy overrides by name, each value checked by policies.ts (the scenario reader judges a world's with it too). */
export const hypervisorPolicyOverrides = () => policyOverrides('hypervisor', isPolicyName, (policy, value) => checkPolicyValue(policy as PolicyName, value));

function hypervisorConfigSchema(sizes: z.output<typeof sizesSchema>) {
  const d = CONFIG_DEFAULTS;
  return strictObject({
    /** Default 'xen'. 'none' (bare metal) is refused: the component must not be in such a world. */
    profile: profileSchema.default(d.profile),
    /** Overrides on top of the profile, by policy name. */
    policies: hypervisorPolicyOverrides().optional(),
    ...sizesShape,
    /** The SPMD component the hypervisor's SMCs go to (default 'spmd'). */
    spmd: name().default(d.spmd),
    /** The GIC broker (default 'gic'); null: interrupts are only recorded. */
    gic: name().nullable().default(d.gic),
    /** Components that may send VM life-cycle control messages, and (raw) relay SMCs. */
    controllers: names(CONFIG_LIMITS.controllersMax).default([]),
    /** VMs created at start, in order, once the firmware probe is done. */
    vms: listOf(vmSchema(sizes), sizes.maxVms).default([]),
    /** Bound on guest calls forwarded to the firmware and not yet answered (default 256); more get BUSY. */
    maxPendingGuestCalls: integerIn(1, CONFIG_LIMITS.pendingCallsMax).default(d.maxPendingGuestCalls),
    /**
     * Of those, one VM's (default 64): a VM that floods the firmware with calls gets BUSY once
     * its own share is used, and every other VM keeps its share (docs/threat-model.md).
     */
    maxPendingGuestCallsPerVm: integerIn(1, CONFIG_LIMITS.pendingCallsMax).default(d.maxPendingGuestCallsPerVm),
    /** Bound on life-cycle requests waiting their turn (default 64); more are refused. */
    maxQueuedLifecycleOps: integerIn(1, CONFIG_LIMITS.queuedOpsMax).default(d.maxQueuedLifecycleOps),
    /** VM_DESTROYED retries after INTERRUPTED or RETRY (default 10). */
    teardownRetries: integerIn(0, CONFIG_LIMITS.teardownRetriesMax).default(d.teardownRetries),
    /** Delay between them (default 1 s: Xen ffa.c FFA_CTX_TEARDOWN_DELAY). */
    teardownRetryDelayNs: integerIn(0, 60_000_000_000).default(d.teardownRetryDelayNs),
    /**
     * Default false. true: a guest component that is not a controller may send `register` and get
     * a VM of its own, destroyed when its link drops (registration.ts; docker compose --scale).
     */
    registration: flag(must('a boolean')).default(false),
    /**
     * The raw profile only: the SRI INTID it subscribes to on every CPU (default 8). tftf builds it
     * in (FFA_SCHEDULE_RECEIVER_INTERRUPT_ID) rather than asking FFA_FEATURES; the world builder
     * passes the SPMC's when a scenario changes it. Any non-secure SGI, PPI or SPI (0..1019).
     */
    rawSriIntid: integerIn(0, 1019).default(d.rawSriIntid),
  }).superRefine(({ vms }, ctx) => {
    checkUnique(ctx, vms, (vm) => vm.name, (index) => ['vms', index, 'name'], (vmName) => `"${vmName}"`);
    const withIds = vms.flatMap((vm, index) => (vm.id === undefined ? [] : [{ id: vm.id, index }]));
    withIds.forEach(({ id, index }, position) => {
      if (withIds.findIndex((other) => other.id === id) !== position) ctx.addIssue({ code: 'custom', path: ['vms', index, 'id'], message: `${id} is used twice` });
    });
  });
}
export type HypervisorConfig = z.input<ReturnType<typeof hypervisorConfigSchema>>;

const parseOptions = (at = '') => ({
  component: 'hypervisor',
  at,
  errorFactory: ({ message }: { message: string }) => new HypervisorConfigError(message),
});

function validVm(vm: z.output<ReturnType<typeof vmSchema>>): ValidVm {
  return { name: vm.name, id: vm.id ?? null, vcpus: vm.vcpus, component: vm.component ?? vm.name, pcpus: vm.pcpus ?? null };
}

/** One VM description; also used for `vm-create` control requests (hence exported). */
export function validateVm(field: string, raw: unknown, limits: VmLimits): ValidVm {
  return validVm(parseConfig(vmSchema(limits), raw, parseOptions(field)));
}

/**
 * The profile's policies under the config's overrides, with an INFO_GET loop bound that fits the VM
 * table when the config leaves it unset. Xen's notif_sri_action has no bound: it calls INFO_GET
 * while "more pending" is set, and against a destructive SPMC (Hafnium, ffa-reference.md §3.5) the
 * loop ends once every pending VM has been handed out, 20 IDs a call. The simulation's bound stands
 * in for Xen's missing one only against a non-destructive SPMC that would keep it looping; it must
 * never be what leaves a destructive SPMC's pending VMs unreported, which nothing would report later.
 * One call beyond the table's share leaves room for the SPs the SPMC lists first.
 */
function fittedPolicies(profile: RunnableProfileName, maxVms: number, overrides: Partial<PolicyValues> | undefined): PolicyValues {
  const policies = { ...PROFILES[profile].policies, ...overrides };
  if (overrides?.infoGetLoopBound !== undefined) return policies;
  const callsToReportEveryVm = Math.ceil(maxVms / infoGetMaxIds(64)) + 1;
  return { ...policies, infoGetLoopBound: Math.max(policies.infoGetLoopBound, callsToReportEveryVm) };
}

/** Checks a config and fills in the defaults; throws HypervisorConfigError naming the first bad field. */
export function validateHypervisorConfig(input: unknown): ValidHypervisorConfig {
  const sizes = parseConfig(sizesSchema, input ?? {}, parseOptions());
  const config = parseConfig(hypervisorConfigSchema(sizes), input ?? {}, parseOptions());
  const profile = config.profile as RunnableProfileName;
  return {
    ...config,
    profile,
    policies: fittedPolicies(profile, config.maxVms, config.policies as Partial<PolicyValues> | undefined),
    controllers: new Set(config.controllers),
    vms: config.vms.map(validVm),
  };
}

/** The config as one history record at start (every option printed with the run). */
export function describeConfig(config: ValidHypervisorConfig): Record<string, unknown> {
  return {
    profile: config.profile,
    policies: { ...config.policies },
    cpus: config.cpus,
    spmd: config.spmd,
    gic: config.gic,
    controllers: [...config.controllers],
    vms: config.vms.map((vm) => ({ ...vm, pcpus: vm.pcpus === null ? null : [...vm.pcpus] })),
    maxVms: config.maxVms,
    maxVcpusPerVm: config.maxVcpusPerVm,
    maxPendingGuestCalls: config.maxPendingGuestCalls,
    maxPendingGuestCallsPerVm: config.maxPendingGuestCallsPerVm,
    maxQueuedLifecycleOps: config.maxQueuedLifecycleOps,
    teardownRetries: config.teardownRetries,
    teardownRetryDelayNs: config.teardownRetryDelayNs,
    // Printed only when on, so the start record of a world without it is what it always was.
    ...(config.registration ? { registration: true } : {}),
    ...(config.profile === 'raw' ? { rawSriIntid: config.rawSriIntid } : {}),
  };
}
