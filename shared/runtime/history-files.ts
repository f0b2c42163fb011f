/**
 * Each component's own history file, in process mode (scripts/service.ts, scripts/component.ts:
 * every component a process of its own). The component writes its events as they happen, in
 * batches (a write every FLUSH_BYTES or FLUSH_MS, whichever comes first), so a history outlives
 * whoever meant to collect it: an orchestrator killed mid-run leaves every component's history,
 * and its own, on disk.
 *
 * Beside `<component>.<pid>.jsonl` lies `<component>.<pid>.meta.json`: the component, its clock's
 * base (process.hrtime.bigint() when it started: times on one machine compare once rebased), and
 * whether the history is complete. It says `complete: false` from the start and `true` only once
 * the last batch is written and synced (fsync), on a clean stop or a crash the process caught. A
 * process killed outright (SIGKILL) leaves `complete: false`: its last batch, at most FLUSH_MS of
 * events, is lost, and whoever reads the history must not take the silence for what happened.
 *
 * mergeHistories puts the files of one world in time order on one base (ties: the files' own
 * order, then the file's order), and marks each history that stops early with a `tail-missing`
 * event of its component at the time of its last event.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeFolder } from './files.ts';
import { encodeHistoryLine, type HistoryEntry, type HistoryEvent, type HistorySink } from './history.ts';
import { historyFile } from './history-source.ts';

/** A batch is written once it holds this much… */
const FLUSH_BYTES = 64 * 1024;
/** …or this long after its first line (an orchestrator waits longer than this before it merges). */
export const FLUSH_MS = 100;

export interface HistoryFileMeta {
  component: string;
  /** The component clock's base: process.hrtime.bigint() as a decimal string. */
  baseNs: string;
  pid: number;
  /** The whole history is in the file (its end was written). */
  complete: boolean;
  events: number;
  /** The time of its last event, on its own base; null before the first. */
  lastNs: number | null;
}

/** `x.jsonl` → `x.meta.json` (another name gets `.meta.json` added). */
export function metaPathOf(historyPath: string): string {
  return historyPath.endsWith('.jsonl') ? historyPath.replace(/\.jsonl$/, '.meta.json') : `${historyPath}.meta.json`;
}

/** `<dir>/<component>.<pid>.jsonl`: a restarted component's process writes a file of its own. */
export function componentHistoryPath(dir: string, component: string, pid = process.pid): string {
  return join(dir, `${component}.${pid}.jsonl`);
}

