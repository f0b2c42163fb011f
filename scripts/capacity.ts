/**
 * `ffa-world load --runtime sim --rates 500,1000,…`: protocol capacity curves. The load world runs
 * once per point of a grid (SPMC profiles × guest counts × offered rates) under sim with service
 * times, so contention queues as on hardware and one seed gives the same curves every time
 * (services/orchestrator/load-test/capacity.ts). Prints a table and where each curve saturates;
 * with --out, writes capacity.json and capacity.html (the curves as charts).
 */
import { writeFileSync } from 'node:fs';
import { makeFolder } from '../shared/runtime/files.ts';
import { join, relative, resolve } from 'node:path';
import { type CapacityPoint, capacityPoint, CAPACITY_LIMITS, curves, gridPoints, saturation, saturationText, type CapacityGrid } from '../services/orchestrator/load-test/capacity.ts';
import { renderCapacityReport } from '../services/orchestrator/load-test/capacity-report.ts';
import type { SpmcProfile } from '../services/orchestrator/scenario/types.ts';
import { randomInt } from 'node:crypto';
import { EXIT, parseLoadOptions, runLoad, type LoadCommand } from './load.ts';

/** Arrivals per point unless --count or --duration says otherwise: enough for a p99, few enough for a grid. */
export const CAPACITY_DEFAULT_COUNT = 2000;

export interface CapacityCommand {
  grid: CapacityGrid;
  /** Everything else of a point's load command (its guests, rate and SPMC come from the grid). */
  base: LoadCommand;
}

export interface CapacityResult {
  seed: number;
  serviceTimes: string;
  grid: CapacityGrid;
  points: CapacityPoint[];
  saturation: { spmc: SpmcProfile; guests: number; peakCallbacksPerSecond: number; kneePerSecond: number | null }[];
}

function listOf(name: string, value: unknown): string[] | string {
  const items = String(value).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0 || items.length > CAPACITY_LIMITS.listLength) return `--${name} takes 1..${CAPACITY_LIMITS.listLength} comma-separated values, not ${String(value)}`;
  return items;
}

/** The command from cac's options (--rates given), or a message naming what is wrong (exit 2). */
export function parseCapacityOptions(options: Record<string, unknown>): CapacityCommand | string {
  if ((options['runtime'] ?? 'sim') !== 'sim') return '--rates runs under --runtime sim only: capacity curves need virtual time and service times (under ws, run one --rate at a time)';
  if (options['rate'] !== undefined) return 'give --rate or --rates, not both';
  const rates = listOf('rates', options['rates']);
  const guests = listOf('guests', options['guests'] ?? '16,64');
  const spmcs = listOf('spmc', options['spmc'] ?? 'optee,hafnium');
  for (const list of [rates, guests, spmcs]) if (typeof list === 'string') return list;
  const counted = options['count'] === undefined && options['duration'] === undefined ? { count: CAPACITY_DEFAULT_COUNT } : {};
  // One seed for the whole grid, drawn once, so every point replays with it.
  const seed = options['seed'] ?? randomInt(0, 2 ** 32 - 1);
  // Each list entry is validated by the load command's own parser, one point at a time.
  const points: LoadCommand[] = [];
  for (const spmc of spmcs as string[]) {
    for (const g of guests as string[]) {
      for (const rate of rates as string[]) {
        const parsed = parseLoadOptions({ ...options, ...counted, seed, runtime: 'sim', rate, guests: g, spmc, rates: undefined, json: false }, false);
        if (typeof parsed === 'string') return parsed;
        points.push(parsed);
      }
    }
  }
  const base = points[0] as LoadCommand;
  const grid: CapacityGrid = {
    spmcs: [...new Set(points.map((p) => p.spmc))],
    guests: [...new Set(points.map((p) => p.guests))],
    ratesPerSecond: [...new Set(points.map((p) => p.ratePerSecond))],
  };
  if (points.length > CAPACITY_LIMITS.points) return `${points.length} grid points: at most ${CAPACITY_LIMITS.points}`;
  return { grid, base: { ...base, json: options['json'] === true, out: typeof options['out'] === 'string' ? options['out'] : null } };
}

