import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse } from 'yaml';
import { scenarioJsonSchema, scenarioJsonSchemaText } from './json-schema.ts';

const COMMITTED = fileURLToPath(new URL('../../../scenarios/scenario.schema.json', import.meta.url));
const SAMPLE = fileURLToPath(new URL('fixtures/valid-xen.yaml', import.meta.url));

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
};

const schema = scenarioJsonSchema() as JsonSchema;

test('the committed scenarios/scenario.schema.json is what the zod schema generates (run npx tsx scripts/scenario-schema.ts)', () => {
  assert.equal(readFileSync(COMMITTED, 'utf8'), scenarioJsonSchemaText());
});

test('the JSON Schema is draft 7 with the top-level keys, name required, and no other keys allowed', () => {
  const generated = scenarioJsonSchema();
  assert.equal(generated.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(schema.type, 'object');
  assert.deepEqual(Object.keys(schema.properties ?? {}), ['name', 'description', 'seed', 'runtime', 'world', 'steps', 'faults', 'checks']);
  assert.deepEqual(schema.required, ['name']);
  assert.equal(schema.additionalProperties, false);
  const world = schema.properties?.world;
  assert.equal(world?.additionalProperties, false);
  assert.deepEqual(Object.keys(world?.properties ?? {}), ['cpus', 'spmc', 'hypervisor', 'vms', 'serviceTimes']);
});

test('every object in the JSON Schema refuses unknown keys, except the open maps (policies, args, fields)', () => {
  const open: string[] = [];
  const walk = (node: JsonSchema, path: string): void => {
    if (node.type === 'object' && node.properties !== undefined) assert.equal(node.additionalProperties, false, `${path} refuses unknown keys`);
    if (node.type === 'object' && node.properties === undefined) open.push(path);
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${key}`);
    if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}.*`);
    if (node.items) walk(node.items, `${path}[]`);
    [...(node.anyOf ?? []), ...(node.oneOf ?? [])].forEach((branch) => walk(branch, path));
  };
  walk(schema, '');
  const openKeys = new Set(open.map((path) => path.split('.').pop()));
  assert.deepEqual([...openKeys].sort(), ['args', 'latency', 'policies', 'regs', 'success']);
});

/**
 * Just enough of a JSON Schema validator for this schema's keywords (ajv is not a dependency):
 * type, enum, const, properties, required, additionalProperties, items, anyOf, oneOf, minimum, maximum.
 */
function problems(node: JsonSchema, value: unknown, path: string): string[] {
  const branches = node.anyOf ?? node.oneOf;
  if (branches) return branches.some((branch) => problems(branch, value, path).length === 0) ? [] : [`${path}: matches no branch`];
  const found: string[] = [];
  if (node.type !== undefined && ![node.type].flat().some((type) => hasType(type, value))) return [`${path}: not ${String(node.type)}`];
  if (node.enum && !node.enum.includes(value)) found.push(`${path}: not one of ${node.enum.join(', ')}`);
  if (node.const !== undefined && node.const !== value) found.push(`${path}: not ${String(node.const)}`);
  if ((typeof value === 'number' || typeof value === 'bigint') && node.minimum !== undefined && value < node.minimum) found.push(`${path}: below ${node.minimum}`);
  if ((typeof value === 'number' || typeof value === 'bigint') && node.maximum !== undefined && value > node.maximum) found.push(`${path}: above ${node.maximum}`);
  if (Array.isArray(value) && node.items) value.forEach((item, index) => found.push(...problems(node.items as JsonSchema, item, `${path}[${index}]`)));
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) found.push(...objectProblems(node, value as Record<string, unknown>, path));
  return found;
}

function objectProblems(node: JsonSchema, value: Record<string, unknown>, path: string): string[] {
  const found = (node.required ?? []).filter((key) => !(key in value)).map((key) => `${path}.${key}: missing`);
  for (const [key, item] of Object.entries(value)) {
    const property = node.properties?.[key] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
    if (property === undefined && node.additionalProperties === false) found.push(`${path}.${key}: unknown key`);
    if (property !== undefined) found.push(...problems(property, item, `${path}.${key}`));
  }
  return found;
}

function hasType(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'bigint' || Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    default:
      return typeof value === type;
  }
}

test('the JSON Schema accepts the sample scenario and refuses it with an unknown key', () => {
  const sample = parse(readFileSync(SAMPLE, 'utf8'), { intAsBigInt: true }) as Record<string, unknown>;
  assert.deepEqual(problems(schema, sample, ''), []);
  assert.deepEqual(problems(schema, { ...sample, step: [] }, ''), ['.step: unknown key']);
  assert.deepEqual(problems(schema, { ...sample, steps: [{ sleep: '1ms', for: '2ms' }] }, ''), ['.steps[0]: matches no branch']);
});

test('64-bit values are integers in the JSON Schema, so an editor takes 0xffffffffffffffff', () => {
  const call = schema.properties?.steps?.items?.anyOf?.find((branch) => branch.properties?.['from'] !== undefined);
  assert.deepEqual(call?.properties?.regs?.items?.type, 'integer');
  assert.deepEqual(problems(schema, { name: 'x', steps: [{ from: 'vm1', call: 'FFA_ID_GET', regs: [0xffff_ffff_ffff_ffffn] }] }, ''), []);
});