function writeMeta(path: string, meta: HistoryFileMeta): void {
  const fd = openSync(metaPathOf(path), 'w');
  try {
    writeSync(fd, `${JSON.stringify(meta)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A component's history file, written in batches as the run goes (see above). */
export class StreamedHistoryFile implements HistorySink {
  private readonly fd: number;
  private batch = '';
  private readonly meta: HistoryFileMeta;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly path: string,
    component: string,
    baseNs: bigint,
  ) {
    makeFolder(dirname(path));
    this.fd = openSync(path, 'w');
    this.meta = { component, baseNs: baseNs.toString(), pid: process.pid, complete: false, events: 0, lastNs: null };
    writeMeta(path, this.meta);
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** After close the history is complete as it stands: later events (a process winding down, after its history was merged) are not in it. */
  append(entry: HistoryEntry): void {
    if (this.closed) return;
    this.batch += `${encodeHistoryLine(entry)}\n`;
    this.meta.events++;
    this.meta.lastNs = entry.t;
    if (this.batch.length >= FLUSH_BYTES) this.flush();
  }

  /** Writes the batch so far (it is in the kernel's hands then: a killed process loses no more of it). */
  flush(): void {
    if (this.batch.length === 0 || this.closed) return;
    writeSync(this.fd, this.batch);
    this.batch = '';
  }

  /** The last batch, synced to disk, then the end marker: the history is complete. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.timer);
    fsyncSync(this.fd);
    closeSync(this.fd);
    writeMeta(this.path, { ...this.meta, complete: true });
  }
}

/**
 * A sink for a process's own events, numbered as they come: `append(t, event)` as the ws node's
 * history callback wants it.
 */
export function componentHistory(dir: string, component: string, baseNs: bigint): { file: StreamedHistoryFile; append: (t: number, event: HistoryEvent) => void } {
  const file = new StreamedHistoryFile(componentHistoryPath(dir, component), component, baseNs);
  let seq = 0;
  return { file, append: (t, event) => file.append({ seq: seq++, t, event }) };
}

/** One component's history file and what its meta file says (null: no meta beside it). */
export interface FoundHistory {
  path: string;
  meta: HistoryFileMeta | null;
}

export function readMeta(historyPath: string): HistoryFileMeta | null {
  const path = metaPathOf(historyPath);
  if (!existsSync(path)) return null;
  try {
    const meta = JSON.parse(readFileSync(path, 'utf8')) as Partial<HistoryFileMeta>;
    const ok = typeof meta.component === 'string' && typeof meta.baseNs === 'string' && /^\d{1,20}$/.test(meta.baseNs) && typeof meta.complete === 'boolean';
    return ok ? (meta as HistoryFileMeta) : null;
  } catch {
    // Half written when its process was killed: as good as none.
    return null;
  }
}

/** The component histories in a folder, in name order. */
export function findHistories(dir: string): FoundHistory[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => ({ path: join(dir, name), meta: readMeta(join(dir, name)) }));
}

/** The component a history belongs to: its meta's, else the file name's first part. */
export function componentOf(found: FoundHistory): string {
  return found.meta?.component ?? basename(found.path).split('.')[0] ?? found.path;
}

/** What the merge is told of one file: where its times stand against the world's, and whether its tail is missing. */
export interface MergeInput {
  path: string;
  component: string;
  /** Added to every time in the file (its base minus the world's). */
  offsetNs: number;
  /** Mark the history as stopping early at its last event (`tail-missing`), saying this. */
  tailMissing: string | null;
}

/** The offsets that put each file on the earliest base of them all. */
export function onOneBase(found: readonly FoundHistory[], worldBaseNs?: bigint): MergeInput[] {
  const bases = found.map((f) => (f.meta ? BigInt(f.meta.baseNs) : null));
  const known = bases.filter((b): b is bigint => b !== null);
  const world = worldBaseNs ?? (known.length > 0 ? known.reduce((min, b) => (b < min ? b : min)) : 0n);
  return found.map((f, index) => ({
    path: f.path,
    component: componentOf(f),
    offsetNs: Number((bases[index] ?? world) - world),
    tailMissing: f.meta?.complete === true ? null : f.meta ? 'its history file has no end: its process was killed before it wrote it' : 'its history file has no meta file beside it',
  }));
}

interface Head {
  entry: HistoryEntry;
  input: number;
  next: AsyncIterator<HistoryEntry>;
}

/** Earlier first: by time, then seq, then the input's place. */
function before(a: Head, b: Head): boolean {
  return a.entry.t !== b.entry.t ? a.entry.t < b.entry.t : a.entry.seq !== b.entry.seq ? a.entry.seq < b.entry.seq : a.input < b.input;
}

/** A binary min-heap of the inputs' next entries. */
class Heads {
  readonly items: Head[] = [];

  push(head: Head): void {
    const { items } = this;
    items.push(head);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as Head, items[parent] as Head)) break;
      [items[i], items[parent]] = [items[parent] as Head, items[i] as Head];
      i = parent;
    }
  }

  pop(): Head | undefined {
    const { items } = this;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || !last) return top;
    items[0] = last;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < items.length && before(items[left] as Head, items[least] as Head)) least = left;
      if (right < items.length && before(items[right] as Head, items[least] as Head)) least = right;
      if (least === i) break;
      [items[i], items[least]] = [items[least] as Head, items[i] as Head];
      i = least;
    }
    return top;
  }
}

/** A file's entries on the world's base, then its `tail-missing` mark if it stops early. */
async function* onBase(input: MergeInput): AsyncGenerator<HistoryEntry> {
  let last: HistoryEntry | null = null;
  for await (const entry of historyFile(input.path).read()) {
    last = { ...entry, t: entry.t + input.offsetNs };
    yield last;
  }
  if (input.tailMissing === null) return;
  const event: HistoryEvent = { type: 'component', component: input.component, event: 'tail-missing', detail: input.tailMissing };
  yield { seq: (last?.seq ?? -1) + 1, t: last?.t ?? 0, event };
}

/** The files' entries in time order, numbered again from 0. */
export async function* mergeHistories(inputs: readonly MergeInput[]): AsyncGenerator<HistoryEntry> {
  const heads = new Heads();
  for (const [index, input] of inputs.entries()) {
    const next = onBase(input)[Symbol.asyncIterator]();
    const first = await next.next();
    if (!first.done) heads.push({ entry: first.value, input: index, next });
  }
  let seq = 0;
  for (let head = heads.pop(); head; head = heads.pop()) {
    yield { ...head.entry, seq: seq++ };
    const following = await head.next.next();
    if (!following.done) heads.push({ ...head, entry: following.value });
  }
}

/** Writes the merged history to a sink (history.jsonl), returning how many entries it holds. */
export async function writeMerged(inputs: readonly MergeInput[], sink: HistorySink): Promise<number> {
  let count = 0;
  for await (const entry of mergeHistories(inputs)) {
    sink.append(entry);
    count++;
  }
  return count;
}
