/**
 * The scenario loader: a YAML file (scenario-format.md, a public interface) in, the loaded form
 * (types.ts) out, or a ScenarioError naming file, line and column and what to change.
 *
 * Three passes, each refusing with a position:
 * 1. YAML: parsed with node ranges kept; integers exactly (intAsBigInt), then those within 2^53
 *    handed on as numbers, so `0x8004000040000003` never passes through a float.
 * 2. Shape: the zod schema (schema.ts); unknown keys are refused everywhere.
 * 3. Meaning: endpoints exist, arguments are the ABI's own, the world is possible; then the
 *    normalization: counts expanded, defaults filled in, calls encoded to their registers through
 *    the ABI's codec (shared/ffa), durations in ns.
 *
 * Decisions the format leaves open:
 * - Durations need a unit ("10ms", "5s", "250us", "100ns"); a bare number is refused, since 10
 *   could as well mean ns as s.
 * - A VM's default ID is its position + 1, the position counted after `count` expansion (Xen:
 *   domid + 1), so `[{ name: dom0 }, { name: vm, count: 2 }]` gives dom0 1, vm1 2, vm2 3. A `count`
 *   entry with an `id` numbers its VMs from that ID.
 * - `hypervisor: none`: the one VM is the bare-metal host, always named `host` with FF-A ID 0. A
 *   VM entry there may leave out name and id, or give `host` and 0; another name or ID is refused
 *   rather than silently replaced.
 * - A VM or partition without `vcpus` gets one per physical CPU. A partition's other defaults:
 *   the SPMC's ffaVersion, notifications false, messaging [direct], behaviour raw, name null, uuid
 *   OP-TEE's for behaviour optee and otherwise null (the SPMC fills one in).
 * - A call without `expect` expects nothing (`any`): it is recorded, never judged.
 * - In `args`, a numeric endpoint ID is taken as is (conformance tests call with IDs that do not
 *   exist); a name must name an endpoint. Where a step names who acts or receives (`from`, `to`,
 *   `in`, fault targets), the endpoint must exist.
 * - Timed faults are read both ways `{ at: 10ms, fault: … }` allows: the fault's keys beside `at`
 *   (`{ at: 10ms, fault: drop-interrupt, intid: 8 }`) or a fault step under `fault`
 *   (`{ at: 10ms, fault: { fault: drop-interrupt, intid: 8 } }`).
 */
import { readFileSync } from 'node:fs';
import { isNode, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import {
  abiNameOf,
  BIND_FLAGS,
  codecForAbi,
  codecForFid,
  featuresIdFromName,
  FFA_FIDS,
  fidOf,
  formatVersion,
  GET_FLAGS,
  hex,
  isUuid,
  isValidVersion,
  MSG_SEND2_FLAGS,
  parseVersion,
  registers,
  SET_FLAGS,
  type AnyAbiCodec,
  type ArgKind,
  type FlagTable,
  type RegisterFile,
} from '../../../shared/ffa/index.ts';
import { pathText, ScenarioError, ScenarioSource, type Target, type ValuePath } from './errors.ts';
import {
  checkBranchOf,
  closest,
  durationNs,
  expectationBranchOf,
  PERCENTILE_KEYS,
  ratePerSecond,
  scenarioSchema,
  SCENARIO_LIMITS,
  show,
  stepBranchOf,
  timedFaultBranchOf,
  SUCCESS_FIELD_SCHEMAS,
  SUCCESS_FIELDS,
  type ArgValue,
  type CheckInput,
  type ExpectationInput,
  type FaultInput,
  type ScenarioInput,
  type StepInput,
  type SuccessFieldKind,
  type TimedFaultInput,
  type WorldInput,
} from './schema.ts';
import type {
  CheckSpec,
  Endpoint,
  Expectation,
  FaultSpec,
  LatencyThresholds,
  PartitionDescription,
  Scenario,
  SourceLocation,
  Step,
  TimedFault,
  VmDescription,
  WorldDescription,
} from './types.ts';

export { ScenarioError } from './errors.ts';
export { scenarioJsonSchema, scenarioSchema } from './schema.ts';

/** Reads and loads one scenario file; an unreadable file is a ScenarioError like any other. */
export function readScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ScenarioError({ file: path, line: 1, column: 1 }, `cannot read the scenario file (${why}): check the path`);
  }
  return readScenarioText(text, path);
}

/** Loads a scenario from its text; `file` names it in messages and in the result. Throws ScenarioError only. */
export function readScenarioText(text: string, file: string): Scenario {
  const { source, value } = parseYaml(text, file);
  if (value === null || value === undefined) throw new ScenarioError({ file, line: 1, column: 1 }, 'the file holds no scenario: write at least its name (name: my-scenario)');
  const input = validate(scenarioSchema, value, source, []);
  return normalize(input, source);
}

// ---------------------------------------------------------------- 1. YAML

const YAML_HINTS: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: 'a key may appear once in a mapping: remove or rename one',
  MULTIPLE_DOCS: 'a scenario file holds one YAML document: remove the second ---',
  BAD_INDENT: 'check the indentation and that every { or [ is closed',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
};

function parseYaml(text: string, file: string): { source: ScenarioSource; value: unknown } {
  if (text.length > SCENARIO_LIMITS.fileLength) {
    throw new ScenarioError({ file, line: 1, column: 1 }, `the file has ${text.length} characters, more than ${SCENARIO_LIMITS.fileLength}: split it, or use count: and workload steps`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, intAsBigInt: true, prettyErrors: false, uniqueKeys: true });
  const source = new ScenarioSource(file, text, doc, lines);
  const [error] = doc.errors;
  if (error !== undefined) {
    const { line, col } = lines.linePos(error.pos[0]);
    throw new ScenarioError({ file, line, column: col }, `invalid YAML: ${error.message} (${YAML_HINTS[error.code] ?? 'fix the YAML syntax here'})`);
  }
  refuseCollectionKeys(doc, source);
  try {
    return { source, value: exactNumbers(doc.toJS({ maxAliasCount: 100 })) };
  } catch (cause) {
    // toJS refuses alias bombs (too many alias expansions): a file problem, not a bug.
    throw new ScenarioError({ file, line: 1, column: 1 }, `invalid YAML: ${(cause as Error).message}`);
  }
}

