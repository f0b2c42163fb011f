/**
 * The checks (pass 3, meaning): a checker's name, `{ expect-fail: name }`, or latency thresholds
 * per measure, in ns.
 */
import type { ScenarioSource, ValuePath } from '../errors.ts';
import { PERCENTILE_KEYS, type CheckInput } from '../schema.ts';
import { closest } from '../../../../shared/config/zod-kit.ts';
import { LATENCY_HOPS, LATENCY_MEASURES, latencyMeasureOf, type CheckSpec, type LatencyThresholds, type SourceLocation } from '../types.ts';
import { ns } from './values.ts';

export function checkSpec(input: CheckInput, index: number, source: ScenarioSource): CheckSpec {
  const path: ValuePath = ['checks', index];
  const location: SourceLocation = source.location(path);
  if (typeof input === 'string') return { name: input, expectFail: false, thresholds: null, location };
  if ('expect-fail' in input) return { name: input['expect-fail'], expectFail: true, thresholds: null, location };
  return { name: 'latency', expectFail: false, thresholds: thresholds(input.latency, [...path, 'latency'], source), location };
}

function thresholds(measures: Readonly<Record<string, Partial<Record<string, string>>>>, path: ValuePath, source: ScenarioSource): LatencyThresholds {
  const entries = Object.entries(measures).map(([given, limits]) => {
    const measure = latencyMeasureOf(given);
    if (measure === null) {
      const near = closest(given.replaceAll('->', '→'), LATENCY_MEASURES);
      throw source.error([...path, given], `unknown latency measure ${given}${near ? ` (did you mean ${near}?)` : ''}: end-to-end, corrected, arrival→set, a hop (${LATENCY_HOPS.join(', ')}), or a hop's part, hop:transport or hop:protocol`, 'key');
    }
    const set = PERCENTILE_KEYS.filter((key) => limits[key] !== undefined);
    if (set.length === 0) throw source.error([...path, given], `give at least one threshold: ${PERCENTILE_KEYS.join(', ')} (e.g. p99: 5ms)`);
    return [measure, Object.fromEntries(set.map((key) => [key, ns(limits[key] ?? '')]))] as const;
  });
  const repeated = entries.find(([measure], index) => entries.findIndex(([other]) => other === measure) !== index);
  if (repeated) throw source.error(path, `the measure ${repeated[0]} is given twice (once with -> for the arrow?)`);
  if (entries.length === 0) throw source.error(path, 'give at least one measure, e.g. { end-to-end: { p99: 5ms } }');
  return Object.fromEntries(entries);
}

