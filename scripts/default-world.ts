/**
 * The default world `npm start` runs (design world.md §9): dom0 and two guests with today's Linux
 * driver and OP-TEE's client, under the Xen-like hypervisor, over the TF-A-like SPMD and the
 * OP-TEE-like SPMC, with the GIC broker carrying the SRI and the virtual NPIs, and a mild fault
 * schedule (some interrupt deliveries delayed). OP-TEE's SP sends async notifications to each VM
 * in turn, each on its own CPU; the run's verdict says whether any was lost, landed in the wrong
 * VM, or came with no send, and how long each took from the SP's send to the guest's callback.
 *
 * The world is built with the guests' world builder until the scenario runner (a later issue)
 * builds worlds from scenario files; the verdict is the first, simplest form of the checkers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import type { WorldSpec } from '../shared/runtime/component.ts';
import { FileHistorySink, type HistoryEntry, readHistory } from '../shared/runtime/history.ts';
import type { FaultRule } from '../shared/runtime/interceptor.ts';
import { type RuntimeName, runWorld } from '../shared/runtime/run-world.ts';
import {
  ACTOR,
  awaitBottomHalf,
  awaitProbe,
  guestWorldSpec,
  opteeSend,
  SPMC,
} from '../services/guest/test-support/world.ts';

export interface DefaultWorldRun {
  runtime: RuntimeName;
  seed: number;
  /** Sends per VM. */
  rounds: number;
  out: string;
  /** The fault schedule (default: MILD_FAULTS). */
  faults?: FaultRule[];
}

const VMS = [
  { name: 'dom0', vmId: 1 },
  { name: 'vm1', vmId: 2 },
  { name: 'vm2', vmId: 3 },
] as const;
const CPUS = 4;
const VCPUS_PER_VM = 2;

/** The mild fault schedule: one virtual or physical interrupt delivery in ten held back 1 ms. */
export const MILD_FAULTS: FaultRule[] = [
  { id: 'delay-irq-delivery', match: { kind: 'irq', from: 'gic', irqOp: 'deliver' }, then: { action: 'delay', byNs: 1_000_000 }, probability: 0.1 },
];

export function defaultWorldSpec(seed: number, rounds: number): WorldSpec {
  const sends = Array.from({ length: rounds }, (_, round) =>
    VMS.flatMap((vm, index) => [opteeSend(vm.vmId, (round + index) % CPUS), awaitBottomHalf(vm.name, 2_000_000_000)]),
  ).flat();
  return guestWorldSpec({
    hypervisor: 'xen',
    spmcProfile: 'optee',
    vmSlots: VMS.length,
    cpus: CPUS,
    seed,
    guests: VMS.map((vm) => ({ name: vm.name, vmId: vm.vmId, variant: 'linux-6.10', vcpus: VCPUS_PER_VM, opteeClient: true })),
    actor: [...VMS.map((vm) => awaitProbe(vm.name)), ...sends],
  });
}

interface VmVerdict {
  vm: string;
  sent: number;
  delivered: number;
  lost: number;
  /** Callbacks with no send since the previous callback (should be 0). */
  phantom: number;
}

export interface LatencyPercentiles {
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
}

export interface DefaultWorldSummary {
  name: 'default-world';
  passed: boolean;
  ended: string;
  seed: number;
  runtime: RuntimeName;
  vms: VmVerdict[];
  faultsApplied: number;
  latencySendToCallback: LatencyPercentiles;
  historyEntries: number;
  historyHash: string;
  historyFile: string;
  wallMs: number;
  replay: string;
}

const recordsOf = (entries: HistoryEntry[], component: string, event: string) =>
  entries.flatMap((e) => (e.event.type === 'record' && e.event.component === component && e.event.data.event === event ? [{ t: e.t, data: e.event.data }] : []));

/**
 * Each successful send to a VM must be followed by an OP-TEE bottom half in that VM; several sends
 * before one callback legitimately merge into one pending bit, so a callback covers every send
 * before it. Times are comparable across components: virtual under sim, one monotonic clock
 * under ws.
 */