/** A mapping or list used as a key (`{ a: 1 }: x`) would reach us stringified: refuse it where it is. */
function refuseCollectionKeys(doc: Document, source: ScenarioSource): void {
  const offending: unknown[] = [];
  visit(doc, {
    Pair(_key, pair) {
      if (pair.key === null || isScalar(pair.key)) return undefined;
      offending.push(pair.key);
      return visit.BREAK;
    },
  });
  const range = isNode(offending[0]) ? offending[0].range : null;
  if (range) throw new ScenarioError(source.locationOf(range[0]), 'a key must be a plain word, not a mapping or a list: check the indentation and the braces');
}

/** Integers within 2^53 as numbers, beyond as the exact bigints YAML parsed them to. */
function exactNumbers(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(exactNumbers);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, exactNumbers(item)]));
  return value;
}

// ---------------------------------------------------------------- 2. shape

interface Problem {
  path: PropertyKey[];
  reason: string;
  target: Target;
}

/** The schema's output for `value` (found at `at`), or the problem that comes first in the file. */
function validate<S extends z.ZodType>(schema: S, value: unknown, source: ScenarioSource, at: ValuePath): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw firstInFile(result.error.issues.flatMap((issue) => explain(issue, value, at)), source);
}

function firstInFile(problems: Problem[], source: ScenarioSource): ScenarioError {
  const located = problems.map((problem) => ({ problem, at: source.location(problem.path, problem.target) }));
  located.sort((a, b) => a.at.line - b.at.line || a.at.column - b.at.column);
  const first = located[0];
  if (first === undefined) return new ScenarioError(source.location([]), 'is invalid');
  const { path, reason, target } = first.problem;
  // An unknown key's message names the key; the path names the mapping it sits in.
  const where = pathText(target === 'key' ? path.slice(0, -1) : path);
  const said = target === 'value' ? source.asWritten(reason, path) : reason;
  return new ScenarioError(first.at, where === '' ? said : `${where}: ${said}`);
}

/**
 * One zod issue as a problem at a path. A value that matches no branch of a union (a step, an
 * expectation, a check) is judged against the branch its keys say it means, so the message says
 * "unknown key 'bitmaps'" rather than "matches no step kind".
 */
function explain(issue: z.core.$ZodIssue, root: unknown, at: ValuePath): Problem[] {
  const path = [...at, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const value = valueAt(root, issue.path);
    const result = branchFor(path, value)?.safeParse(value);
    if (result?.success === false) return result.error.issues.flatMap((inner) => explain(inner, value, path));
  }
  if (issue.code === 'unrecognized_keys') return [{ path: [...path, issue.keys[0] ?? ''], reason: issue.message, target: 'key' }];
  if (issue.code === 'invalid_key') return [{ path, reason: issue.message, target: 'key' }];
  return [{ path, reason: issue.message, target: 'value' }];
}

function branchFor(path: readonly PropertyKey[], value: unknown): z.ZodType | null {
  const [section, index, key] = path;
  if (section === 'steps' && typeof index === 'number') {
    if (path.length === 2) return stepBranchOf(value);
    if (path.length === 3 && key === 'expect') return expectationBranchOf(value);
  }
  if (section === 'checks' && typeof index === 'number' && path.length === 2) return checkBranchOf(value);
  if (section === 'faults' && typeof index === 'number' && path.length === 2) return timedFaultBranchOf(value);
  return null;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((value, key) => (typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined), root);
}

// ---------------------------------------------------------------- 3. meaning: the world


/** Component names of the world (world-builder.ts) and words with a meaning in steps: never a VM's or SP's name. */
const RESERVED_NAMES = new Set(['hypervisor', 'host', 'spmd', 'spmc', 'gic', 'orchestrator', 'all', 'any']);

const DEFAULTS = {
  cpus: 4,
  spmcProfile: 'optee',
  spmcVersion: '1.2',
  hypervisorProfile: 'xen',
  driver: 'linux-6.10',
  messaging: ['direct'],
} as const;

/** OP-TEE's logical SP (OP-TEE thread_spmc.c: the first ID above the SPMC's, its UUID my_uuid_words). */
function defaultPartition(cpus: number): PartitionDescription {
  return {
    id: 0x8001,
    name: 'optee',
    behaviour: 'optee',
    vcpus: cpus,
    notifications: true,
    messaging: ['direct'],
    uuid: OPTEE_UUID,
    ffaVersion: '1.1',
  };
}

/** OP-TEE's UUID (thread_spmc.c my_uuid_words): an optee partition has it unless the file says otherwise. */
const OPTEE_UUID = '486178e0-e7f8-11e3-bc5e-0002a5d5c51b';

/**
 * A version as the file wrote it: "1.2", an unquoted 1.2 (a YAML float, read from its source text
 * so that 1.10 stays 1.10), or an integer already encoded (0x10002).
 */
function versionValue(value: string | number, path: ValuePath, source: ScenarioSource): number {
  const written = typeof value === 'string' ? value : (source.sourceText(path) ?? String(value));
  const encoded = typeof value === 'number' && !written.includes('.') ? (isValidVersion(value) ? value : null) : parseVersion(written);
  if (encoded === null) throw source.error(path, `must be an FF-A version such as "1.2" (MAJOR.MINOR), got ${show(value)}`);
  return encoded;
}

function normalizeWorld(input: WorldInput | undefined, source: ScenarioSource): WorldDescription {
  const cpus = input?.cpus ?? DEFAULTS.cpus;
  const spmcInput = input?.spmc;
  const spmcVersion = spmcInput?.ffaVersion === undefined ? DEFAULTS.spmcVersion : formatVersion(versionValue(spmcInput.ffaVersion, ['world', 'spmc', 'ffaVersion'], source));
  const partitions = spmcInput?.partitions === undefined ? [defaultPartition(cpus)] : partitionsOf(spmcInput.partitions, cpus, spmcVersion, source);
  const hypervisor = { profile: input?.hypervisor?.profile ?? DEFAULTS.hypervisorProfile, policies: input?.hypervisor?.policies ?? {} };
  const context: VmContext = { cpus, hasOptee: partitions.some((p) => p.behaviour === 'optee'), source };
  const entries = hypervisor.profile === 'none' ? [hostOf(input?.vms ?? [], context)] : vmsOf(input?.vms ?? [], context);
  checkVms(entries, partitions, context);
  return {
    cpus,
    spmc: { profile: spmcInput?.profile ?? DEFAULTS.spmcProfile, ffaVersion: spmcVersion, policies: spmcInput?.policies ?? {}, partitions },
    hypervisor,
    vms: entries.map((entry) => entry.vm),
  };
}