/** Runs every point in order; `onPoint` after each (progress). */
export async function runCapacity(command: CapacityCommand, onPoint?: (done: number, total: number) => void): Promise<CapacityResult> {
  const at = gridPoints(command.grid);
  const points: CapacityPoint[] = [];
  for (const [i, point] of at.entries()) {
    const load = await runLoad({ ...command.base, ...point, out: null, json: false, progress: false, thresholds: [] });
    points.push(capacityPoint(point, load.stats, load.passed));
    onPoint?.(i + 1, at.length);
  }
  return {
    seed: command.base.seed,
    serviceTimes: command.base.serviceTimes ?? 'none',
    grid: command.grid,
    points,
    saturation: curves(points).map((c) => ({ spmc: c.spmc, guests: c.guests, ...saturation(c.points) })),
  };
}

/** The command line that runs the same grid again. */
export function capacityReplay({ grid, base }: CapacityCommand): string {
  const end = base.count !== null ? `--count ${base.count}` : `--duration ${(base.durationNs ?? 0) / 1e6}ms`;
  return `npx ffa-world load --runtime sim --rates ${grid.ratesPerSecond.join(',')} --guests ${grid.guests.join(',')} --spmc ${grid.spmcs.join(',')} --vcpus ${base.vcpus} --cpus ${base.cpus} ${end} --service-times ${base.serviceTimes ?? 'none'} --seed ${base.seed}`;
}

export function printCapacity(result: CapacityResult): void {
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(`${pad('SPMC', 8)} ${pad('guests', 6)} ${pad('offered/s', 10)} ${pad('callbacks/s', 12)} ${pad('sends/cb', 9)} ${pad('p99 ms', 10)} ${pad('INFO_GET/loop', 14)} checks`);
  for (const p of result.points) {
    console.log(
      `${pad(p.spmc, 8)} ${pad(p.guests, 6)} ${pad(Math.round(p.offeredPerSecond), 10)} ${pad(Math.round(p.callbacksPerSecond), 12)} ${pad(p.sendsPerCallback.toFixed(2), 9)} ${pad((p.p99Ns / 1e6).toFixed(3), 10)} ${pad(p.infoGetPerLoop.toFixed(2), 14)} ${p.passed ? 'held' : 'FAILED'}`,
    );
  }
  for (const s of result.saturation) {
    console.log(`  ${s.spmc}, ${s.guests} guests: ${saturationText(s)}`);
  }
}

/** The command: runs the grid, prints, writes capacity.json and capacity.html with --out. */
export async function capacityCommand(command: CapacityCommand): Promise<number> {
  const total = gridPoints(command.grid).length;
  if (!command.base.json) console.log(`seed ${command.base.seed} (capacity: ${total} points under sim, service times ${command.base.serviceTimes ?? 'none'})`);
  const result = await runCapacity(command, command.base.json || !process.stdout.isTTY ? undefined : (done) => process.stdout.write(`\r\x1b[K  point ${done}/${total}`));
  if (!command.base.json && process.stdout.isTTY) process.stdout.write('\r\x1b[K');
  const out = command.base.out === null ? null : resolve(command.base.out);
  if (out) {
    makeFolder(out);
    writeFileSync(join(out, 'capacity.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(out, 'capacity.html'), await renderCapacityReport(result));
  }
  if (command.base.json) console.log(JSON.stringify(result));
  else {
    printCapacity(result);
    if (out) console.log(`  out ${relative(process.cwd(), out) || '.'}: capacity.json, capacity.html`);
    console.log(`  replay: ${capacityReplay(command)}`);
  }
  return result.points.every((p) => p.passed) ? EXIT.passed : EXIT.failed;
}
