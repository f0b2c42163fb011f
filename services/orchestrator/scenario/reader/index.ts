/**
 * The scenario reader: a YAML file (docs/scenarios.md, a public interface) in, the loaded form
 * (../types.ts) out, or a ScenarioError naming file, line and column and what to change.
 *
 * Three passes, each refusing with a position:
 * 1. YAML (yaml.ts): parsed with node ranges kept; integers exactly; the settings given beside the
 *    file (`--set spmc.profile=hafnium`, settings.ts) written into the document, so the passes
 *    below judge them as the file's own values.
 * 2. Shape (shape.ts): the zod schema (../schema.ts); unknown keys are refused everywhere.
 * 3. Meaning: the world is possible (world.ts), endpoints exist (endpoints.ts), arguments are the
 *    ABI's own (calls.ts, expectations.ts); then the normalization: counts expanded, defaults
 *    filled in, calls encoded to their registers through the ABI's codec (shared/ffa), durations
 *    in ns (steps.ts, faults.ts, checks.ts).
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
import { ScenarioError, type ScenarioSource } from '../errors.ts';
import type { CheckSpec, Scenario, Step, TimedFault, WorldDescription } from '../types.ts';
import { checkSpec } from './checks.ts';
import { Resolver } from './endpoints.ts';
import { timedFault } from './faults.ts';
import { PendingCalls } from './pending-calls.ts';
import { Problems } from './problems.ts';
import type { ScenarioSetting } from './settings.ts';
import { readParts, type ScenarioParts } from './shape.ts';
import { normalizeStep } from './steps.ts';
import { checkVersionNegotiation } from './version-negotiation.ts';
import { normalizeWorld } from './world.ts';
import { parseYaml } from './yaml.ts';
import { readScenarioFileText } from '../scenario-file.ts';

export { ScenarioError } from '../errors.ts';
export { parseSetting, SETTING_LIMITS, type ScenarioSetting } from './settings.ts';

/**
 * Reads and loads one scenario file, with `settings` (settings.ts) in place of the file's values;
 * an unreadable file is a ScenarioError like any other.
 */
export function readScenarioFile(path: string, settings: readonly ScenarioSetting[] = []): Scenario {
  return readScenarioText(readScenarioFileText(path), path, settings);
}

/**
 * Loads a scenario from its text; `file` names it in messages and in the result. Throws
 * ScenarioError only, with every problem of the file it found.
 */
export function readScenarioText(text: string, file: string, settings: readonly ScenarioSetting[] = []): Scenario {
  const { source, value } = parseYaml(text, file, settings);
  if (value === null || value === undefined) throw new ScenarioError({ file, line: 1, column: 1 }, 'the file holds no scenario: write at least its name (name: my-scenario)');
  const problems = new Problems();
  const parts = readParts(value, source, problems);
  const meaning = readMeaning(parts, source, problems);
  problems.throwIfAny();
  if (parts.whole === null || meaning === null) throw new Error('bug: a scenario with no problem did not read whole');
  const { whole } = parts;
  const given = settings.length === 0 ? {} : { settings: settings.map(({ key, value }) => ({ key, value })) };
  return { file, name: whole.name, description: whole.description ?? null, seed: whole.seed ?? null, runtime: whole.runtime ?? null, ...given, ...meaning };
}

interface Meaning {
  world: WorldDescription;
  steps: Step[];
  faults: TimedFault[];
  checks: CheckSpec[];
}

/** Pass 3, meaning: the world first, then what names it; null when there is no valid world to name. */
function readMeaning(parts: ScenarioParts, source: ScenarioSource, problems: Problems): Meaning | null {
  if (parts.world === null) return null;
  const world = normalizeWorld(parts.world, source, problems);
  const resolver = new Resolver(world, source);
  const pending = new PendingCalls(source);
  const steps = each(parts.steps, (step, index) => normalizeStep(step, index, resolver, pending), problems);
  const faults = each(parts.faults, (fault, index) => timedFault(fault, index, resolver), problems);
  const checks = each(parts.checks, (check, index) => checkSpec(check, index, source), problems);
  // The order of the calls is judged only when every step could be read: a step left out could be the one that makes it right.
  if (steps.length === parts.steps.length) problems.attempt(() => checkVersionNegotiation(world, steps, source));
  return { world, steps, faults, checks };
}

/** Each valid part read, a part's problem noted and the part left out. */
function each<I, O>(parts: readonly (I | null)[], read: (part: I, index: number) => O, problems: Problems): O[] {
  return parts.flatMap((part, index) => {
    if (part === null) return [];
    const value = problems.attempt(() => read(part, index));
    return value === undefined ? [] : [value];
  });
}