type PartitionInput = NonNullable<NonNullable<WorldInput['spmc']>['partitions']>[number];

function partitionsOf(inputs: readonly PartitionInput[], cpus: number, spmcVersion: string, source: ScenarioSource): PartitionDescription[] {
  const partitions = inputs.map((input, index) => ({
    id: input.id,
    name: input.name ?? null,
    // Both the SPMC and the guests' partition lists are built from this, so the default is set here once.
    uuid: input.uuid?.toLowerCase() ?? (input.behaviour === 'optee' ? OPTEE_UUID : null),
    vcpus: input.vcpus ?? cpus,
    ffaVersion: input.ffaVersion === undefined ? spmcVersion : formatVersion(versionValue(input.ffaVersion, ['world', 'spmc', 'partitions', index, 'ffaVersion'], source)),
    notifications: input.notifications ?? false,
    messaging: [...new Set(input.messaging ?? DEFAULTS.messaging)],
    behaviour: input.behaviour ?? 'raw',
  }));
  partitions.forEach((partition, index) => {
    const at = (key: string): ValuePath => ['world', 'spmc', 'partitions', index, key];
    if (partitions.findIndex((other) => other.id === partition.id) !== index) throw source.error(at('id'), `partition ID ${hex(partition.id)} is used twice: give each partition its own ID`);
    if (partition.name !== null) checkEndpointName(partition.name, at('name'), source);
    if (partition.name !== null && partitions.findIndex((other) => other.name === partition.name) !== index) throw source.error(at('name'), `partition name '${partition.name}' is used twice`);
    if (partition.behaviour === 'optee' && partitions.findIndex((other) => other.behaviour === 'optee') !== index) {
      throw source.error(at('behaviour'), 'at most one partition may have behaviour optee (it owns the OP-TEE UUID)');
    }
  });
  return partitions;
}

function checkEndpointName(name: string, path: ValuePath, source: ScenarioSource): void {
  if (RESERVED_NAMES.has(name)) throw source.error(path, `'${name}' already names a component or a keyword of the format (${[...RESERVED_NAMES].join(', ')}): choose another name`);
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
  const { source } = context;
  const why = 'hypervisor: none is bare metal, with one host kernel (use hypervisor: xen or raw for several VMs)';
  if (inputs.length > 1) throw source.error(['world', 'vms', 1], `remove this VM: ${why}`);
  const input = inputs[0] ?? {};
  const path: ValuePath = inputs.length === 0 ? ['world', 'vms'] : ['world', 'vms', 0];
  if ((input.count ?? 1) > 1) throw source.error([...path, 'count'], `must be 1: ${why}`);
  if (input.name !== undefined && input.name !== 'host') throw source.error([...path, 'name'], `must be host, got '${input.name}': the bare-metal kernel is named host (or leave name out)`);
  if (input.id !== undefined && input.id !== 0) throw source.error([...path, 'id'], `must be 0, got ${input.id}: the bare-metal kernel is FF-A ID 0 (or leave id out)`);
  return { vm: vmDescription(input, 'host', 0, context), path, idGiven: true };
}

/** Expands `count`, and numbers VMs without an `id` by position + 1 (see the header). */
function vmsOf(inputs: readonly VmInput[], context: VmContext): VmEntry[] {
  const entries: VmEntry[] = [];
  inputs.forEach((input, index) => {
    const path: ValuePath = ['world', 'vms', index];
    if (input.name === undefined) throw context.source.error(path, 'a VM needs a name: add one, e.g. name: dom0 (with count: 3, name: vm gives vm1, vm2, vm3)');
    checkEndpointName(input.name, [...path, 'name'], context.source);
    const count = input.count ?? 1;
    if (entries.length + count > SCENARIO_LIMITS.vms) throw context.source.error([...path, 'count'], `makes more than ${SCENARIO_LIMITS.vms} VMs: lower the count`);
    for (let k = 0; k < count; k++) {
      const name = input.count === undefined ? input.name : `${input.name}${k + 1}`;
      const id = (input.id ?? entries.length + 1 - k) + k;
      if (id > SCENARIO_LIMITS.vmIdMax) throw context.source.error([...path, input.count === undefined ? 'id' : 'count'], `gives VM ${name} the ID ${hex(id)}, past ${hex(SCENARIO_LIMITS.vmIdMax)} (VM IDs have bit 15 clear)`);
      entries.push({ vm: vmDescription(input, name, id, context), path, idGiven: input.id !== undefined });
    }
  });
  return entries;
}

function checkVms(entries: readonly VmEntry[], partitions: readonly PartitionDescription[], context: VmContext): void {
  const { source } = context;
  entries.forEach(({ vm, path, idGiven }, index) => {
    const earlier = entries.slice(0, index);
    if (vm.id === 0 && vm.name !== 'host') throw source.error([...path, 'id'], 'must not be 0: ID 0 is the hypervisor\'s; VM IDs start at 1 (Xen: domid + 1)');
    const sameName = earlier.find((other) => other.vm.name === vm.name);
    if (sameName !== undefined) throw source.error([...path, 'name'], `VM name '${vm.name}' is used twice: give each VM its own name`);
    if (partitions.some((p) => p.name === vm.name)) throw source.error([...path, 'name'], `'${vm.name}' is already a partition's name: endpoint names must differ`);
    const sameId = earlier.find((other) => other.vm.id === vm.id);
    if (sameId !== undefined) {
      const how = idGiven ? '' : ` (its default: position ${index} + 1)`;
      throw source.error([...path, idGiven ? 'id' : 'name'], `VM ${vm.name} gets ID ${vm.id}${how}, which ${sameId.vm.name} already has: give each VM its own id`);
    }
    checkPcpus(vm, [...path, 'pcpus'], context);
  });
}

