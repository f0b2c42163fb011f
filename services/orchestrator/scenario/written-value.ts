/**
 * What is wrong with a value, when the way the file wrote it tells more than the parsed value
 * does. YAML turns `1e400` into infinity (JSON then prints it as null) and leaves `0xZZ` a
 * string, so "must be a number, got null" or "got "0xZZ"" would leave the author guessing; these
 * say which digit is wrong, or that the number overflowed.
 */

const U64_MAX = (1n << 64n) - 1n;

interface Radix {
  readonly name: string;
  readonly digit: RegExp;
  readonly digits: string;
}

/** YAML 1.2's prefixed integers; `_` separators are the loader's too (yaml's intAsBigInt). */
const RADIXES: Readonly<Record<string, Radix>> = {
  x: { name: 'hex', digit: /^[0-9a-fA-F_]$/, digits: '0-9 and a-f' },
  o: { name: 'octal', digit: /^[0-7_]$/, digits: '0-7' },
  b: { name: 'binary', digit: /^[01_]$/, digits: '0 and 1' },
};

/** Why a prefixed number written as text is not one, or null when its digits are all right. */
function radixProblem(text: string, quoted: boolean): string | null {
  const match = /^[-+]?0([xXoObB])(.*)$/s.exec(text);
  const radix = match ? RADIXES[(match[1] as string).toLowerCase()] : undefined;
  if (!match || !radix) return null;
  const digits = match[2] as string;
  if (digits === '') return `no ${radix.name} digits after 0${match[1] as string}`;
  const bad = [...digits].find((c) => !radix.digit.test(c));
  if (bad !== undefined) return `${JSON.stringify(bad)} is not ${/^[aeiou]/.test(radix.name) ? 'an' : 'a'} ${radix.name} digit, which are ${radix.digits}`;
  return quoted ? 'a number in quotes is text: write it without the quotes' : null;
}

/**
 * What is wrong with `value` as `written` (its source text), or null when the writing tells
 * nothing more than the message already says.
 */
export function writingProblem(written: string, value: unknown): string | null {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    if (Number.isNaN(value)) return 'not a number';
    return /inf/i.test(written) ? 'infinity, not a number' : 'too large for any number: it overflows to infinity';
  }
  if (typeof value === 'bigint' && value > U64_MAX) return `needs ${value.toString(2).length} bits, more than 64`;
  if (typeof value === 'string') return radixProblem(value, /^["']/.test(written));
  return null;
}