function verdictFor(entries: HistoryEntry[], vm: (typeof VMS)[number], latencies: ReturnType<typeof createHistogram>): VmVerdict {
  const sends = recordsOf(entries, SPMC, 'optee-notif-send').filter((r) => r.data.vm === vm.vmId && r.data.outcome === 'sent');
  const callbacks = recordsOf(entries, vm.name, 'optee-bottom-half');
  let delivered = 0;
  let phantom = 0;
  let waiting: number[] = [];
  const timeline = [...sends.map((s) => ({ t: s.t, kind: 'send' as const })), ...callbacks.map((c) => ({ t: c.t, kind: 'callback' as const }))].sort(
    (a, b) => a.t - b.t || (a.kind === 'send' ? -1 : 1),
  );
  for (const point of timeline) {
    if (point.kind === 'send') {
      waiting.push(point.t);
      continue;
    }
    if (waiting.length === 0) phantom++;
    for (const sentAt of waiting) latencies.record(Math.max(1, Math.round(point.t - sentAt)));
    delivered += waiting.length;
    waiting = [];
  }
  return { vm: vm.name, sent: sends.length, delivered, lost: waiting.length, phantom };
}

function percentiles(histogram: ReturnType<typeof createHistogram>): LatencyPercentiles {
  const us = (ns: number) => Math.round(ns / 100) / 10;
  if (histogram.count === 0) return { count: 0, p50Us: 0, p90Us: 0, p99Us: 0, maxUs: 0 };
  return {
    count: histogram.count,
    p50Us: us(histogram.percentile(50)),
    p90Us: us(histogram.percentile(90)),
    p99Us: us(histogram.percentile(99)),
    maxUs: us(histogram.max),
  };
}

export async function runDefaultWorld(run: DefaultWorldRun): Promise<DefaultWorldSummary> {
  const out = resolve(run.out);
  mkdirSync(out, { recursive: true });
  const historyFile = join(out, 'history.jsonl');
  const history = new FileHistorySink(historyFile);
  const started = process.hrtime.bigint();
  let ended: string;
  try {
    ({ ended } = await runWorld(defaultWorldSpec(run.seed, run.rounds), {
      runtime: run.runtime,
      history,
      faults: run.faults ?? MILD_FAULTS,
      logLevel: process.env.FFA_LOG_LEVEL ?? 'silent',
      timeoutMs: 120_000,
    }));
  } finally {
    history.close();
  }
  const wallMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  const entries = readHistory(historyFile);
  const latencies = createHistogram();
  const vms = VMS.map((vm) => verdictFor(entries, vm, latencies));
  const actorTimeouts = recordsOf(entries, ACTOR, 'actor-timeout').length;
  const crashed = entries.some((e) => e.event.type === 'component' && e.event.event === 'crash');
  const summary: DefaultWorldSummary = {
    name: 'default-world',
    passed: ended === 'done' && !crashed && actorTimeouts === 0 && vms.every((v) => v.sent === run.rounds && v.lost === 0 && v.phantom === 0),
    ended,
    seed: run.seed,
    runtime: run.runtime,
    vms,
    faultsApplied: entries.filter((e) => e.event.type === 'fault').length,
    latencySendToCallback: percentiles(latencies),
    historyEntries: entries.length,
    historyHash: history.digest(),
    historyFile,
    wallMs,
    replay: `ffa-world default --runtime ${run.runtime} --seed ${run.seed} --rounds ${run.rounds}`,
  };
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/** The terminal's short summary. */
export function printDefaultWorldSummary(summary: DefaultWorldSummary): void {
  const lat = summary.latencySendToCallback;
  console.log(`${summary.passed ? 'PASS' : 'FAIL'} default world (${summary.ended}): dom0 + 2 guests, linux-6.10 + OP-TEE client, Xen-like hypervisor, OP-TEE-like SPMC`);
  for (const vm of summary.vms) {
    console.log(`  ${vm.vm.padEnd(5)} sent ${vm.sent}, delivered ${vm.delivered}, lost ${vm.lost}, phantom ${vm.phantom}`);
  }
  console.log(`  faults applied: ${summary.faultsApplied}`);
  console.log(`  SP send → guest callback: p50 ${lat.p50Us} µs, p90 ${lat.p90Us} µs, p99 ${lat.p99Us} µs, max ${lat.maxUs} µs (${lat.count} notifications)`);
  console.log(`history ${summary.historyFile} (${summary.historyEntries} events, sha256 ${summary.historyHash})`);
  console.log(`replay: ${summary.replay}`);
}
