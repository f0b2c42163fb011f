/**
 * The reader's world (pass 3, meaning): partitions and VMs as the file gives them, with the
 * defaults filled in and `count` expanded, checked as a whole (unique IDs and names, CPUs that
 * exist). The defaults are the format's open decisions, told in index.ts. A problem is noted and
 * the reading goes on with what is there, so that the steps are judged against the world too.
 */
import { OPTEE_SP_ID, OPTEE_UUID } from '../../../../shared/ffa/index.ts';
import { DEFAULT_VARIANT } from '../../../guest/variants.ts';
import type { ScenarioSource, ValuePath } from '../errors.ts';
import type { WorldInput } from '../schema.ts';
import { SCENARIO_LIMITS } from '../value-shapes.ts';
import type { PartitionDescription, VmDescription, WorldDescription } from '../types.ts';
import type { Problems } from './problems.ts';
import { hex, versionText } from './values.ts';

/** Component names of the world (world-builder.ts) and words with a meaning in steps: never a VM's or SP's name. */
const RESERVED_NAMES = new Set(['hypervisor', 'host', 'spmd', 'spmc', 'gic', 'orchestrator', 'all', 'any']);

const DEFAULTS = {
  cpus: 4,
  spmcProfile: 'optee',
  spmcVersion: '1.2',
  hypervisorProfile: 'xen',
  driver: DEFAULT_VARIANT,
  messaging: ['direct'],
} as const;

/** OP-TEE's logical SP (OP-TEE thread_spmc.c: the first ID above the SPMC's, its UUID my_uuid_words). */
function defaultPartition(cpus: number): PartitionDescription {
  return {
    id: OPTEE_SP_ID,
    name: 'optee',
    behaviour: 'optee',
    vcpus: cpus,
    notifications: true,
    messaging: ['direct'],
    uuid: OPTEE_UUID,
    ffaVersion: '1.1',
  };
}

export function normalizeWorld(input: WorldInput | undefined, source: ScenarioSource, problems: Problems): WorldDescription {
  const cpus = input?.cpus ?? DEFAULTS.cpus;
  const spmcInput = input?.spmc;
  const spmcVersion = versionOr(spmcInput?.ffaVersion, DEFAULTS.spmcVersion, ['world', 'spmc', 'ffaVersion'], source, problems);
  const partitions = spmcInput?.partitions === undefined ? [defaultPartition(cpus)] : partitionsOf(spmcInput.partitions, cpus, spmcVersion, source, problems);
  const hypervisor = { profile: input?.hypervisor?.profile ?? DEFAULTS.hypervisorProfile, policies: input?.hypervisor?.policies ?? {} };
  const context: VmContext = { cpus, hasOptee: partitions.some((p) => p.behaviour === 'optee'), source, problems };
  const entries = hypervisor.profile === 'none' ? [hostOf(input?.vms ?? [], context)] : vmsOf(input?.vms ?? [], context);
  checkVms(entries, partitions, context);
  return {
    cpus,
    spmc: { profile: spmcInput?.profile ?? DEFAULTS.spmcProfile, ffaVersion: spmcVersion, policies: spmcInput?.policies ?? {}, vmSlots: spmcInput?.vmSlots ?? null, partitions },
    hypervisor,
    vms: entries.map((entry) => entry.vm),
    serviceTimes: input?.serviceTimes ?? 'none',
  };
}

/** The version the file gives at `path`, or `fallback` when it gives none (or one that is noted as wrong). */
function versionOr(value: string | number | undefined, fallback: string, path: ValuePath, source: ScenarioSource, problems: Problems): string {
  return value === undefined ? fallback : (problems.attempt(() => versionText(value, path, source)) ?? fallback);
}

type PartitionInput = NonNullable<NonNullable<WorldInput['spmc']>['partitions']>[number];