function checkPcpus(vm: VmDescription, path: ValuePath, context: VmContext): void {
  if (vm.pcpus === null) return;
  if (vm.pcpus.length !== vm.vcpus) throw context.source.error(path, `must name a physical CPU for each of the ${vm.vcpus} vCPUs of ${vm.name}, got ${vm.pcpus.length}`);
  vm.pcpus.forEach((cpu, index) => {
    if (cpu >= context.cpus) throw context.source.error([...path, index], `CPU ${cpu} does not exist: the world has ${context.cpus} CPUs (0..${context.cpus - 1})`);
  });
}

// ---------------------------------------------------------------- 3. meaning: endpoints

const MAX_NAMES_SHOWN = 12;

const KIND_WORDING: Readonly<Record<Endpoint['kind'], string>> = { vm: 'a VM', host: 'the host', sp: 'a partition', hypervisor: 'the hypervisor' };

/** What a step may name, resolved against the world (scenario-format.md "Endpoints"). */
class Resolver {
  private readonly byName = new Map<string, Endpoint>();
  private readonly byId = new Map<number, Endpoint>();
  private readonly vcpusOf = new Map<Endpoint, number>();
  readonly bareMetal: boolean;

  constructor(
    readonly world: WorldDescription,
    readonly source: ScenarioSource,
  ) {
    this.bareMetal = world.hypervisor.profile === 'none';
    if (!this.bareMetal) this.add({ kind: 'hypervisor', name: 'hypervisor', id: 0 }, world.cpus);
    for (const vm of world.vms) this.add(vm.name === 'host' && this.bareMetal ? { kind: 'host', name: 'host', id: 0 } : { kind: 'vm', name: vm.name, id: vm.id }, vm.vcpus);
    for (const sp of world.spmc.partitions) this.add({ kind: 'sp', name: sp.name ?? hex(sp.id), id: sp.id }, sp.vcpus, sp.name !== null);
  }

  private add(endpoint: Endpoint, vcpus: number, named = true): void {
    if (named) this.byName.set(endpoint.name, endpoint);
    this.byId.set(endpoint.id, endpoint);
    this.vcpusOf.set(endpoint, vcpus);
  }

  /** The endpoint a step names; one that is not in the world makes the scenario invalid. */
  endpoint(ref: string | number, path: ValuePath): Endpoint {
    const found = typeof ref === 'number' ? this.byId.get(ref) : this.byName.get(ref);
    if (found !== undefined) return found;
    if (ref === 'hypervisor') throw this.source.error(path, 'there is no hypervisor under hypervisor: none (bare metal): the host calls the SPMD itself, so write host');
    if (ref === 'host') throw this.source.error(path, `'host' is the bare-metal kernel, which exists only under hypervisor: none; this world's VMs are ${this.vmNames().join(', ')}`);
    const guess = typeof ref === 'string' ? closest(ref, [...this.byName.keys()]) : null;
    const hint = guess === null ? '' : `did you mean ${guess}? `;
    throw this.source.error(path, `unknown endpoint ${typeof ref === 'number' ? hex(ref) : `'${ref}'`}: ${hint}this world has ${this.known()}`);
  }

  endpointOfKind(ref: string | number, path: ValuePath, kinds: readonly Endpoint['kind'][], what: string): Endpoint {
    const endpoint = this.endpoint(ref, path);
    if (!kinds.includes(endpoint.kind)) throw this.source.error(path, `must be ${what}; ${endpoint.name} is ${KIND_WORDING[endpoint.kind]}`);
    return endpoint;
  }

  /** An ID for a call's argument: a name is resolved, a number is taken as is (tests call with IDs that do not exist). */
  argumentId(ref: unknown, path: ValuePath): number {
    if (typeof ref === 'number') return ref;
    if (ref === 'hypervisor' || ref === 'host') return 0;
    if (typeof ref === 'string') return this.endpoint(ref, path).id;
    throw this.source.error(path, `must be an endpoint name or a 16-bit ID, got ${show(ref)}`);
  }

  vcpus(endpoint: Endpoint): number {
    return this.vcpusOf.get(endpoint) ?? 1;
  }

  /** A vCPU of the endpoint: below its vCPU count (for the hypervisor, its physical CPUs). */
  checkVcpu(endpoint: Endpoint, vcpu: number, path: ValuePath): void {
    const count = this.vcpus(endpoint);
    const unit = endpoint.kind === 'hypervisor' ? 'CPU' : 'vCPU';
    if (vcpu >= count) throw this.source.error(path, `must be below ${count}: ${endpoint.name} has ${count} ${unit}${count === 1 ? '' : 's'} (0..${count - 1})`);
  }

  /** The component that speaks for a name (world-builder.ts names them): an SP's is the SPMC. */
  component(ref: string | number, path: ValuePath): string {
    if (ref === 'gic' || ref === 'spmd' || ref === 'spmc') return ref;
    const endpoint = this.endpoint(ref, path);
    return endpoint.kind === 'sp' ? 'spmc' : endpoint.name;
  }

  vmNames(): string[] {
    return this.world.vms.map((vm) => vm.name);
  }

  spIds(): number[] {
    return this.world.spmc.partitions.map((sp) => sp.id);
  }

  private known(): string {
    const names = [...this.byId.values()].map((e) => (e.kind === 'sp' ? `${e.name === hex(e.id) ? '' : `${e.name} `}(${hex(e.id)})`.trim() : e.name));
    const shown = names.slice(0, MAX_NAMES_SHOWN).join(', ');
    return names.length > MAX_NAMES_SHOWN ? `${shown} and ${names.length - MAX_NAMES_SHOWN} more` : shown;
  }
}

function ns(text: string): number {
  const value = durationNs(text);
  // The schema let only durations through.
  if (value === null) throw new Error(`bug: '${text}' passed the schema as a duration`);
  return value;
}

// ---------------------------------------------------------------- 3. meaning: calls

interface CallTarget {
  abi: string | null;
  fid: number;
  codec: AnyAbiCodec | null;
}

const ABI_NAMES = Object.keys(FFA_FIDS);

