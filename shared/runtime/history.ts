/**
 * The run's history (docs/design.md §8): every message sent and delivered (calls with their
 * registers in and out), every interrupt frame, every fault applied, every component start and
 * stop, and every semantic event a component records. It is streamed to a file as JSON lines as
 * the run goes; 64-bit values are written as "0x…" strings so nothing passes through a float.
 */
import { createHash } from 'node:crypto';
import { constants as bufferConstants } from 'node:buffer';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { CallMessage, Envelope, Message, ReturnMessage } from '../protocol/messages.ts';
import { readTextFileBounded } from './files.ts';
import type { RecordData } from '../protocol/records.ts';

/**
 * What happened to a component. `tail-missing` is no event of the world: a merged history says
 * with it that this component's own history file stops early (its process was killed before it
 * wrote its end), at the time of the last event the file holds.
 */
export type ComponentEventName = 'start' | 'stop' | 'crash' | 'restart' | 'link-lost' | 'tail-missing';

export type HistoryEvent =
  | { type: 'send'; from: string; to: string; message: Message }
  | { type: 'deliver'; from: string; to: string; message: Message }
  | { type: 'fault'; rule: string; action: string; from: string; to: string; message: Message }
  | { type: 'refused'; reason: string; from: string; to: string; message: Message }
  | { type: 'component'; component: string; event: ComponentEventName; detail: string }
  | { type: 'call-failed'; component: string; to: string; id: number; reason: string }
  | { type: 'record'; component: string; data: RecordData };

/** An event as stored: with its sequence number, time (ns) and the runtime that produced it. */
export interface HistoryEntry {
  seq: number;
  t: number;
  event: HistoryEvent;
}

/** Where events go. `append` must not lose an event once it returns. */
export interface HistorySink {
  append(entry: HistoryEntry): void;
  close(): void;
}

/** JSON with 64-bit values as "0x…" hex strings. */
export function encodeHistoryLine(entry: HistoryEntry): string {
  const { event } = entry;
  if ((event.type === 'send' || event.type === 'deliver') && (event.message.kind === 'call' || event.message.kind === 'return')) {
    return encodeTrafficLine(entry.seq, entry.t, event.type, event.from, event.to, event.message);
  }
  return encodeGenericLine(entry);
}

function encodeGenericLine(entry: HistoryEntry): string {
  return JSON.stringify(entry, hexBigints);
}

const hexRegister = (r: bigint): string => (r === 0n ? '"0x0"' : `"0x${r.toString(16)}"`);

/**
 * The hot path: calls and returns are most of a history. Same bytes as encodeGenericLine (a test
 * holds it to that), built without JSON.stringify's replacer, which costs more than the rest of
 * a simulated hop.
 */
function encodeTrafficLine(
  seq: number,
  t: number,
  type: 'send' | 'deliver',
  from: string,
  to: string,
  message: CallMessage | ReturnMessage,
): string {
  const head = `{"seq":${seq},"t":${t},"event":{"type":"${type}","from":${JSON.stringify(from)},"to":${JSON.stringify(to)},"message":`;
  const regs = message.regs.map(hexRegister).join(',');
  // Buffer memory is rare (a few calls of a run carry any): the generic way is fast enough for it.
  const memory = message.memory === null ? 'null' : JSON.stringify(message.memory, hexBigints);
  if (message.kind === 'return') return `${head}{"kind":"return","id":${message.id},"regs":[${regs}],"memory":${memory}}}}`;
  return `${head}{"kind":"call","id":${message.id},"conduit":${JSON.stringify(message.conduit)},"endpoint":${message.endpoint},"vcpu":${message.vcpu},"cpu":${message.cpu},"regs":[${regs}],"memory":${memory}}}}`;
}

function hexBigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value;
}

/** For tests: the generic encoder, which the hot path must match byte for byte. */
export const encodeHistoryLineGeneric = encodeGenericLine;

const HEX_U64 = /^0x[0-9a-f]{1,16}$/;

const asU64 = (value: unknown): unknown => (typeof value === 'string' && HEX_U64.test(value) ? BigInt(value) : value);

/**
 * Parse a history line back; register values ("0x…" strings inside `regs`) and the addresses of
 * an RX/TX descriptor in buffer memory (shared/ffa/buffer-content.ts) become bigints.
 */
export function decodeHistoryLine(line: string): HistoryEntry {
  const value: unknown = JSON.parse(line);
  bigintsInPlace(value);
  return value as HistoryEntry;
}

/**
 * Every `regs` array's "0x…" strings, and an RX/TX descriptor's buffer addresses, made bigints,
 * in place. A walk after JSON.parse rather than a reviver: the reviver's call per value took two
 * thirds of the time a large history took to read.
 */
