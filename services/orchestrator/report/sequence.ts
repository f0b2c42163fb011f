/**
 * The report's sequence view of a failure (docs/design.md §8: "a sequence view of the first
 * failure"): a lifeline per component involved and, in history order, an arrow per message sent,
 * a note per record, a cross per fault, around the events that made the failure. A failure in a
 * run of 100k events shows a bounded window (MAX_ROWS), centred on its evidence.
 *
 * Drawn as plain SVG boxes and arrows (it is a diagram, not a chart). Every text from the history
 * is escaped; long labels are cut, with the whole line in the element's tooltip (<title>).
 */
import type { HistoryEntry, HistoryEvent } from '../../../shared/runtime/history.ts';
import type { Message } from '../../../shared/protocol/messages.ts';
import { describeEvent, describeMessage, irqTarget, recordName, resultOfRegs, abiOfRegs, shortJson } from './describe.ts';
import { escapeHtml, truncate } from './escape.ts';
import type { HistorySource } from '../../../shared/runtime/history-source.ts';
import { foldHistory } from '../checkers/fold.ts';
import { formatMs } from '../../../shared/duration.ts';

export const MAX_ROWS = 200;

export interface SequenceFocus {
  /** Seqs of the evidence events (a check failure's `events`). */
  evidenceSeqs: readonly number[];
  /** Without evidence found in the history: centre on the last event at or before this time. */
  aroundNs: number | null;
}

export interface SequenceWindow {
  /** The entries shown, in history order. */
  rows: HistoryEntry[];
  /** For each row, the number of hidden displayable events between it and the previous row. */
  gapsBefore: number[];
  hiddenAfter: number;
  evidence: Set<number>;
  /** Every component of the history, in order of first appearance: the lifelines' order. */
  components: string[];
  /** Indexes in `rows` of the evidence, or of the row at the failure's time when none was found. */
  focus: number[];
}

/** Deliveries repeat their send; they are shown only when they are evidence themselves. */
function displayable(entry: HistoryEntry, evidence: ReadonlySet<number>): boolean {
  return entry.event.type !== 'deliver' || evidence.has(entry.seq);
}

/**
 * The positions (among displayable entries) a window of at most `max` shows: the anchors, then
 * their neighbours outwards, one step at a time around every anchor, so each gets its context.
 */
function pickPositions(anchors: readonly number[], shown: number, max: number): number[] {
  const picked = new Set<number>();
  for (const anchor of anchors) if (picked.size < max) picked.add(anchor);
  for (let radius = 1; picked.size < max && radius < shown; radius++) {
    let grew = false;
    for (const anchor of anchors) {
      for (const p of [anchor - radius, anchor + radius]) {
        if (p < 0 || p >= shown || picked.has(p)) continue;
        if (picked.size >= max) break;
        picked.add(p);
        grew = true;
      }
    }
    if (!grew && anchors.every((a) => a - radius < 0 && a + radius >= shown)) break;
  }
  return [...picked].sort((a, b) => a - b);
}

/**
 * One pass over a history for its window: the components in order of first appearance, how many
 * entries are displayable, where the anchors are, and the entries near the evidence (a window
 * never reaches further than `max` from an anchor). Memory: `max` either side of each piece of
 * evidence, whatever the history's length.
 */
export class SequenceScan {
  private readonly evidence: ReadonlySet<number>;
  private readonly components = new Set<string>();
  private shown = 0;
  private readonly anchors: number[] = [];
  /** The last displayable entry at or before the failure's time, for a failure without evidence. */
  private fallback = 0;
  /** The last `max` displayable entries, a ring: position p sits at p % max. */
  private readonly recent: HistoryEntry[] = [];
  private readonly near = new Map<number, HistoryEntry>();
  private nearUntil = -1;

  constructor(
    private readonly focus: SequenceFocus,
    private readonly max = MAX_ROWS,
  ) {
    this.evidence = new Set(focus.evidenceSeqs);
  }

  take(entry: HistoryEntry): void {
    for (const c of componentsOf(entry.event)) this.components.add(c);
    if (!displayable(entry, this.evidence)) return;
    const position = this.shown++;
    if (this.evidence.has(entry.seq)) {
      this.anchors.push(position);
      for (let p = Math.max(0, position - this.max); p < position; p++) this.near.set(p, this.recent[p % this.max] as HistoryEntry);
      this.nearUntil = position + this.max;
    }
    if (position <= this.nearUntil) this.near.set(position, entry);
    if (this.focus.aroundNs !== null && entry.t <= this.focus.aroundNs) this.fallback = position;
    this.recent[position % this.max] = entry;
  }