function partitionsOf(inputs: readonly PartitionInput[], cpus: number, spmcVersion: string, source: ScenarioSource, problems: Problems): PartitionDescription[] {
  const partitions = inputs.map((input, index) => ({
    id: input.id,
    name: input.name ?? null,
    // Both the SPMC and the guests' partition lists are built from this, so the default is set here once.
    uuid: input.uuid?.toLowerCase() ?? (input.behaviour === 'optee' ? OPTEE_UUID : null),
    vcpus: input.vcpus ?? cpus,
    ffaVersion: versionOr(input.ffaVersion, spmcVersion, ['world', 'spmc', 'partitions', index, 'ffaVersion'], source, problems),
    notifications: input.notifications ?? false,
    messaging: [...new Set(input.messaging ?? DEFAULTS.messaging)],
    behaviour: input.behaviour ?? 'raw',
  }));
  partitions.forEach((partition, index) => {
    const at = (key: string): ValuePath => ['world', 'spmc', 'partitions', index, key];
    const refuse = (key: string, reason: string) => problems.note(source.error(at(key), reason));
    if (partitions.findIndex((other) => other.id === partition.id) !== index) refuse('id', `partition ID ${hex(partition.id)} is used twice: give each partition its own ID`);
    if (partition.name !== null && RESERVED_NAMES.has(partition.name)) refuse('name', reservedNameReason(partition.name));
    if (partition.name !== null && partitions.findIndex((other) => other.name === partition.name) !== index) refuse('name', `partition name '${partition.name}' is used twice`);
    if (partition.behaviour === 'optee' && partitions.findIndex((other) => other.behaviour === 'optee') !== index) {
      refuse('behaviour', 'at most one partition may have behaviour optee (it owns the OP-TEE UUID)');
    }
  });
  return partitions;
}

function reservedNameReason(name: string): string {
  return `'${name}' already names a component or a keyword of the format (${[...RESERVED_NAMES].join(', ')}): choose another name`;
}

type VmInput = NonNullable<WorldInput['vms']>[number];

/** A VM after expansion, with where it came from for later messages. */
interface VmEntry {
  vm: VmDescription;
  path: ValuePath;
  idGiven: boolean;
}

interface VmContext {
  cpus: number;
  hasOptee: boolean;
  source: ScenarioSource;
  problems: Problems;
}

function vmDescription(input: VmInput, name: string, id: number, context: VmContext): VmDescription {
  const driver = input.driver ?? DEFAULTS.driver;
  return {
    name,
    id,
    vcpus: input.vcpus ?? context.cpus,
    driver,
    opteeClient: input.opteeClient ?? (driver !== 'raw' && context.hasOptee),
    boot: input.boot ?? true,
    pcpus: input.pcpus ?? null,
    policies: input.policies ?? {},
  };
}

/** `hypervisor: none`: one bare-metal kernel, `host`, FF-A ID 0 (TF-A FFA_NS_ENDPOINT_ID). */
function hostOf(inputs: readonly VmInput[], context: VmContext): VmEntry {
  const refuse = (path: ValuePath, reason: string) => context.problems.note(context.source.error(path, reason));
  const why = 'hypervisor: none is bare metal, with one host kernel (use hypervisor: xen or raw for several VMs)';
  inputs.slice(1).forEach((_extra, index) => refuse(['world', 'vms', index + 1], `remove this VM: ${why}`));
  const input = inputs[0] ?? {};
  const path: ValuePath = inputs.length === 0 ? ['world', 'vms'] : ['world', 'vms', 0];
  if ((input.count ?? 1) > 1) refuse([...path, 'count'], `must be 1: ${why}`);
  if (input.name !== undefined && input.name !== 'host') refuse([...path, 'name'], `must be host, got '${input.name}': the bare-metal kernel is named host (or leave name out)`);
  if (input.id !== undefined && input.id !== 0) refuse([...path, 'id'], `must be 0, got ${input.id}: the bare-metal kernel is FF-A ID 0 (or leave id out)`);
  return { vm: vmDescription(input, 'host', 0, context), path, idGiven: true };
}

