/**
 * Worlds for the SPMD's tests: a normal-world driver ('nwd', and 'nwd2' when two must overlap)
 * → spmd → the fake SPMC ('spmc'); a secure-side driver ('swd', listed in secureSide) that calls
 * into the SPMD as the secure world does; and, when asked, a normal-world peer ('host', a
 * recording echo) that takes the secure-origin calls the SPMD forwards to the normal world.
 * Everything goes through the runtime: the tests read the history, never the SPMD's internals.
 */
import type { ComponentSpec, WorldSpec } from '../../../shared/runtime/component.ts';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { BufferWrite, RegisterFile } from '../../../shared/protocol/messages.ts';
import { type RuntimeName, runWorldInMemory } from '../../../shared/runtime/run-world.ts';
import { type DriverConfig, type DriverResult, type DriverStep, driverResults } from '../../../shared/runtime/test-world/driver.ts';
import type { SpmdConfig } from '../config.ts';
import { FAKE_SPMC_DEFAULTS, type FakeSpmcConfig } from './fake-spmc.ts';
import type { RecordEvent } from '../../../shared/protocol/records.ts';

export const NWD_ENDPOINT = 1;
export const SWD_ENDPOINT = 0x8000;
const FAKE_SPMC_MODULE = 'services/spmd/test-support/fake-spmc.ts';

export interface SpmdTestWorld {
  nwd?: DriverStep[];
  nwd2?: DriverStep[];
  swd?: DriverStep[];
  /** Over the test defaults: spmc 'spmc', secureSide ['spmc', 'swd']. */
  spmd?: SpmdConfig;
  /** Over FAKE_SPMC_DEFAULTS; null: no SPMC component in the world at all. */
  fakeSpmc?: Partial<FakeSpmcConfig> | null;
  /** Adds 'host' (a recording echo) and names it the SPMD's normalWorld. */
  normalWorldPeer?: boolean;
}

/** A normal-world SMC to the SPMD (endpoint 1, vCPU 0 on CPU 0 unless overridden). */
export function nwdCall(label: string, regs: RegisterFile, extra: Partial<DriverStep> = {}): DriverStep {
  return { to: 'spmd', conduit: 'smc', endpoint: NWD_ENDPOINT, vcpu: 0, cpu: 0, regs, label, ...extra };
}

/** A secure-world SMC to the SPMD (the SPMC's endpoint, on CPU 1). */
export function swdCall(label: string, regs: RegisterFile, extra: Partial<DriverStep> = {}): DriverStep {
  return { to: 'spmd', conduit: 'smc', endpoint: SWD_ENDPOINT, vcpu: 1, cpu: 1, regs, label, ...extra };
}

function driver(name: string, steps: DriverStep[]): ComponentSpec {
  const config: DriverConfig = { steps };
  return { name, role: 'test', module: 'shared/runtime/test-world/driver.ts', config };
}

export function spmdWorldSpec(world: SpmdTestWorld): WorldSpec {
  const drivers = (['nwd', 'nwd2', 'swd'] as const).filter((name) => world[name] !== undefined);
  const spmdConfig: SpmdConfig = {
    spmc: 'spmc',
    secureSide: ['spmc', 'swd'],
    ...(world.normalWorldPeer ? { normalWorld: 'host' } : {}),
    ...world.spmd,
  };
  const components: ComponentSpec[] = [
    ...drivers.map((name) => driver(name, world[name] ?? [])),
    { name: 'spmd', role: 'spmd', module: 'services/spmd/spmd.ts', config: spmdConfig },
  ];
  const links: [string, string][] = drivers.map((name) => [name, 'spmd']);
  if (world.fakeSpmc !== null) {
    components.push({ name: 'spmc', role: 'spmc', module: FAKE_SPMC_MODULE, config: { ...FAKE_SPMC_DEFAULTS, ...world.fakeSpmc } });
    links.push(['spmd', 'spmc']);
  }
  if (world.normalWorldPeer) {
    components.push({ name: 'host', role: 'test', module: FAKE_SPMC_MODULE, config: FAKE_SPMC_DEFAULTS });
    links.push(['spmd', 'host']);
  }
  return { seed: 1, components, links, finishers: [...drivers] };
}

/** Runs the world to its end under `runtime` and returns its history. */
export async function runSpmdWorld(world: SpmdTestWorld, runtime: RuntimeName): Promise<HistoryEntry[]> {
  const { result, entries } = await runWorldInMemory(spmdWorldSpec(world), { runtime, timeoutMs: 30_000 });
  if (result.ended !== 'done' && result.ended !== 'idle') throw new Error(`world ended ${result.ended}`);
  return entries;
}

/** A driver's results by label; every label must be there exactly once. */
export function resultsByLabel(entries: readonly HistoryEntry[], driverName: string): Map<string, DriverResult> {
  const byLabel = new Map<string, DriverResult>();
  for (const result of driverResults(entries, driverName)) {
    if (byLabel.has(result.label)) throw new Error(`label ${result.label} is used twice`);
    byLabel.set(result.label, result);
  }
  return byLabel;
}

/** The registers a driver got back for a step; throws if the step failed or is missing. */
export function returned(results: Map<string, DriverResult>, label: string): RegisterFile {
  const result = results.get(label);
  if (!result) throw new Error(`no result for ${label}`);
  if (!result.ok || !result.regs) throw new Error(`${label} failed: ${result.reason ?? 'no registers'}`);
  return result.regs;
}

export interface ReceivedCall {
  from: string;
  conduit: string;
  endpoint: number;
  vcpu: number;
  cpu: number;
  regs: RegisterFile;
  memory: BufferWrite | null;
}

/** Every call a fake SPMC (or the 'host' echo) received, in order. */
export function callsReceived(entries: readonly HistoryEntry[], component: string): ReceivedCall[] {
  return recordsOf(entries, component, 'fake-spmc-call') as unknown as ReceivedCall[];
}

/** A component's semantic records of one kind, in order. */
export function recordsOf(entries: readonly HistoryEntry[], component: string, event: RecordEvent): Record<string, unknown>[] {
  return entries.flatMap((entry) => {
    const recorded = entry.event;
    return recorded.type === 'record' && recorded.component === component && recorded.data['event'] === event ? [recorded.data] : [];
  });
}
