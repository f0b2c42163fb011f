/**
 * Escaping for everything the outputs embed. Text from a history is arbitrary: a record's data,
 * a fault rule's name, a refusal's reason can hold any string, so nothing from it reaches HTML
 * or SVG without passing here. The escaping itself is escape-goat's; what is added here is what
 * XML 1.0 allows at all (an SVG inlined in the page is XML). JUnit XML is written by xmlbuilder2.
 */
import { htmlEscape } from 'escape-goat';
import { hex } from '../../../shared/ffa/format.ts';

/**
 * Characters XML 1.0 forbids anywhere, even escaped (C0 controls other than tab, LF and CR,
 * lone surrogates, U+FFFE and U+FFFF). They are replaced, not dropped, so a reader sees that
 * something was there.
 */
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function stripInvalidXmlChars(text: string): string {
  return text.replace(XML_INVALID, '\ufffd');
}

/** Text for an HTML or SVG element's content or a quoted attribute value (& < > " ' escaped). */
export function escapeHtml(value: unknown): string {
  return htmlEscape(stripInvalidXmlChars(String(value)));
}

/** A JSON.stringify replacer: 64-bit values as "0x…" hex, as the history file writes them. */
export function bigintAsHex(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? hex(value) : value;
}

/** A value with every bigint turned into its "0x…" form (for trace args, which are plain JSON). */
export function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, bigintAsHex) ?? 'null') as unknown;
}

/** At most `max` characters, with an ellipsis when cut (the full text goes in a tooltip). */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