function callTarget(call: string | number, path: ValuePath, resolver: Resolver): CallTarget {
  if (typeof call === 'number') return { abi: abiNameOf(call), fid: call, codec: codecForFid(call) };
  const fid = fidOf(call);
  if (fid !== null) return { abi: call, fid, codec: codecForAbi(call) };
  const guess = fidOf(`FFA_${call}`) !== null ? `FFA_${call}` : closest(call, ABI_NAMES);
  const hint = guess === null ? '' : `did you mean ${guess}? `;
  throw resolver.source.error(path, `unknown ABI '${call}': ${hint}write an FF-A ABI name (FFA_NOTIFICATION_SET, …) or a function ID number`);
}

type CallInput = Extract<StepInput, { from: unknown }>;

function callStep(input: CallInput, path: ValuePath, resolver: Resolver): Extract<StepBody, { kind: 'call' }> {
  const from = resolver.endpoint(input.from, [...path, 'from']);
  if (from.kind === 'hypervisor' && resolver.world.hypervisor.profile !== 'raw') {
    throw resolver.source.error(
      [...path, 'from'],
      `the hypervisor makes calls of its own only with world.hypervisor.profile: raw; the ${resolver.world.hypervisor.profile} profile makes its own SMCs, so a scenario cannot make them for it (use raw, or call from a VM)`,
    );
  }
  const vcpu = input.vcpu ?? 0;
  resolver.checkVcpu(from, vcpu, [...path, 'vcpu']);
  const target = callTarget(input.call, [...path, 'call'], resolver);
  const regs = callRegisters(input, target, path, resolver);
  const expect = expectation(input.expect ?? 'any', target, [...path, 'expect'], resolver);
  return { kind: 'call', from, vcpu, abi: target.abi, fid: target.fid, regs, expect, label: `${target.abi ?? hex(target.fid)} from ${from.name} (vCPU ${vcpu})` };
}

function callRegisters(input: CallInput, target: CallTarget, path: ValuePath, resolver: Resolver): RegisterFile {
  const { source } = resolver;
  if (input.args !== undefined && input.regs !== undefined) throw source.error([...path, 'regs'], 'give args or regs, not both: args are encoded into registers, regs are the registers themselves', 'key');
  if (input.regs !== undefined) return registers(target.fid, ...input.regs.map((value) => BigInt(value)));
  if (target.codec === null) {
    if (input.args === undefined) return registers(target.fid);
    throw source.error([...path, 'args'], `${target.abi ?? hex(target.fid)} has no codec in shared/ffa, so it takes no named args: give raw regs: [x1, x2, …]`, 'key');
  }
  return encodeArgs(target.codec, input.args ?? {}, path, resolver);
}

function encodeArgs(codec: AnyAbiCodec, args: Readonly<Record<string, ArgValue>>, stepPath: ValuePath, resolver: Resolver): RegisterFile {
  const argsPath = [...stepPath, 'args'];
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    const kind = Object.hasOwn(codec.args, key) ? codec.args[key] : undefined;
    if (kind === undefined) throw resolver.source.error([...argsPath, key], unknownArgument(codec, key), 'key');
    converted[key] = argument(kind, value, [...argsPath, key], resolver);
  }
  try {
    return codec.encodeCall(converted);
  } catch (error) {
    // Encoders check that each field fits its bits (abi-codec.ts); anything else they throw is a bug.
    if (!(error instanceof RangeError)) throw error;
    throw encoderRefusal(error, codec, args, stepPath, resolver.source);
  }
}

function unknownArgument(codec: AnyAbiCodec, key: string): string {
  const known = Object.keys(codec.args);
  if (known.length === 0) return `${codec.abi} takes no arguments: remove args`;
  const guess = closest(key, known);
  return `${codec.abi} takes no argument '${key}': ${guess === null ? '' : `did you mean ${guess}? `}it takes ${known.join(', ')}`;
}

/** The encoder's RangeError ("sender must be an integer in 0..2^16-1, got 70000") at the argument it names. */
function encoderRefusal(error: RangeError, codec: AnyAbiCodec, args: Readonly<Record<string, ArgValue>>, stepPath: ValuePath, source: ScenarioSource): ScenarioError {
  const key = Object.keys(codec.args)
    .filter((name) => error.message.startsWith(name))
    .sort((a, b) => b.length - a.length)[0];
  const argsPath = [...stepPath, 'args'];
  const given = Object.keys(args).length > 0;
  if (key === undefined) return source.error(given ? argsPath : [...stepPath, 'call'], `${codec.abi} cannot encode these args: ${error.message}`);
  if (!Object.hasOwn(args, key)) {
    return source.error(given ? argsPath : [...stepPath, 'call'], `${codec.abi} needs the argument '${key}' (${ARG_WORDING[codec.args[key] ?? 'u32']}): add it to args`, given ? 'key' : 'value');
  }
  // "payload[2] must be a bigint in …": the element's own path, in the file's words.
  const rest = error.message.slice(key.length);
  const element = /^\[(\d+)\]/.exec(rest);
  const path = element ? [...argsPath, key, Number(element[1])] : [...argsPath, key];
  const detail = rest.slice(element ? element[0].length : 0).trim().replace('a bigint', 'an integer');
  return source.error(path, `${source.asWritten(detail, path)} (does not fit ${codec.abi}'s registers)`);
}

const ARG_WORDING: Readonly<Record<ArgKind, string>> = {
  endpoint: 'an endpoint name or ID',
  u16: 'a 16-bit number',
  u32: 'a 32-bit number',
  u64: 'a 64-bit value',
  version: 'a version such as "1.2"',
  'feature-id': 'a function ID, an ABI name, or NPI, SRI, MEI, NOTIFICATION',
  'bind-flags': 'flag names or a number',
  'set-flags': 'flag names or a number',
  'get-flags': 'flag names or a number',
  'send2-flags': 'flag names or a number',
  uuid: 'a UUID',
  boolean: 'true or false',
  payload: 'a list of up to 5 register values',
};

const FLAG_TABLES: Readonly<Record<'bind-flags' | 'set-flags' | 'get-flags' | 'send2-flags', FlagTable>> = {
  'bind-flags': BIND_FLAGS,
  'set-flags': SET_FLAGS,
  'get-flags': GET_FLAGS,
  'send2-flags': MSG_SEND2_FLAGS,
};

