/**
 * Table-driven SPMC tests: rows of (label, caller, registers, expected result) become one scripted
 * driver run against the SPMC under a runtime, and every row's result is asserted by label. The
 * driver is the SPMD link (config.spmd) for NWd rows and a relay (config.relayFrom) for SP rows.
 */
import assert from 'node:assert/strict';
import {
  FFA_FIDS,
  FFA_ERROR_CODES,
  decodeResult,
  errorName,
  notificationGet,
  unpackNotificationInfo,
  w,
  x,
  type FfaErrorName,
  type BufferWrite,
  type NotificationInfoList,
  type RegisterFile,
} from '../../../shared/ffa/index.ts';
import type { WorldSpec } from '../../../shared/runtime/component.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { runWorldInMemory, type RuntimeName } from '../../../shared/runtime/run-world.ts';
import { type DriverControlStep, driverResults, type DriverResult, type DriverStep } from '../../../shared/runtime/test-world/driver.ts';
import type { SpmcConfig } from '../config.ts';
import type { RecordEvent } from '../../../shared/protocol/records.ts';
import type { ControlData, ControlOp } from '../../../shared/protocol/control.ts';

export type Caller = 'nwd' | number;

export type Expect =
  | { readonly kind: 'success'; readonly fid?: number; readonly w?: Readonly<Record<number, number>>; readonly x?: Readonly<Record<number, bigint>> }
  | { readonly kind: 'error'; readonly name: FfaErrorName }
  | { readonly kind: 'regs'; readonly w?: Readonly<Record<number, number>>; readonly x?: Readonly<Record<number, bigint>> }
  | { readonly kind: 'info'; readonly width: 32 | 64; readonly morePending: boolean; readonly lists: readonly NotificationInfoList[] }
  | { readonly kind: 'get'; readonly sp: bigint; readonly vm: bigint; readonly spm: bigint; readonly hyp: bigint }
  | { readonly kind: 'any' };

export interface CallRow {
  readonly label: string;
  readonly caller: Caller;
  readonly regs: RegisterFile;
  readonly cpu?: number;
  readonly vcpu?: number;
  readonly delayNs?: number;
  /** What the caller's TX buffer holds when it calls (the call's buffer memory). */
  readonly tx?: BufferWrite;
  /** What the call must write into an RX buffer on the caller's side (null: nothing); absent: not checked. */
  readonly rx?: BufferWrite | null;
  readonly expect: Expect;
}

export interface ControlRow {
  readonly label: string;
  readonly control: { readonly op: string; readonly data: unknown };
}

export type Row = CallRow | ControlRow;

export const ok = (wRegs?: Record<number, number>, fid?: number): Expect => ({ kind: 'success', ...(fid === undefined ? {} : { fid }), ...(wRegs ? { w: wRegs } : {}) });
export const err = (name: FfaErrorName): Expect => ({ kind: 'error', name });
export const regsAre = (fields: { w?: Record<number, number>; x?: Record<number, bigint> }): Expect => ({ kind: 'regs', ...fields });
export const anything: Expect = { kind: 'any' };
export const info = (morePending: boolean, lists: readonly NotificationInfoList[], width: 32 | 64 = 64): Expect => ({ kind: 'info', width, morePending, lists });
export const got = (bitmaps: { sp?: bigint; vm?: bigint; spm?: bigint; hyp?: bigint }): Expect => ({
  kind: 'get',
  sp: bitmaps.sp ?? 0n,
  vm: bitmaps.vm ?? 0n,
  spm: bitmaps.spm ?? 0n,
  hyp: bitmaps.hyp ?? 0n,
});
/** A VM with pending global notifications in an INFO_GET list. */
export const vmList = (...ids: number[]): NotificationInfoList[] => ids.map((id) => ({ id, vcpus: [] }));

export function isCallRow(row: Row): row is CallRow {
  return 'regs' in row;
}

export const DRIVER = 'driver';
export const SPMC = 'spmc';
const DRIVER_MODULE = 'shared/runtime/test-world/driver.ts';
const SCRIPT_MODULE = 'shared/runtime/test-world/driver.ts';

function callStep(row: CallRow): DriverStep {
  return {
    to: SPMC,
    conduit: row.caller === 'nwd' ? 'smc' : 'relay',
    endpoint: row.caller === 'nwd' ? 0 : row.caller,
    vcpu: row.vcpu ?? 0,
    cpu: row.cpu ?? 0,
    regs: row.regs,
    label: row.label,
    ...(row.delayNs === undefined ? {} : { delayNs: row.delayNs }),
    ...(row.tx === undefined ? {} : { memory: row.tx }),
  };
}

function scriptStep(row: Row): DriverStep | DriverControlStep {
  return isCallRow(row) ? callStep(row) : { control: row.control.op, to: SPMC, data: row.control.data, label: row.label };
}