function bigintsInPlace(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) bigintsInPlace(item);
    return;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    const field = object[key];
    if (key === 'regs' && Array.isArray(field)) object[key] = field.map(asU64);
    else if (key === 'content' && typeof field === 'object' && field !== null && (field as { kind?: unknown }).kind === 'rxtx-descriptor') {
      const descriptor = field as Record<string, unknown>;
      descriptor['rx'] = asU64(descriptor['rx']);
      descriptor['tx'] = asU64(descriptor['tx']);
    } else bigintsInPlace(field);
  }
}

/**
 * Writes each entry to the file as it is appended (write(2) per entry, no user-space buffer), so
 * a crash of the run loses nothing already appended. Keeps a running SHA-256 of the bytes.
 */
export class FileHistorySink implements HistorySink {
  /** Entries appended. */
  count = 0;
  private readonly fd: number;
  private readonly hash = createHash('sha256');
  private closed = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  append(entry: HistoryEntry): void {
    if (this.closed) throw new Error(`history ${this.path} appended after close`);
    const line = `${encodeHistoryLine(entry)}\n`;
    this.hash.update(line);
    writeSync(this.fd, line);
    this.count++;
  }

  /** The hex SHA-256 of everything written so far (valid once, at close). */
  digest(): string {
    return this.hash.copy().digest('hex');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/**
 * Keeps entries in memory (tests, benchmarks, short runs) and their SHA-256. The kept entries are
 * hashed when the digest is asked for, not as they come: under ws the supervisor's thread
 * appends every event of the world, and encoding each one there while the world runs took a
 * quarter of a core from a 64-guest load run. Past the limit the kept entries are hashed first,
 * then each further one as it comes (only the hash counts those), so the bytes are the same.
 */
export class MemoryHistorySink implements HistorySink {
  readonly entries: HistoryEntry[] = [];
  /** Entries appended, kept or not. */
  count = 0;
  private readonly hash = createHash('sha256');
  /** entries[0, hashed) are in the hash. */
  private hashed = 0;

  constructor(private readonly limit = 1_000_000) {}

  append(entry: HistoryEntry): void {
    this.count++;
    if (this.entries.length < this.limit) {
      this.entries.push(entry);
      return;
    }
    this.hashKept();
    this.hash.update(`${encodeHistoryLine(entry)}\n`);
  }

  digest(): string {
    this.hashKept();
    return this.hash.copy().digest('hex');
  }

  close(): void {}

  private hashKept(): void {
    for (; this.hashed < this.entries.length; this.hashed++) this.hash.update(`${encodeHistoryLine(this.entries[this.hashed] as HistoryEntry)}\n`);
  }
}

/** A history file with a line that is not a history entry: "FILE:LINE: what is wrong". */
export class HistoryLineError extends Error {
  readonly code = 'HISTORY_LINE_INVALID';
  override readonly name = 'HistoryLineError';

  constructor(
    readonly path: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${path}:${line}: ${reason}`);
  }
}

/** The most of a history read in one piece: one JavaScript string's worth (V8's bound). */
const HISTORY_BYTES_MAX = bufferConstants.MAX_STRING_LENGTH;
/** How much of JSON.parse's complaint a message quotes (it can quote the line itself). */
const PARSE_REASON_LENGTH = 120;

function isHistoryEntry(value: unknown): value is HistoryEntry {
  if (typeof value !== 'object' || value === null) return false;
  const { seq, t, event } = value as Record<string, unknown>;
  return Number.isSafeInteger(seq) && typeof t === 'number' && Number.isFinite(t) && typeof event === 'object' && event !== null && typeof (event as Record<string, unknown>)['type'] === 'string';
}

/** Line `lineNumber` (1-based) of the history file at `path`, or HistoryLineError saying where and why. */
export function decodeHistoryLineAt(path: string, lineNumber: number, line: string): HistoryEntry {
  let value: unknown;
  try {
    value = decodeHistoryLine(line);
  } catch (error) {
    throw new HistoryLineError(path, lineNumber, `not JSON (${(error as Error).message.slice(0, PARSE_REASON_LENGTH)}): is this a history.jsonl?`);
  }
  if (!isHistoryEntry(value)) throw new HistoryLineError(path, lineNumber, 'not a history entry: each line is {"seq": n, "t": ns, "event": {"type": …}}');
  return value;
}

/**
 * Reads a history file written by FileHistorySink (or by a worker's history stream). A file
 * that is no history (a device, a corrupt line) is a FileInputError or a HistoryLineError.
 */
export function readHistory(path: string): HistoryEntry[] {
  const lines = readTextFileBounded(path, HISTORY_BYTES_MAX, { filesAndPipesOnly: true }).split('\n');
  const entries: HistoryEntry[] = [];
  for (const [index, line] of lines.entries()) if (line.length > 0) entries.push(decodeHistoryLineAt(path, index + 1, line));
  return entries;
}

/** SHA-256 of a history file's bytes: equal for equal sim runs. */
export function hashHistoryFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** An envelope's event, for sinks that record message traffic. */
export function messageEvent(type: 'send' | 'deliver', envelope: Envelope): HistoryEvent {
  return { type, from: envelope.from, to: envelope.to, message: envelope.message };
}