/** One named argument as its codec takes it (abi-codec.ts ArgKind); range checks are the encoder's. */
function argument(kind: ArgKind, value: ArgValue, path: ValuePath, resolver: Resolver): unknown {
  const { source } = resolver;
  const refuse = (what: string): never => {
    throw source.error(path, `must be ${what}, got ${show(value)}`);
  };
  switch (kind) {
    case 'endpoint':
      return resolver.argumentId(value, path);
    case 'u16':
    case 'u32':
      return typeof value === 'number' ? value : refuse(ARG_WORDING[kind]);
    case 'u64':
      return u64Value(value, path, source);
    case 'version':
      return typeof value === 'string' || typeof value === 'number' ? versionValue(value, path, source) : refuse(ARG_WORDING.version);
    case 'feature-id':
      return featureId(value, path, source);
    case 'bind-flags':
    case 'set-flags':
    case 'get-flags':
    case 'send2-flags':
      return flags(FLAG_TABLES[kind], value, path, source);
    case 'uuid':
      return typeof value === 'string' && isUuid(value) ? value.toLowerCase() : refuse('a UUID such as 486178e0-e7f8-11e3-bc5e-0002a5d5c51b');
    case 'boolean':
      return typeof value === 'boolean' ? value : refuse('true or false');
    case 'payload':
      return Array.isArray(value) ? value.map((item, index) => u64Value(item, [...path, index], source)) : refuse(ARG_WORDING.payload);
  }
}

function u64Value(value: unknown, path: ValuePath, source: ScenarioSource): bigint {
  const big = typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : typeof value === 'bigint' ? value : null;
  if (big === null || big < 0n || big > 0xffff_ffff_ffff_ffffn) throw source.error(path, `must be an unsigned 64-bit integer (decimal or 0x hex), got ${show(value)}`);
  return big;
}

function featureId(value: ArgValue, path: ValuePath, source: ScenarioSource): number {
  if (typeof value === 'number') return value;
  const id = typeof value === 'string' ? featuresIdFromName(value) : null;
  if (id === null) throw source.error(path, `must be a feature (NPI, SRI, MEI, NOTIFICATION), an ABI name or a function ID, got ${show(value)}`);
  return id;
}

/** `[perVcpu, delaySri]` through the flag table, or a plain number (tests of reserved bits). */
function flags(table: FlagTable, value: ArgValue, path: ValuePath, source: ScenarioSource): number {
  if (typeof value === 'number') return value;
  const names = Object.keys(table);
  if (!Array.isArray(value)) throw source.error(path, `must be a list of flag names (${names.join(', ')}) or a number, got ${show(value)}`);
  return value.reduce<number>((bits, name, index) => {
    const bit = typeof name === 'string' && Object.hasOwn(table, name) ? table[name] : undefined;
    if (bit === undefined) throw source.error([...path, index], `unknown flag ${show(name)}: the flags here are ${names.join(', ')}`);
    return (bits | bit) >>> 0;
  }, 0);
}

// ---------------------------------------------------------------- 3. meaning: expectations

function expectation(input: ExpectationInput, target: CallTarget, path: ValuePath, resolver: Resolver): Expectation {
  if (input === 'success' || input === 'any') return { kind: input };
  if ('error' in input) return { kind: 'error', code: input.error };
  if ('version' in input) return versionExpectation(input.version, target, [...path, 'version'], resolver.source);
  if ('regs' in input) return { kind: 'regs', regs: registerExpectation(input.regs, [...path, 'regs'], resolver.source) };
  return { kind: 'success-fields', fields: successFields(input.success, target, [...path, 'success'], resolver) };
}

function versionExpectation(value: string | number, target: CallTarget, path: ValuePath, source: ScenarioSource): Expectation {
  if (target.fid !== FFA_FIDS.FFA_VERSION) {
    throw source.error(path, `is for FFA_VERSION, which returns its version in w0; for ${target.abi ?? hex(target.fid)} expect success, { success: { … } } or { regs: { … } }`, 'key');
  }
  return { kind: 'version', version: value === 'NOT_SUPPORTED' ? value : formatVersion(versionValue(value, path, source)) };
}

function registerExpectation(regs: Readonly<Record<string, number | bigint>>, path: ValuePath, source: ScenarioSource): Record<string, bigint> {
  return Object.fromEntries(
    Object.entries(regs).map(([name, value]) => {
      const big = BigInt(value);
      if (name.startsWith('w') && big > 0xffff_ffffn) throw source.error([...path, name], `${name} is 32 bits: must be at most 0xffffffff, got ${show(big)} (write x${name.slice(1)} for all 64 bits)`);
      return [name, big];
    }),
  );
}

function successFields(fields: Readonly<Record<string, unknown>>, target: CallTarget, path: ValuePath, resolver: Resolver): Record<string, unknown> {
  const abi = target.abi ?? hex(target.fid);
  const table = target.abi === null ? undefined : SUCCESS_FIELDS[target.abi];
  if (target.fid === FFA_FIDS.FFA_VERSION) throw resolver.source.error(path, 'FFA_VERSION returns its version in w0: write expect: { version: "1.2" }', 'key');
  if (table === undefined) throw resolver.source.error(path, `${abi} returns no fields to compare: write expect: success, or { regs: { w2: … } } for raw registers`, 'key');
  return Object.fromEntries(
    Object.entries(fields).map(([field, value]) => {
      const kind = Object.hasOwn(table, field) ? table[field] : undefined;
      if (target.abi === 'FFA_PARTITION_INFO_GET' && field === 'partitions') {
        const why = 'the descriptors go to the caller\'s RX buffer, which ffa-world does not model: expect { count: N }, or call FFA_PARTITION_INFO_GET_REGS, which returns them in registers';
        throw resolver.source.error([...path, field], why, 'key');
      }
      if (kind === undefined) {
        const guess = closest(field, Object.keys(table));
        throw resolver.source.error([...path, field], `${abi} has no result field '${field}': ${guess === null ? '' : `did you mean ${guess}? `}its fields are ${Object.keys(table).join(', ')}`, 'key');
      }
      return [field, successField(kind, value, [...path, field], resolver)];
    }),
  );
}

