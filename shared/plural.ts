/**
 * "1 notification", "2 notifications": a count with its noun, for the lines people read. A noun
 * is its singular (the plural adds an s) or both forms: ['threshold exceeded', 'thresholds exceeded'].
 */
export type Noun = string | readonly [one: string, many: string];

export function nounFor(count: number, noun: Noun): string {
  const [one, many] = typeof noun === 'string' ? [noun, `${noun}s`] : noun;
  return count === 1 ? one : many;
}

export function plural(count: number, noun: Noun): string {
  return `${count.toLocaleString('en')} ${nounFor(count, noun)}`;
}