  /** The positions the window shows, and whether this pass kept their entries (else collect them: RowCollector). */
  plan(): { positions: number[]; anchors: number[] } | null {
    if (this.shown === 0) return null;
    const anchors = this.anchors.length > 0 ? this.anchors : this.focus.aroundNs === null ? null : [this.fallback];
    if (!anchors) return null;
    return { positions: pickPositions(anchors, this.shown, this.max), anchors };
  }

  /** The entries kept at these positions, or null when some were not (the window centres on a time, not on evidence). */
  keptAt(positions: readonly number[]): HistoryEntry[] | null {
    const rows = positions.map((p) => this.near.get(p));
    return rows.every((r) => r !== undefined) ? (rows as HistoryEntry[]) : null;
  }

  window(positions: readonly number[], anchors: readonly number[], rows: readonly HistoryEntry[]): SequenceWindow {
    const gapsBefore: number[] = [];
    const focusRows: number[] = [];
    const anchorSet = new Set(anchors);
    let previous = -1;
    positions.forEach((p, index) => {
      if (anchorSet.has(p)) focusRows.push(index);
      gapsBefore.push(p - previous - 1);
      previous = p;
    });
    return { rows: [...rows], gapsBefore, hiddenAfter: this.shown - 1 - previous, evidence: new Set(this.evidence), components: [...this.components], focus: focusRows };
  }

  /** A second pass's fold, collecting the displayable entries at these positions. */
  collector(positions: readonly number[]): { take(entry: HistoryEntry): void; rows: HistoryEntry[] } {
    const wanted = new Set(positions);
    const rows: HistoryEntry[] = [];
    let position = 0;
    const evidence = this.evidence;
    return {
      rows,
      take(entry) {
        if (!displayable(entry, evidence)) return;
        if (wanted.has(position)) rows.push(entry);
        position++;
      },
    };
  }
}

/** Picks at most `max` displayable entries of a history held in memory around the focus. */
export function selectSequenceWindow(entries: readonly HistoryEntry[], focus: SequenceFocus, max = MAX_ROWS): SequenceWindow | null {
  const scan = new SequenceScan(focus, max);
  for (const entry of entries) scan.take(entry);
  return windowOf(scan, (collector) => {
    for (const entry of entries) collector.take(entry);
  });
}

/** The window of a history read from a source (a second read only for a failure without evidence). */
export async function sequenceWindowOf(source: HistorySource, focus: SequenceFocus, max = MAX_ROWS): Promise<SequenceWindow | null> {
  const scan = new SequenceScan(focus, max);
  await foldHistory(source, [scan]);
  const plan = scan.plan();
  if (!plan) return null;
  const kept = scan.keptAt(plan.positions);
  if (kept) return scan.window(plan.positions, plan.anchors, kept);
  const collector = scan.collector(plan.positions);
  await foldHistory(source, [collector]);
  return scan.window(plan.positions, plan.anchors, collector.rows);
}

function windowOf(scan: SequenceScan, collect: (collector: { take(entry: HistoryEntry): void }) => void): SequenceWindow | null {
  const plan = scan.plan();
  if (!plan) return null;
  const kept = scan.keptAt(plan.positions);
  if (kept) return scan.window(plan.positions, plan.anchors, kept);
  const collector = scan.collector(plan.positions);
  collect(collector);
  return scan.window(plan.positions, plan.anchors, collector.rows);
}

/** Rows shown either side of each focus row; the rest of the window is folded. */
export const CONTEXT_ROWS = 8;

/** A run of the window's rows [from, to): the evidence with its context, or rows folded away. */
export interface SequenceSegment {
  from: number;
  to: number;
  folded: boolean;
}

/** The window cut into the evidence's neighbourhoods (CONTEXT_ROWS either side) and what lies between. */
export function sequenceSegments(window: SequenceWindow, context = CONTEXT_ROWS): SequenceSegment[] {
  const near = new Array<boolean>(window.rows.length).fill(false);
  for (const f of window.focus) for (let i = Math.max(0, f - context); i <= Math.min(window.rows.length - 1, f + context); i++) near[i] = true;
  const segments: SequenceSegment[] = [];
  for (let i = 0; i < window.rows.length; i++) {
    const last = segments.at(-1);
    if (last && last.folded === !near[i]) last.to = i + 1;
    else segments.push({ from: i, to: i + 1, folded: !near[i] });
  }
  return segments;
}

/** The components a row touches, for the lifelines. */
function componentsOf(event: HistoryEvent): string[] {
  switch (event.type) {
    case 'send':
    case 'deliver':
    case 'fault':
    case 'refused':
      return [event.from, event.to];
    case 'component':
    case 'record':
    case 'call-failed':
      return [event.component];
  }
}