/** An expected field in the form the codec decodes it (expect.ts compares the two). */
function successField(kind: SuccessFieldKind, value: unknown, path: ValuePath, resolver: Resolver): unknown {
  const { source } = resolver;
  switch (kind) {
    case 'u64':
    case 'bitmap32':
      return BigInt(validate(SUCCESS_FIELD_SCHEMAS[kind], value, source, path));
    case 'u32':
    case 'u16':
    case 'boolean':
      return validate(SUCCESS_FIELD_SCHEMAS[kind], value, source, path);
    case 'id':
      return resolver.argumentId(validate(SUCCESS_FIELD_SCHEMAS.id, value, source, path), path);
    case 'payload': {
      // The codec decodes all five registers: a shorter list means the rest are zero.
      const payload = validate(SUCCESS_FIELD_SCHEMAS.payload, value, source, path).map((item) => BigInt(item));
      return [...payload, ...new Array<bigint>(5 - payload.length).fill(0n)];
    }
    case 'info-lists':
      return validate(SUCCESS_FIELD_SCHEMAS['info-lists'], value, source, path).map((list, index) => ({
        id: resolver.argumentId(list.id, [...path, index, 'id']),
        vcpus: list.vcpus ?? [],
      }));
    case 'partitions':
      return validate(SUCCESS_FIELD_SCHEMAS.partitions, value, source, path).map((partition, index) => ({
        ...partition,
        id: resolver.argumentId(partition.id, [...path, index, 'id']),
      }));
  }
}

// ---------------------------------------------------------------- 3. meaning: other steps

/** A step before its index and location: each kind's own fields and its label. */
type StepBody = Step extends infer S ? (S extends Step ? Omit<S, 'index' | 'location'> : never) : never;
type AwaitInput = Extract<StepInput, { await: unknown }>;

function awaitStep(input: AwaitInput, path: ValuePath, resolver: Resolver): StepBody {
  switch (input.await) {
    case 'interrupt': {
      const to = resolver.endpoint(input.to, [...path, 'to']);
      if (input.vcpu !== undefined) resolver.checkVcpu(to, input.vcpu, [...path, 'vcpu']);
      const at = input.vcpu === undefined ? to.name : `${to.name} (vCPU ${input.vcpu})`;
      return { kind: 'await-interrupt', to, vcpu: input.vcpu ?? null, intid: input.intid, withinNs: ns(input.within), label: `await interrupt ${input.intid} at ${at}` };
    }
    case 'callback': {
      const endpoint = resolver.endpointOfKind(input.in, [...path, 'in'], ['vm', 'host'], 'a VM or the host (callbacks run in a guest driver)');
      return { kind: 'await-callback', in: endpoint, notification: input.notification, withinNs: ns(input.within), label: `await callback ${input.notification} in ${endpoint.name}` };
    }
    case 'idle':
      return { kind: 'await-idle', label: 'await idle' };
    case 'probe': {
      const endpoint = resolver.endpointOfKind(input.in, [...path, 'in'], ['vm', 'host'], 'a VM or the host (a guest kernel probes)');
      return { kind: 'await-probe', in: endpoint, withinNs: ns(input.within), label: `await probe of ${endpoint.name}` };
    }
  }
}

type ExpectNoneInput = Extract<StepInput, { 'expect-none': unknown }>;

function expectNoneStep(input: ExpectNoneInput, path: ValuePath, resolver: Resolver): StepBody {
  const to = resolver.endpoint(input.to, [...path, 'to']);
  if (input.vcpu !== undefined) resolver.checkVcpu(to, input.vcpu, [...path, 'vcpu']);
  const what = input.intid === undefined ? 'interrupt' : `interrupt ${input.intid}`;
  return { kind: 'expect-none-interrupt', to, vcpu: input.vcpu ?? null, intid: input.intid ?? null, forNs: ns(input.for), label: `expect no ${what} at ${to.name} for ${input.for}` };
}

function vmOf(ref: string | number, path: ValuePath, resolver: Resolver): VmDescription {
  const endpoint = resolver.endpointOfKind(ref, path, ['vm', 'host'], 'a VM');
  const vm = resolver.world.vms.find((candidate) => candidate.name === endpoint.name);
  if (vm === undefined) throw new Error(`bug: endpoint ${endpoint.name} has no VM`);
  return vm;
}

type WorkloadInput = Extract<StepInput, { workload: unknown }>;

function workloadStep(input: WorkloadInput, path: ValuePath, resolver: Resolver): StepBody {
  const senders = input.senders?.map((ref, index) => resolver.endpointOfKind(ref, [...path, 'senders', index], ['sp'], 'a partition (SPs send)').id) ?? resolver.spIds();
  const receivers =
    input.receivers === undefined || input.receivers === 'all'
      ? resolver.vmNames()
      : input.receivers.map((ref, index) => vmOf(ref, [...path, 'receivers', index], resolver).name);
  if (input.count !== undefined && input.duration !== undefined) throw resolver.source.error([...path, 'duration'], 'give count or duration, not both', 'key');
  if (input.count === undefined && input.duration === undefined) throw resolver.source.error(path, 'a workload needs an end: add count: N or duration: 5s');
  const end = input.count === undefined ? `for ${input.duration}` : `${input.count} notifications`;
  return {
    kind: 'workload',
    senders,
    receivers,
    ratePerSecond: ratePerSecond(input.rate) ?? 0,
    count: input.count ?? null,
    durationNs: input.duration === undefined ? null : ns(input.duration),
    label: `workload notifications at ${input.rate}, ${end}`,
  };
}

function stepBody(input: StepInput, path: ValuePath, resolver: Resolver): StepBody {
  if ('from' in input) return callStep(input, path, resolver);
  if ('await' in input) return awaitStep(input, path, resolver);
  if ('expect-none' in input) return expectNoneStep(input, path, resolver);
  if ('fault' in input) return { kind: 'fault', fault: faultSpec(input, path, resolver), label: faultLabel(input) };
  if ('workload' in input) return workloadStep(input, path, resolver);
  if ('sleep' in input) return { kind: 'sleep', ns: ns(input.sleep), label: `sleep ${input.sleep}` };
  if ('vcpu' in input) {
    const vm = vmOf(input.vm, [...path, 'vm'], resolver);
    if (input.id >= vm.vcpus) throw resolver.source.error([...path, 'id'], `must be below ${vm.vcpus}: ${vm.name} has ${vm.vcpus} vCPUs`);
    return { kind: 'vcpu', op: input.vcpu, vm: vm.name, vcpu: input.id, label: `vcpu ${input.vcpu} ${vm.name} vCPU ${input.id}` };
  }
  const vm = vmOf(input.name, [...path, 'name'], resolver);
  if (resolver.bareMetal) throw resolver.source.error([...path, 'vm'], `there is no hypervisor to ${input.vm} VMs under hypervisor: none (the host is the machine); CPU hotplug is { vcpu: offline, vm: host, id: N }`);
  return { kind: 'vm', op: input.vm, vm: vm.name, label: `vm ${input.vm} ${vm.name}` };
}