export interface TableWorld {
  readonly spmc: SpmcConfig;
  readonly rows: readonly Row[];
  readonly seed?: number;
  /** Extra drivers (relays) with their own rows, run concurrently with the main driver. */
  readonly others?: Readonly<Record<string, readonly Row[]>>;
  /** Drivers linked to the SPMC that are neither the SPMD link nor relays. */
  readonly outsiders?: Readonly<Record<string, readonly Row[]>>;
}

/** The driver (the SPMD link and a relay) linked to the SPMC, plus any other relays. */
export function tableWorld(table: TableWorld): WorldSpec {
  const relays: [string, readonly Row[]][] = [[DRIVER, table.rows], ...Object.entries(table.others ?? {})];
  const drivers = [...relays, ...Object.entries(table.outsiders ?? {})];
  const components = drivers.map(([name, rows]) => {
    const scripted = rows.some((row) => !isCallRow(row));
    return {
      name,
      role: 'test' as const,
      module: scripted ? SCRIPT_MODULE : DRIVER_MODULE,
      config: { steps: scripted ? rows.map(scriptStep) : rows.filter(isCallRow).map(callStep) },
    };
  });
  const relayFrom = [...new Set([...relays.map(([name]) => name), ...(table.spmc.relayFrom ?? [])])];
  return {
    seed: table.seed ?? 1,
    components: [...components, { name: SPMC, role: 'spmc', module: 'services/spmc/spmc.ts', config: { spmd: DRIVER, ...table.spmc, relayFrom } }],
    links: drivers.map(([name]): [string, string] => [name, SPMC]),
    finishers: drivers.map(([name]) => name),
  };
}

export interface TableRun {
  readonly results: Map<string, DriverResult>;
  readonly entries: readonly HistoryEntry[];
}

export async function runTable(runtime: RuntimeName, table: TableWorld): Promise<TableRun> {
  const labels = [table.rows, ...Object.values(table.others ?? {}), ...Object.values(table.outsiders ?? {})].flat().map((row) => row.label);
  assert.equal(new Set(labels).size, labels.length, 'row labels must be unique');
  const { result, entries } = await runWorldInMemory(tableWorld(table), { runtime, timeoutMs: 60_000 });
  assert.ok(result.ended === 'done' || result.ended === 'idle', `the run ended ${result.ended}`);
  const names = [DRIVER, ...Object.keys(table.others ?? {}), ...Object.keys(table.outsiders ?? {})];
  const results = new Map(names.flatMap((name) => driverResults(entries, name)).map((r) => [r.label, r]));
  return { results, entries };
}

function describe(regs: RegisterFile): string {
  const decoded = decodeResult(regs);
  if (decoded.kind === 'error') return `FFA_ERROR ${decoded.name ?? decoded.code}`;
  return `[${regs.slice(0, 8).map((r) => `0x${r.toString(16)}`).join(', ')}]`;
}

function checkFields(label: string, regs: RegisterFile, fields: { w?: Readonly<Record<number, number>>; x?: Readonly<Record<number, bigint>> }): void {
  for (const [index, value] of Object.entries(fields.w ?? {})) assert.equal(w(regs, Number(index)), value >>> 0, `${label}: w${index} of ${describe(regs)}`);
  for (const [index, value] of Object.entries(fields.x ?? {})) assert.equal(x(regs, Number(index)), value, `${label}: x${index} of ${describe(regs)}`);
}

function checkSuccess(label: string, regs: RegisterFile, fid?: number): void {
  const decoded = decodeResult(regs);
  assert.equal(decoded.kind, 'success', `${label}: expected success, got ${describe(regs)}`);
  if (fid !== undefined) assert.equal(w(regs, 0), fid >>> 0, `${label}: return FID`);
}

export function checkResult(label: string, regs: RegisterFile, expect: Expect): void {
  switch (expect.kind) {
    case 'any':
      return;
    case 'success':
      checkSuccess(label, regs, expect.fid);
      return checkFields(label, regs, expect);
    case 'error': {
      const found = w(regs, 0) === FFA_FIDS.FFA_ERROR ? errorName(w(regs, 2) | 0) : null;
      assert.equal(found, expect.name, `${label}: expected FFA_ERROR ${expect.name} (${FFA_ERROR_CODES[expect.name]}), got ${describe(regs)}`);
      return;
    }
    case 'regs':
      return checkFields(label, regs, expect);
    case 'info': {
      checkSuccess(label, regs, expect.width === 64 ? FFA_FIDS.FFA_SUCCESS_64 : FFA_FIDS.FFA_SUCCESS_32);
      const unpacked = unpackNotificationInfo(regs, expect.width);
      assert.ok(unpacked.ok, `${label}: INFO_GET return does not unpack: ${unpacked.ok ? '' : unpacked.error.why}`);
      assert.deepEqual(unpacked.info, { morePending: expect.morePending, lists: expect.lists }, `${label}: INFO_GET lists`);
      return;
    }
    case 'get': {
      checkSuccess(label, regs, FFA_FIDS.FFA_SUCCESS_32);
      const decoded = notificationGet.success!.decode(regs);
      assert.ok(decoded.ok);
      const { spBitmap, vmBitmap, spmBitmap, hypBitmap } = decoded.result;
      assert.deepEqual({ sp: spBitmap, vm: vmBitmap, spm: spmBitmap, hyp: hypBitmap }, { sp: expect.sp, vm: expect.vm, spm: expect.spm, hyp: expect.hyp }, `${label}: GET bitmaps`);
      return;
    }
  }
}