/** Short label for an arrow: the message without the routing (the arrow shows that). */
function arrowLabel(message: Message): string {
  switch (message.kind) {
    case 'call':
      return `${abiOfRegs(message.regs)} #${message.id}`;
    case 'return':
      return `${resultOfRegs(message.regs)} #${message.id}`;
    case 'irq':
      return `irq ${message.op} ${message.intid} → ${irqTarget(message)}`;
    default:
      return describeMessage(message);
  }
}

const COLOURS: Record<string, string> = {
  call: '#1f5fbf',
  return: '#2a8a3e',
  irq: '#c26a00',
  lifecycle: '#6b6b6b',
  control: '#6b6b6b',
  'protocol-error': '#b00020',
  fault: '#b00020',
  refused: '#b05000',
};

const LABEL_W = 136;
/** The page's content width: the lifelines share it, between these bounds. */
const FIT_W = 1160;
const COL_W_MAX = 160;
const COL_W_MIN = 104;
/** Room right of the last lifeline for a note (drawn rightwards from its lifeline). */
const NOTE_ROOM = 120;
const ROW_H = 24;
const HEADER_H = 40;
const GAP_H = 18;
/** Roughly how many label characters fit per pixel at the label's font size. */
const CHARS_PER_PX = 1 / 6;

/** Times as the command line prints them: ms with 3 decimals. */

/**
 * Lifelines and their columns: the components of these rows (a part of the window draws only its
 * own, so the evidence's few components are not squeezed by the start-up's many), sharing the
 * page's width.
 */
interface Layout {
  lifelines: string[];
  colW: number;
  width: number;
  x(component: string): number;
}

function layoutOf(window: SequenceWindow, rows: readonly HistoryEntry[]): Layout {
  // Lifelines in the order components first appear in the run (guests, hypervisor, SPMD, SPMC,
  // GIC in the default world), not in the window's, so two reports of one world read alike.
  const involved = new Set(rows.flatMap((row) => componentsOf(row.event)));
  const lifelines = window.components.filter((c) => involved.has(c));
  const colW = Math.max(COL_W_MIN, Math.min(COL_W_MAX, Math.floor((FIT_W - LABEL_W - NOTE_ROOM) / Math.max(1, lifelines.length))));
  return {
    lifelines,
    colW,
    width: LABEL_W + colW * lifelines.length + NOTE_ROOM,
    x: (component: string) => LABEL_W + colW * lifelines.indexOf(component) + colW / 2,
  };
}

/**
 * An SVG sequence diagram of the window's rows [from, to) (all of them by default); `what` gives
 * each evidence event's checker text.
 */
export function renderSequenceSvg(window: SequenceWindow, what: ReadonlyMap<number, string>, part: { from: number; to: number } = { from: 0, to: window.rows.length }): string {
  const layout = layoutOf(window, window.rows.slice(part.from, part.to));
  const { lifelines, colW, width, x } = layout;

  const body: string[] = [];
  let y = HEADER_H;
  const gap = (hidden: number) => {
    body.push(`<text x="${LABEL_W - 8}" y="${y + GAP_H / 2 + 4}" text-anchor="end" class="gap">⋯ ${hidden} event${hidden === 1 ? '' : 's'} not shown</text>`);
    y += GAP_H;
  };
  window.rows.slice(part.from, part.to).forEach((row, offset) => {
    const i = part.from + offset;
    const hidden = window.gapsBefore[i] ?? 0;
    if (hidden > 0) gap(hidden);
    const mid = y + ROW_H / 2;
    const isEvidence = window.evidence.has(row.seq);
    const tooltip = `#${row.seq} t=${formatMs(row.t)}: ${describeEvent(row.event)}${isEvidence ? `\nevidence: ${what.get(row.seq) ?? ''}` : ''}`;
    body.push(`<g class="row${isEvidence ? ' evidence' : ''}"><title>${escapeHtml(tooltip)}</title>`);
    if (isEvidence) body.push(`<rect x="0" y="${y}" width="${width}" height="${ROW_H}" class="evidence-bg"/>`);
    body.push(`<text x="4" y="${mid + 4}" class="when">${isEvidence ? '★ ' : ''}${escapeHtml(formatMs(row.t))} #${row.seq}</text>`);
    body.push(drawEvent(row.event, mid, x, colW));
    body.push('</g>');
    y += ROW_H;
  });
  if (part.to === window.rows.length && window.hiddenAfter > 0) gap(window.hiddenAfter);
  const height = y + 10;

  const head: string[] = [];
  for (const component of lifelines) {
    const cx = x(component);
    head.push(`<line x1="${cx}" y1="${HEADER_H - 8}" x2="${cx}" y2="${height - 4}" class="lifeline"/>`);
    head.push(`<rect x="${cx - colW / 2 + 6}" y="6" width="${colW - 12}" height="24" rx="4" class="head"/>`);
    head.push(`<text x="${cx}" y="22" text-anchor="middle" class="head-text">${escapeHtml(truncate(component, Math.floor((colW - 16) / 7.5)))}<title>${escapeHtml(component)}</title></text>`);
  }
  const markers = Object.entries(COLOURS)
    .map(([kind, colour]) => `<marker id="seq-arrow-${kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="${colour}"/></marker>`)
    .join('');
  return [
    // Shrinks with the page (max-width in SEQUENCE_CSS), so the last lifeline is never cut off.
    `<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="sequence of the events around the failure">`,
    `<defs>${markers}</defs>`,
    ...head,
    ...body,
    '</svg>',
  ].join('\n');
}

