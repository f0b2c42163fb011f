/**
 * What `ffa-world compare` runs: every combination of the settings given (`--set KEY=V1,V2`, each
 * key an axis) times the seeds, each combination a scenario read with its settings in place of the
 * file's values (scenario/reader/settings.ts). Bounded: a comparison of 64 worlds is already more
 * than a page can set side by side.
 */
import { parseSetting, SETTING_LIMITS, type ScenarioSetting } from '../scenario/reader/index.ts';
import { COMPARE_LIMITS } from './limits.ts';

export { COMPARE_LIMITS };

/** One `--set KEY=V1,V2,…`: a key and the values it takes in turn. */
export interface CompareAxis {
  key: string;
  values: string[];
}

/** `KEY=V1,V2` checked as settings are (key form, value present and bounded); a string says what is wrong. */
export function parseAxis(text: string): CompareAxis | string {
  const at = text.indexOf('=');
  if (at < 0) return `--set '${text}' is not KEY=VALUE[,VALUE…] (such as spmc.profile=optee,hafnium)`;
  const key = text.slice(0, at).trim();
  const values = text.slice(at + 1).split(',').map((value) => value.trim());
  if (values.length > COMPARE_LIMITS.valuesPerKey) return `--set ${key} has ${values.length} values, more than ${COMPARE_LIMITS.valuesPerKey}`;
  for (const value of values) {
    const setting = parseSetting(`${key}=${value}`);
    if (typeof setting === 'string') return `--set ${text}: ${setting}`;
  }
  const twice = values.find((value, index) => values.indexOf(value) !== index);
  if (twice !== undefined) return `--set ${key} gives ${twice} twice`;
  return { key, values };
}

/** The axes of every `--set` given, checked together: a key given twice is refused, and the count of combinations bounded. */
export function parseAxes(texts: readonly string[]): CompareAxis[] | string {
  if (texts.length > SETTING_LIMITS.settings) return `more than ${SETTING_LIMITS.settings} --set options`;
  const axes: CompareAxis[] = [];
  for (const text of texts) {
    const axis = parseAxis(text);
    if (typeof axis === 'string') return axis;
    const bare = (key: string) => key.replace(/^world\./, '');
    if (axes.some((other) => bare(other.key) === bare(axis.key))) return `--set ${axis.key} is given twice: give its values in one --set, comma-separated`;
    axes.push(axis);
  }
  const count = combinationCount(axes);
  if (count > COMPARE_LIMITS.combinations) {
    return `${axes.map((a) => a.values.length).join(' × ')} = ${count} combinations, more than ${COMPARE_LIMITS.combinations}: give fewer values`;
  }
  return axes;
}

export function combinationCount(axes: readonly CompareAxis[]): number {
  return axes.reduce((count, axis) => count * axis.values.length, 1);
}

/** Every combination of the axes' values, the first axis changing slowest. */
export function combinations(axes: readonly CompareAxis[]): ScenarioSetting[][] {
  return axes.reduce<ScenarioSetting[][]>(
    (partial, axis) => partial.flatMap((settings) => axis.values.map((value) => [...settings, { key: axis.key, value }])),
    [[]],
  );
}

/** A, B, … Z, AA, AB, …: a combination's column. */
export function columnName(index: number): string {
  const letter = String.fromCharCode(65 + (index % 26));
  return index < 26 ? letter : `${columnName(Math.floor(index / 26) - 1)}${letter}`;
}
