/**
 * Values the reader takes as the file wrote them: durations into ns, versions read from their
 * source text, IDs shown in hex.
 */
import { formatVersion, isValidVersion, parseVersion } from '../../../../shared/ffa/index.ts';
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

/** The encoded version a written one stands for, or null: "1.2", an unquoted 1.2 read from its source text, or 0x10002. */
function encodedVersion(value: string | number, path: ValuePath, source: ScenarioSource): number | null {
  const written = typeof value === 'string' ? value : (source.sourceText(path) ?? String(value));
  if (typeof value === 'number' && !written.includes('.')) return isValidVersion(value) ? value : null;
  return parseVersion(written);
}

/**
 * A version as the file wrote it: "1.2", an unquoted 1.2 (a YAML float, read from its source text
 * so that 1.10 stays 1.10), or an integer already encoded (0x10002). For what a world runs at and
 * what FFA_VERSION answers: bit 31 is not part of a version (docs/ffa-reference.md §1.4).
 */
export function versionValue(value: string | number, path: ValuePath, source: ScenarioSource, orElse = ''): number {
  const encoded = encodedVersion(value, path, source);
  if (encoded === null) throw source.error(path, `must be an FF-A version such as "1.2" (MAJOR.MINOR)${orElse}, got ${source.written(path, value)}`);
  return encoded;
}

/**
 * FFA_VERSION's argument: a version as versionValue reads it, or any number w1 holds. A caller may
 * send what no version is (bit 31 set) to see it refused, as TF-A's test_ffa_version_bit31 does.
 */
export function versionArgument(value: unknown, path: ValuePath, source: ScenarioSource): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) return value;
  const encoded = typeof value === 'string' || typeof value === 'number' ? encodedVersion(value, path, source) : null;
  if (encoded === null) throw source.error(path, `must be an FF-A version such as "1.2" or a 32-bit number (w1), got ${source.written(path, value)}`);
  return encoded;
}

/** A version as the loaded form keeps it: "1.2". */
export const versionText = (value: string | number, path: ValuePath, source: ScenarioSource, orElse = ''): string => formatVersion(versionValue(value, path, source, orElse));
