/**
 * Values the reader takes as the file wrote them: durations into ns, versions read from their
 * source text, IDs shown in hex.
 */
import { formatVersion, isValidVersion, parseVersion } from '../../../../shared/ffa/index.ts';
import { show } from '../../../../shared/config/zod-kit.ts';
import type { ScenarioSource, ValuePath } from '../errors.ts';
import { durationNs } from '../value-shapes.ts';

export const hex = (value: number | bigint): string => `0x${value.toString(16)}`;

/** A duration the schema let through, in ns. */
export function ns(text: string): number {
  const value = durationNs(text);
  // The schema let only durations through.
  if (value === null) throw new Error(`bug: '${text}' passed the schema as a duration`);
  return value;
}

/**
 * A version as the file wrote it: "1.2", an unquoted 1.2 (a YAML float, read from its source text
 * so that 1.10 stays 1.10), or an integer already encoded (0x10002).
 */
export function versionValue(value: string | number, path: ValuePath, source: ScenarioSource): number {
  const written = typeof value === 'string' ? value : (source.sourceText(path) ?? String(value));
  const encoded = typeof value === 'number' && !written.includes('.') ? (isValidVersion(value) ? value : null) : parseVersion(written);
  if (encoded === null) throw source.error(path, `must be an FF-A version such as "1.2" (MAJOR.MINOR), got ${show(value)}`);
  return encoded;
}

/** A version as the loaded form keeps it: "1.2". */
export const versionText = (value: string | number, path: ValuePath, source: ScenarioSource): string => formatVersion(versionValue(value, path, source));
