/**
 * Settings given beside a scenario file (`ffa-world run FILE --set spmc.profile=hafnium`, and
 * `ffa-world compare`, which runs one world per combination of them): each replaces one value of
 * the file's `world` in the parsed YAML document, before the shape and meaning passes, so the
 * reader judges a set value exactly as it judges one written in the file. A refusal of a set value
 * names the setting instead of a line of the file (errors.ts `setting`).
 *
 * A key is a path under `world`, dots between its parts, list items by index: `cpus`,
 * `spmc.profile`, `hypervisor.policies.guestInterrupts`, `vms.0.driver` (a leading `world.` is
 * allowed). A value is one YAML scalar, read as the file would read it: `4` a number, `true` a
 * flag, `"1.10"` or `1.10` a version, anything else a word. Mappings and lists are set key by key.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { fieldPath } from '../../../../shared/config/parse-config.ts';
import { ScenarioError, type ScenarioSource, type ValuePath } from '../errors.ts';

/** One `--set KEY=VALUE`, as the command line wrote it. */
export interface ScenarioSetting {
  readonly key: string;
  readonly value: string;
}

/** A setting on its way into the document: its path from the file's root, and how it was written. */
export interface PlacedSetting {
  readonly path: ValuePath;
  /** "spmc.profile=hafnium": how messages name it. */
  readonly written: string;
  readonly value: string;
}

export const SETTING_LIMITS = {
  /** Settings given to one scenario. */
  settings: 16,
  keyLength: 200,
  valueLength: 200,
  /** Parts of a key: `vms.0.policies.maxIdsQuirk` has 4. */
  keyParts: 8,
} as const;

const KEY_PART = /^[A-Za-z][A-Za-z0-9_-]*$|^(?:0|[1-9][0-9]{0,3})$/;

/** "spmc.profile" → ['world', 'spmc', 'profile']; a string says what is wrong with the key. */
export function settingPath(key: string): ValuePath | string {
  if (key.length === 0) return 'a setting needs a key before its =, such as spmc.profile=hafnium';
  if (key.length > SETTING_LIMITS.keyLength) return `the key '${key.slice(0, 40)}…' is longer than ${SETTING_LIMITS.keyLength} characters`;
  const parts = key.split('.');
  if (parts[0] === 'world') parts.shift();
  if (parts.length === 0) return `'${key}' names the whole world: name one of its keys, such as spmc.profile`;
  if (parts.length > SETTING_LIMITS.keyParts) return `'${key}' has more than ${SETTING_LIMITS.keyParts} parts`;
  const bad = parts.find((part) => !KEY_PART.test(part));
  if (bad !== undefined) return `'${key}': '${bad}' is neither a key (a letter, then letters, digits, - or _) nor a list index (0, 1, …); parts are separated by dots`;
  return ['world', ...parts.map((part) => (/^[0-9]/.test(part) ? Number(part) : part))];
}

/** "KEY=VALUE" split at its first =; a string says what is wrong with it. */
export function parseSetting(text: string): ScenarioSetting | string {
  const at = text.indexOf('=');
  if (at < 0) return `'${text}' is not KEY=VALUE (such as spmc.profile=hafnium)`;
  const key = text.slice(0, at).trim();
  const value = text.slice(at + 1).trim();
  const path = settingPath(key);
  if (typeof path === 'string') return path;
  if (value === '') return `${key} has no value after its =`;
  if (value.length > SETTING_LIMITS.valueLength) return `the value of ${key} is longer than ${SETTING_LIMITS.valueLength} characters`;
  return { key, value };
}

/** Each setting placed: its path checked for form; two settings of one key are refused. */
export function placeSettings(settings: readonly ScenarioSetting[], file: string): PlacedSetting[] {
  if (settings.length > SETTING_LIMITS.settings) throw new ScenarioError({ file, line: 1, column: 1 }, `more than ${SETTING_LIMITS.settings} settings given`);
  const placed = settings.map(({ key, value }) => {
    const path = settingPath(key);
    if (typeof path === 'string') throw new ScenarioError({ file, line: 1, column: 1, setting: `${key}=${value}` }, path);
    return { path, written: `${key}=${value}`, value };
  });
  const keys = placed.map((setting) => setting.path.join('.'));
  const twice = keys.find((key, index) => keys.indexOf(key) !== index);
  if (twice !== undefined) throw new ScenarioError({ file, line: 1, column: 1 }, `${twice.replace(/^world\./, '')} is set twice: give each key once`);
  return placed;
}

/**
 * Writes each setting's value into the document. The path's mappings are made where the file has
 * none (`hypervisor.policies` in a file without policies); a list item must already exist, and a
 * path may not run through a value or a YAML alias.
 */
export function applySettings(doc: Document, settings: readonly PlacedSetting[], source: ScenarioSource): void {
  for (const setting of settings) {
    checkRoute(doc, setting, source);
    doc.setIn([...setting.path], doc.createNode(scalarOf(setting, source)));
  }
}

function checkRoute(doc: Document, setting: PlacedSetting, source: ScenarioSource): void {
  const refuse = (at: ValuePath, reason: string) => {
    const where = fieldPath(at);
    return new ScenarioError({ ...source.location(at), setting: setting.written }, where === '' ? `the file ${reason}` : `${where}: ${reason}`);
  };
  let node: unknown = doc.contents;
  for (const [depth, key] of setting.path.entries()) {
    const here = setting.path.slice(0, depth);
    if (node === null || node === undefined) {
      // Missing mappings are made; a list cannot be (its items would have no other keys).
      const index = setting.path.slice(depth).find((part) => typeof part === 'number');
      if (index !== undefined) throw refuse(here, `is not in the file, so it has no item ${String(index)}`);
      return;
    }
    if (isAlias(node)) throw refuse(here, 'is a YAML alias (*name): set the key in the anchored value instead');
    if (isSeq(node)) {
      if (typeof key !== 'number') throw refuse(here, `is a list: name an item by its index (0..${node.items.length - 1}), not '${String(key)}'`);
      if (key >= node.items.length) throw refuse(here, `is a list of ${node.items.length}: it has no item ${key}`);
      node = node.items[key];
    } else if (isMap(node)) {
      if (typeof key === 'number') throw refuse(here, `is a mapping: name one of its keys, not the index ${key}`);
      node = node.get(key, true);
    } else {
      throw refuse(here, `is a value${isScalar(node) ? ` (${String(node.value)})` : ''}, not a mapping or a list: '${String(key)}' under it names nothing`);
    }
  }
}

/** The value as one YAML scalar, read as the file's own values are (integers exactly). */
function scalarOf(setting: PlacedSetting, source: ScenarioSource): unknown {
  const parsed = parseDocument(setting.value, { intAsBigInt: true });
  if (parsed.errors.length > 0 || !isScalar(parsed.contents)) {
    throw source.error(setting.path, `must be one YAML value (a word, a number, true or false), got ${setting.value}: mappings and lists are set one key at a time`);
  }
  return parsed.contents.value;
}