/**
 * Expands `count`, and numbers VMs without an `id` by position + 1 (see the header). An entry
 * without a name, or whose IDs run past the VM IDs, is left out after its problem is noted.
 */
function vmsOf(inputs: readonly VmInput[], context: VmContext): VmEntry[] {
  const { source, problems } = context;
  const entries: VmEntry[] = [];
  for (const [index, input] of inputs.entries()) {
    const path: ValuePath = ['world', 'vms', index];
    if (input.name === undefined) {
      problems.note(source.error(path, 'a VM needs a name: add one, e.g. name: dom0 (with count: 3, name: vm gives vm1, vm2, vm3)'));
      continue;
    }
    const base = input.name;
    if (RESERVED_NAMES.has(base)) problems.note(source.error([...path, 'name'], reservedNameReason(base)));
    const count = input.count ?? 1;
    if (entries.length + count > SCENARIO_LIMITS.vms) {
      problems.note(source.error([...path, 'count'], `makes more than ${SCENARIO_LIMITS.vms} VMs: lower the count`));
      break;
    }
    const first = input.id ?? entries.length + 1;
    const nameOf = (k: number) => (input.count === undefined ? base : `${base}${k + 1}`);
    if (first + count - 1 > SCENARIO_LIMITS.vmIdMax) {
      const past = Math.max(0, SCENARIO_LIMITS.vmIdMax + 1 - first);
      problems.note(source.error([...path, input.count === undefined ? 'id' : 'count'], `gives VM ${nameOf(past)} the ID ${hex(first + past)}, past ${hex(SCENARIO_LIMITS.vmIdMax)} (VM IDs have bit 15 clear)`));
      continue;
    }
    for (let k = 0; k < count; k++) entries.push({ vm: vmDescription(input, nameOf(k), first + k, context), path, idGiven: input.id !== undefined });
  }
  return entries;
}

function checkVms(entries: readonly VmEntry[], partitions: readonly PartitionDescription[], context: VmContext): void {
  const { source, problems } = context;
  const byName = new Map<string, VmDescription>();
  const byId = new Map<number, VmDescription>();
  const partitionNames = new Set(partitions.map((p) => p.name));
  entries.forEach(({ vm, path, idGiven }, index) => {
    const refuse = (key: string, reason: string) => problems.note(source.error([...path, key], reason));
    if (vm.id === 0 && vm.name !== 'host') refuse('id', 'must not be 0: ID 0 is the hypervisor\'s; VM IDs start at 1 (Xen: domid + 1)');
    if (byName.has(vm.name)) refuse('name', `VM name '${vm.name}' is used twice: give each VM its own name`);
    if (partitionNames.has(vm.name)) refuse('name', `'${vm.name}' is already a partition's name: endpoint names must differ`);
    const sameId = byId.get(vm.id);
    if (sameId !== undefined) {
      const how = idGiven ? '' : ` (its default: position ${index} + 1)`;
      refuse(idGiven ? 'id' : 'name', `VM ${vm.name} gets ID ${vm.id}${how}, which ${sameId.name} already has: give each VM its own id`);
    }
    if (!byName.has(vm.name)) byName.set(vm.name, vm);
    if (sameId === undefined) byId.set(vm.id, vm);
    checkPcpus(vm, [...path, 'pcpus'], context);
  });
}

function checkPcpus(vm: VmDescription, path: ValuePath, context: VmContext): void {
  const refuse = (at: ValuePath, reason: string) => context.problems.note(context.source.error(at, reason));
  if (vm.pcpus === null) return;
  if (vm.pcpus.length !== vm.vcpus) return refuse(path, `must name a physical CPU for each of the ${vm.vcpus} vCPUs of ${vm.name}, got ${vm.pcpus.length}`);
  vm.pcpus.forEach((cpu, index) => {
    if (cpu >= context.cpus) refuse([...path, index], `CPU ${cpu} does not exist: the world has ${context.cpus} CPUs (0..${context.cpus - 1})`);
  });
}