function normalizeStep(input: StepInput, index: number, resolver: Resolver): Step {
  const path: ValuePath = ['steps', index];
  return { ...stepBody(input, path, resolver), index, location: resolver.source.location(path) };
}

// ---------------------------------------------------------------- 3. meaning: faults

function faultSpec(input: FaultInput, path: ValuePath, resolver: Resolver): FaultSpec {
  const at = (key: string): ValuePath => [...path, key];
  const target = (ref: string | number | undefined): Endpoint | null => (ref === undefined ? null : resolver.endpoint(ref, at('to')));
  const limits = (fault: { count?: number; probability?: number }) => ({ count: fault.count ?? null, probability: fault.probability ?? null });
  switch (input.fault) {
    case 'drop-interrupt':
    case 'duplicate-interrupt':
      return { kind: input.fault, intid: input.intid, to: target(input.to), ...limits(input) };
    case 'delay-interrupt':
      return { kind: input.fault, intid: input.intid, to: target(input.to), byNs: ns(input.by), ...limits(input) };
    case 'spurious-interrupt': {
      const to = resolver.endpoint(input.to, at('to'));
      const vcpu = input.vcpu ?? 0;
      resolver.checkVcpu(to, vcpu, at('vcpu'));
      return { kind: input.fault, intid: input.intid, to, vcpu };
    }
    case 'fail-call':
      return { kind: input.fault, fid: callFilter(input.call, at('call'), resolver), between: between(input.between, at('between'), resolver), error: input.error, ...limits(input) };
    case 'delay-call':
      return { kind: input.fault, fid: callFilter(input.call, at('call'), resolver), between: between(input.between, at('between'), resolver), byNs: ns(input.by), ...limits(input) };
    case 'cut-link':
      return { kind: input.fault, between: between(input.between, at('between'), resolver), forNs: ns(input.for) };
    case 'crash': {
      const restart = input['restart-after'];
      return { kind: input.fault, component: resolver.component(input.component, at('component')), restartAfterNs: restart === undefined ? null : ns(restart) };
    }
    case 'stall':
      return { kind: input.fault, component: resolver.component(input.component, at('component')), forNs: ns(input.for) };
    case 'hold-interrupt':
      return { kind: input.fault, intid: input.intid, forNs: ns(input.for) };
    case 'swarm':
      return { kind: input.fault, intensity: input.intensity };
  }
}

/** The calls a call fault matches: null for any call. */
function callFilter(call: string | number | undefined, path: ValuePath, resolver: Resolver): number | null {
  if (call === undefined || call === 'any') return null;
  return callTarget(call, path, resolver).fid;
}

function between(pair: readonly [string | number, string | number], path: ValuePath, resolver: Resolver): [string, string] {
  const a = resolver.component(pair[0], [...path, 0]);
  const b = resolver.component(pair[1], [...path, 1]);
  if (a === b) throw resolver.source.error([...path, 1], `names ${a} again: a link joins two different components`);
  return [a, b];
}

function faultLabel(input: FaultInput): string {
  if ('to' in input) return `fault ${input.fault} intid ${input.intid}${input.to === undefined ? '' : ` to ${input.to}`}`;
  if ('intid' in input) return `fault ${input.fault} intid ${input.intid}`;
  if ('between' in input) return `fault ${input.fault} between ${input.between.join(' and ')}`;
  if ('component' in input) return `fault ${input.fault} ${input.component}`;
  return `fault ${input.fault}`;
}

function timedFault(input: TimedFaultInput, index: number, resolver: Resolver): TimedFault {
  const path: ValuePath = ['faults', index];
  const fault = typeof input.fault === 'object' ? faultSpec(input.fault, [...path, 'fault'], resolver) : faultSpec(input, path, resolver);
  return { atNs: ns(input.at), fault, location: resolver.source.location(path) };
}

// ---------------------------------------------------------------- 3. meaning: checks

function checkSpec(input: CheckInput, index: number, source: ScenarioSource): CheckSpec {
  const path: ValuePath = ['checks', index];
  const location: SourceLocation = source.location(path);
  if (typeof input === 'string') return { name: input, expectFail: false, thresholds: null, location };
  if ('expect-fail' in input) return { name: input['expect-fail'], expectFail: true, thresholds: null, location };
  return { name: 'latency', expectFail: false, thresholds: thresholds(input.latency, [...path, 'latency'], source), location };
}

function thresholds(measures: Readonly<Record<string, Partial<Record<string, string>>>>, path: ValuePath, source: ScenarioSource): LatencyThresholds {
  const entries = Object.entries(measures).map(([measure, limits]) => {
    const set = PERCENTILE_KEYS.filter((key) => limits[key] !== undefined);
    if (set.length === 0) throw source.error([...path, measure], `give at least one threshold: ${PERCENTILE_KEYS.join(', ')} (e.g. p99: 5ms)`);
    return [measure, Object.fromEntries(set.map((key) => [key, ns(limits[key] ?? '')]))] as const;
  });
  if (entries.length === 0) throw source.error(path, 'give at least one measure, e.g. { end-to-end: { p99: 5ms } }');
  return Object.fromEntries(entries);
}

// ---------------------------------------------------------------- the whole

function normalize(input: ScenarioInput, source: ScenarioSource): Scenario {
  const world = normalizeWorld(input.world, source);
  const resolver = new Resolver(world, source);
  return {
    file: source.file,
    name: input.name,
    description: input.description ?? null,
    seed: input.seed ?? null,
    runtime: input.runtime ?? null,
    world,
    steps: (input.steps ?? []).map((step, index) => normalizeStep(step, index, resolver)),
    faults: (input.faults ?? []).map((fault, index) => timedFault(fault, index, resolver)),
    checks: (input.checks ?? []).map((check, index) => checkSpec(check, index, source)),
  };
}
