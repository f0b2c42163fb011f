/**
 * `npm run bench [-- --quick] [-- --only sim,echo,ws,world,chain,thousand]`: writes
 * bench-results/bench.json and prints a summary. Measured in one run, so the floors share the
 * machine's mood with what is held against them:
 *
 * - the sim runtime's throughput with its full history, and its engine alone;
 * - the floors: a bare ws + msgpackr echo (one at a time; 256 in flight, with its CPU per
 *   message) and the chain, a ring of as many threads as the loaded world uses carrying one frame
 *   as many hops as a notification's critical path (bench/chain.ts), driven open-model at the
 *   world's rates and searched for its saturation;
 * - the ws runtime's round trips between two components;
 * - 64 guests against each SPMC profile: at saturation, at half their capacity (distinct
 *   deliveries), at the rates below where the p99 target is searched, with CPU per frame;
 * - 1,000 guests x 2 vCPUs up, probed and bound, with peak RSS.
 *
 * Then each figure as a ratio to its floor and each target beside it, met or missed
 * (bench/report.ts). Figures are reported, never asserted; a section that fails is reported as
 * such, the others still run, and the exit status is then 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { measureBareEcho } from './bench/bare-echo.ts';
import { type ChainFigures, CRITICAL_PATH_HOPS, LOAD_GUESTS, loadWorldThreads, measureChain } from './bench/chain.ts';
import { type LoadSummary, measureLoad64, measureRateWithinP99, measureSaturationOnePlatformWorker, measureThousandGuestsUp, P99_TARGET_MS, type RateTried } from './bench/load.ts';
import { type BenchPlan, benchPlan, CHAIN_RATES_WITHOUT_WORLD, isPlan, type Section } from './bench/options.ts';
import { benchReport, type BenchReport, type Profile, PROFILES, worldRates } from './bench/report.ts';
import { measureSimThroughput } from './bench/sim-throughput.ts';
import { tally, targetLine } from './bench/targets.ts';
import { measureWsRoundTrips } from './bench/ws-round-trips.ts';

const OUT_DIR = 'bench-results';
const OUT_FILE = `${OUT_DIR}/bench.json`;

const parsed = benchPlan(process.argv.slice(2));
if (!isPlan(parsed)) {
  (parsed.exitCode === 0 ? console.log : console.error)(parsed.message);
  process.exit(parsed.exitCode);
}
const plan: BenchPlan = parsed;

const startedNs = process.hrtime.bigint();
const failures: Record<string, string> = {};
/** Wall time each section took, s: what to leave out with --only when iterating. */
const sectionSeconds: Partial<Record<Section, number>> = {};

/** Run a section if the plan has it; a failure is recorded and printed, and the bench goes on. */
async function section<T>(name: Section, title: string, run: () => Promise<T>): Promise<T | null> {
  if (!plan.sections.has(name)) return null;
  console.log(title);
  const sectionStartNs = process.hrtime.bigint();
  try {
    return await run();
  } catch (error) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    failures[name] = detail;
    console.error(`  FAILED: ${detail.split('\n')[0] ?? ''}`);
    return null;
  } finally {
    // Rounded after the sum: the world section, run once per profile, printed 45.099999999999994 s.
    const seconds = Number(process.hrtime.bigint() - sectionStartNs) / 1e9 + (sectionSeconds[name] ?? 0);
    sectionSeconds[name] = Math.round(seconds * 10) / 10;
  }
}

const sim = await section('sim', 'sim throughput…', async () => {
  const hashed = await measureSimThroughput(plan.simCalls, 'hashed');
  console.log(`  ${hashed.messagesPerSecond} messages/s (${hashed.messagesDelivered} messages, ${hashed.historyEntries} history entries encoded and hashed, ${hashed.wallMs} ms)`);
  const engineAlone = await measureSimThroughput(plan.simCalls, 'counted');
  console.log(`  engine alone (history entries counted, not encoded): ${engineAlone.messagesPerSecond} messages/s`);
  return { ...hashed, engineAlone };
});

const bareEcho = await section('echo', 'bare ws + msgpackr echo (the floor)…', async () => {
  const echo = await measureBareEcho(plan.echoRoundTrips);
  console.log(`  one at a time: ${echo.sequential.roundTripsPerSecond}/s (${echo.sequential.microsecondsPerRoundTrip} µs); 256 in flight: ${echo.pipelined256.roundTripsPerSecond}/s, ${echo.pipelined256.cpuMicrosPerMessage} µs CPU per message`);
  return echo;
});