/** Every call row answered, each as expected. */
export function assertRows(rows: readonly Row[], run: TableRun): void {
  assert.ok(rows.length > 0);
  for (const row of rows.filter(isCallRow)) {
    const result = run.results.get(row.label);
    assert.ok(result, `${row.label}: no result recorded`);
    assert.ok(result.ok && result.regs, `${row.label}: the call failed (${result.reason ?? 'no registers'})`);
    checkResult(row.label, result.regs, row.expect);
    if (row.rx !== undefined) assert.deepEqual(result.memory ?? null, row.rx, `${row.label}: what the call wrote into an RX buffer`);
  }
}

/** The SPMC's records of one kind, in order. */
export function records(entries: readonly HistoryEntry[], event: RecordEvent, component = SPMC): Record<string, unknown>[] {
  return entries.flatMap((entry) => {
    const e = entry.event;
    return e.type === 'record' && e.component === component && e.data['event'] === event ? [e.data] : [];
  });
}

/** Index in the history of the record or driver result, for ordering assertions. */
export function seqOfResult(entries: readonly HistoryEntry[], label: string): number {
  const entry = entries.find((e) => e.event.type === 'record' && e.event.data['event'] === 'driver-result' && e.event.data['label'] === label);
  assert.ok(entry, `no result for ${label}`);
  return entry.seq;
}

type RowOptions = { cpu?: number; vcpu?: number; delayNs?: number; tx?: BufferWrite; rx?: BufferWrite | null };

/** A call the normal world makes (through the SPMD link). */
export function nwd(label: string, regs: RegisterFile, expect: Expect, options: RowOptions = {}): CallRow {
  return { label, caller: 'nwd', regs, expect, ...options };
}

/** A call SP `id` makes (through the relay). */
export function sp(id: number, label: string, regs: RegisterFile, expect: Expect, options: RowOptions = {}): CallRow {
  return { label, caller: id, regs, expect, ...options };
}

/** A control message to an SP behaviour, between two calls. */
export function control<Op extends ControlOp>(label: string, op: Op, data: ControlData<Op>): ControlRow {
  return { label, control: { op, data } };
}

/** A control message no SPMC takes as it is (an unknown op, data of the wrong shape): its refusal is the test. */
export function malformedControl(label: string, op: string, data: unknown): ControlRow {
  return { label, control: { op, data } };
}

export type SpmcMarker = { readonly kind: 'return'; readonly label: string } | { readonly kind: 'record'; readonly data: Record<string, unknown> };

/**
 * The SPMC's own events in its own order (one component's history is ordered under both
 * runtimes): its records, and its returns to `driver`, each named by the call row it answers
 * (the driver makes one call at a time, so the k-th return answers the k-th call row).
 */
export function spmcTimeline(entries: readonly HistoryEntry[], rows: readonly Row[], driver = DRIVER): SpmcMarker[] {
  const labels = rows.filter(isCallRow).map((row) => row.label);
  let returns = 0;
  return entries.flatMap((entry): SpmcMarker[] => {
    const e = entry.event;
    if (e.type === 'record' && e.component === SPMC) return [{ kind: 'record', data: e.data }];
    if (e.type === 'send' && e.from === SPMC && e.to === driver && e.message.kind === 'return') return [{ kind: 'return', label: labels[returns++] ?? '?' }];
    return [];
  });
}

/** Position of the SPMC's return for a row in its timeline. */
export function returnPosition(timeline: readonly SpmcMarker[], label: string): number {
  const index = timeline.findIndex((marker) => marker.kind === 'return' && marker.label === label);
  assert.ok(index >= 0, `no SPMC return for ${label}`);
  return index;
}

/** Positions of the SPMC's records of one event. */
export function recordPositions(timeline: readonly SpmcMarker[], event: RecordEvent): number[] {
  return timeline.flatMap((marker, index) => (marker.kind === 'record' && marker.data['event'] === event ? [index] : []));
}
