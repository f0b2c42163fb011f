/**
 * Escaping for everything the outputs embed. Text from a history is arbitrary: a record's data,
 * a fault rule's name, a refusal's reason can hold any string, so nothing from it reaches HTML,
 * SVG or XML without passing here.
 */
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

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an HTML or SVG element's content or a quoted attribute value. */
export function escapeHtml(value: unknown): string {
  return stripInvalidXmlChars(String(value)).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

/**
 * Text for XML content or a quoted attribute value. Tabs and line breaks are written as character
 * references so that an attribute keeps them (a parser normalises literal ones to spaces).
 */
export function escapeXml(value: unknown): string {
  return escapeHtml(value).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
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