const ws = await section('ws', 'ws runtime, caller → echo, two workers…', async () => {
  const sequential = await measureWsRoundTrips(1, plan.wsSequential);
  const pipelined256 = await measureWsRoundTrips(256, plan.wsPipelinedPerVcpu);
  console.log(`  one at a time: ${sequential.roundTripsPerSecond}/s (${sequential.microsecondsPerRoundTrip} µs); 256 in flight: ${pipelined256.roundTripsPerSecond}/s`);
  return { sequential, pipelined256 };
});

interface WorldSection {
  baseline: LoadSummary;
  saturation: LoadSummary;
  halfCapacity: LoadSummary;
  withinP99: { ratePerSecond: number | null; tried: RateTried[] } | null;
  onePlatformWorker: { baseline: LoadSummary; saturation: LoadSummary } | null;
}

const world: Partial<Record<Profile, WorldSection>> = {};
for (const spmc of PROFILES) {
  const figures = await section('world', `load: ${LOAD_GUESTS} guests, ${spmc} SPMC, at saturation (${plan.saturationRatePerSecond}/s offered), then at half the capacity shown…`, async () => {
    const { baseline, saturation, halfCapacity } = await measureLoad64(spmc, plan.saturationRatePerSecond, plan.worldDurationMs);
    const cpu = (s: LoadSummary) => (s.traffic ? `${s.traffic.cpuMicrosPerFrame} µs CPU per frame (${s.traffic.frames.sent} frames)` : 'no traffic figures');
    console.log(`  baseline (one notification): ${cpu(baseline)}`);
    console.log(`  saturation: ${saturation.callbacksPerSecond} callbacks/s start to last (distinct deliveries; ${saturation.callbacksPerSecondInWindow}/s in the window), ${saturation.mergeRatio ?? '—'} sends each (${saturation.deliveredSendsPerSecond} sends/s delivered); corrected p50 ${saturation.endToEndCorrectedMs.p50} ms, p99 ${saturation.endToEndCorrectedMs.p99} ms; ${cpu(saturation)}`);
    console.log(`  half capacity (${halfCapacity.offeredPerSecond}/s): corrected p50 ${halfCapacity.endToEndCorrectedMs.p50} ms, p99 ${halfCapacity.endToEndCorrectedMs.p99} ms; ${cpu(halfCapacity)}`);
    let withinP99: WorldSection['withinP99'] = null;
    if (plan.withinP99) {
      withinP99 = await measureRateWithinP99(spmc, halfCapacity.offeredPerSecond / 2, plan.worldDurationMs);
      const tried = withinP99.tried.map((t) => `${t.rate}/s: ${t.p99Ms} ms${t.passed ? '' : ' (fails)'}`).join(', ');
      console.log(`  p99 <= ${P99_TARGET_MS} ms with every check holding: ${withinP99.ratePerSecond === null ? 'at no rate tried' : `up to ${withinP99.ratePerSecond}/s`} (${tried})`);
    }
    let onePlatformWorker: WorldSection['onePlatformWorker'] = null;
    if (plan.onePlatformWorker) {
      onePlatformWorker = await measureSaturationOnePlatformWorker(spmc, plan.saturationRatePerSecond, plan.worldDurationMs);
      const { saturation: shared, baseline: sharedBaseline } = onePlatformWorker;
      console.log(`  platform in one worker (--platform-workers 1): baseline ${cpu(sharedBaseline)}; saturation ${shared.callbacksPerSecond} callbacks/s, ${shared.mergeRatio ?? '—'} sends each; ${cpu(shared)}`);
    }
    return { baseline, saturation, halfCapacity, withinP99, onePlatformWorker };
  });
  if (figures) world[spmc] = figures;
}

const chainThreads = loadWorldThreads(LOAD_GUESTS);
const worldRatesRun = Object.values(world).flatMap((w) => worldRates(w).map((r) => r.ratePerSecond));
const chainRates = worldRatesRun.length > 0 ? worldRatesRun : CHAIN_RATES_WITHOUT_WORLD;
const chain: ChainFigures | null = await section(
  'chain',
  `chain floor: ${chainThreads} threads in a ring (the ${LOAD_GUESTS}-guest world's), one frame ${CRITICAL_PATH_HOPS} hops, open model at ${[...new Set(chainRates)].sort((a, b) => a - b).join(', ')}/s, then its saturation…`,
  () => measureChain(chainThreads, CRITICAL_PATH_HOPS, { rates: chainRates, durationMs: plan.worldDurationMs, probeDurationMs: plan.chainProbeDurationMs, probesMax: plan.chainProbesMax }, console.log),
);