function arrow(fromX: number, toX: number, y: number, kind: string, label: string, dashed: boolean): string {
  const colour = COLOURS[kind] ?? '#333';
  const dash = dashed ? ' stroke-dasharray="5,3"' : '';
  if (fromX === toX) {
    // A message to itself: a small loop on the right of the lifeline.
    return (
      `<path d="M${fromX},${y - 6}h28v12h-26" fill="none" stroke="${colour}"${dash} marker-end="url(#seq-arrow-${kind})"/>` +
      `<text x="${fromX + 34}" y="${y + 4}" class="label" fill="${colour}">${escapeHtml(truncate(label, 40))}</text>`
    );
  }
  const room = Math.max(12, Math.floor(Math.abs(toX - fromX) * CHARS_PER_PX));
  return (
    `<line x1="${fromX}" y1="${y + 2}" x2="${toX}" y2="${y + 2}" stroke="${colour}"${dash} marker-end="url(#seq-arrow-${kind})"/>` +
    `<text x="${(fromX + toX) / 2}" y="${y - 3}" text-anchor="middle" class="label" fill="${colour}">${escapeHtml(truncate(label, room))}</text>`
  );
}

function note(cx: number, y: number, text: string, cls: string, colW: number): string {
  const room = Math.min(colW * 1.6, NOTE_ROOM + colW / 2 - 8);
  const shown = truncate(text, Math.floor((room - 12) / 6));
  const w = Math.min(room, 12 + shown.length * 6);
  return `<rect x="${cx - 4}" y="${y - 9}" width="${w}" height="18" rx="3" class="${cls}"/><text x="${cx + 2}" y="${y + 4}" class="note-text">${escapeHtml(shown)}</text>`;
}

function drawEvent(event: HistoryEvent, y: number, x: (component: string) => number, colW: number): string {
  switch (event.type) {
    case 'send':
      return arrow(x(event.from), x(event.to), y, event.message.kind, arrowLabel(event.message), event.message.kind === 'return');
    case 'deliver':
      return arrow(x(event.from), x(event.to), y, event.message.kind, `delivered: ${arrowLabel(event.message)}`, true);
    case 'fault': {
      const fx = x(event.from);
      return (
        arrow(fx, x(event.to), y, 'fault', `fault ${event.action} (${event.rule}): ${arrowLabel(event.message)}`, true) +
        `<text x="${fx}" y="${y + 5}" text-anchor="middle" class="cross">✕</text>`
      );
    }
    case 'refused':
      return arrow(x(event.from), x(event.to), y, 'refused', `refused (${event.reason}): ${arrowLabel(event.message)}`, true);
    case 'record': {
      const { event: _name, ...rest } = event.data;
      return note(x(event.component), y, `${recordName(event.data)} ${shortJson(rest, 60)}`, 'note', colW);
    }
    case 'component':
      return note(x(event.component), y, `${event.event}${event.detail ? `: ${event.detail}` : ''}`, 'note component', colW);
    case 'call-failed':
      return note(x(event.component), y, `call #${event.id} to ${event.to} failed: ${event.reason}`, 'note failed', colW);
  }
}

/** Styles for the sequence view, inlined in the report's <style>. */
export const SEQUENCE_CSS = `
svg.sequence { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; background: #fff; max-width: 100%; height: auto; display: block; }
svg.sequence .lifeline { stroke: #bbb; stroke-dasharray: 3,3; }
svg.sequence .head { fill: #eef2f8; stroke: #7a8aa6; }
svg.sequence .head-text { font-weight: bold; font-size: 12px; }
svg.sequence .when { fill: #555; }
svg.sequence .gap { fill: #888; font-style: italic; }
svg.sequence .label { font-size: 10.5px; }
svg.sequence .evidence-bg { fill: #fde4e4; }
svg.sequence .note { fill: #fffbe6; stroke: #d8c66a; }
svg.sequence .note.component { fill: #eef7ee; stroke: #7fb07f; }
svg.sequence .note.failed { fill: #fde4e4; stroke: #b00020; }
svg.sequence .note-text { font-size: 10px; fill: #333; }
svg.sequence .cross { fill: #b00020; font-size: 14px; font-weight: bold; }
`;