const thousand = await section('thousand', 'load: 1,000 guests x 2 vCPUs up, probed and bound…', async () => {
  const figures = await measureThousandGuestsUp();
  console.log(`  ${figures.upProbedBoundMs} ms, peak RSS ${figures.rssPeakMiB} MiB`);
  return figures;
});

const report = benchReport({ sim, bareEcho, ws, world, chain, thousand });

const result = {
  when: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  loadAverageAtEnd: loadavg(),
  wallSeconds: Math.round(Number(process.hrtime.bigint() - startedNs) / 1e9),
  sectionSeconds,
  plan: { ...plan, sections: [...plan.sections] },
  sim,
  bareEcho,
  ws,
  load: { guests64: world, thousandGuests: thousand },
  chain,
  comparisons: { latency: report.latency, capacity: report.capacity, cpuPerMessage: report.cpuPerMessage, wsHop: report.wsHop },
  targets: report.targets,
  failures,
};
mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(OUT_FILE, `${JSON.stringify(result, null, 2)}\n`);
printSummary(report);
const timings = Object.entries(sectionSeconds).map(([name, seconds]) => `${name} ${seconds} s`).join(', ');
console.log(`wrote ${OUT_FILE} (${result.wallSeconds} s: ${timings}; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores)`);
if (Object.keys(failures).length > 0) {
  console.error(`sections that failed: ${Object.keys(failures).join(', ')} (their figures are missing; the reasons are in ${OUT_FILE})`);
  process.exitCode = 1;
}

function printSummary(r: BenchReport): void {
  console.log('\nworld / chain, corrected latency at each offered rate (judged up to half capacity):');
  for (const [profile, rows] of Object.entries(r.latency)) {
    for (const row of rows) {
      const chainText = row.chain ? `chain p50 ${row.chain.p50} ms, p99 ${row.chain.p99} ms${row.chainComplete ? '' : ' (lower bounds)'}` : 'no chain figure';
      console.log(`  ${profile.padEnd(8)} ${`${row.ratePerSecond}/s`.padStart(7)}: world p50 ${row.world.p50} ms, p99 ${row.world.p99} ms; ${chainText}; ratios ${row.p50Ratio ?? '—'}x, ${row.p99Ratio ?? '—'}x${row.judged ? '' : ' (above half capacity: not judged)'}`);
    }
  }
  console.log('capacity (distinct deliveries at saturation) / chain saturation:');
  for (const [profile, c] of Object.entries(r.capacity)) {
    console.log(`  ${profile.padEnd(8)} ${c.callbacksPerSecond} callbacks/s, ${c.mergeRatio ?? '—'} sends per callback (${c.deliveredSendsPerSecond} sends/s); chain ${c.chainSaturationPerSecond ?? '—'} arrivals/s; ratio ${c.ratio ?? '—'}x`);
  }
  console.log(`CPU per ws message: echo (256 in flight) ${r.cpuPerMessage.echoMicros ?? '—'} µs`);
  for (const [profile, c] of Object.entries(r.cpuPerMessage.world)) {
    const loaded = c.loaded ? `${c.loaded.micros ?? '—'} µs under load (${c.loaded.cpuMicros} µs CPU over ${c.loaded.frames} frames, the saturation run less its baseline)` : 'no baseline';
    console.log(`  ${profile.padEnd(8)} ${loaded}; ${c.wholeRun.micros ?? '—'} µs over the whole run; ratio ${c.ratio ?? '—'}x`);
  }
  for (const [profile, c] of Object.entries(r.onePlatformWorker)) {
    console.log(`  ${profile.padEnd(8)} platform in one worker: ${c.loaded?.micros ?? '—'} µs under load, ratio ${c.cpuRatio ?? '—'}x; ${c.callbacksPerSecond} callbacks/s, ${c.capacityRatio ?? '—'}x the chain (shown, not judged)`);
  }
  console.log(`ws hop: ${r.wsHop.wsMicros ?? '—'} µs vs echo ${r.wsHop.echoMicros ?? '—'} µs one at a time; ratio ${r.wsHop.ratio ?? '—'}x`);
  const counts = tally(r.targets);
  console.log(`\ntargets: ${counts.met} met, ${counts.missed} missed, ${counts['not measured']} not measured`);
  for (const target of r.targets) console.log(`  ${targetLine(target)}`);
}
