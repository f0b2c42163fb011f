/**
 * `npm run bench`: writes bench-results/bench.json with the sim runtime's throughput, the ws
 * runtime's round trips between two components, and a bare ws + msgpackr echo measured in the
 * same run as the floor, with the ratios (issue 2's targets: sim >= 500,000 messages/s on one
 * core; a ws hop <= 1.5x the bare echo's cost), and the load figures (issue 9: 64 guests at
 * saturation and at half rate, 1,000 guests coming up). Figures are reported, never asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { measureBareEcho } from './bench/bare-echo.ts';
import { measureLoad64, measureRateWithinP99, measureThousandGuestsUp, P99_TARGET_MS } from './bench/load.ts';
import { measureSimThroughput } from './bench/sim-throughput.ts';
import { measureWsRoundTrips } from './bench/ws-round-trips.ts';
import { PROFILE_NAMES } from '../services/spmc/profiles.ts';

const OUT_DIR = 'bench-results';
const OUT_FILE = `${OUT_DIR}/bench.json`;

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

console.log('sim throughput…');
const sim = await measureSimThroughput(200_000, 'hashed');
console.log(`  ${sim.messagesPerSecond} messages/s (${sim.messagesDelivered} messages, ${sim.historyEntries} history entries encoded and hashed, ${sim.wallMs} ms)`);
const simEngine = await measureSimThroughput(200_000, 'counted');
console.log(`  engine alone (history entries counted, not encoded): ${simEngine.messagesPerSecond} messages/s`);

console.log('bare ws + msgpackr echo (the floor)…');
const bare = await measureBareEcho(10_000);
console.log(`  one at a time: ${bare.sequential.roundTripsPerSecond}/s (${bare.sequential.microsecondsPerRoundTrip} µs); 256 in flight: ${bare.pipelined256.roundTripsPerSecond}/s`);

console.log('ws runtime, caller → echo, two workers…');
const wsSequential = await measureWsRoundTrips(1, 10_000);
const wsPipelined = await measureWsRoundTrips(256, 160);
console.log(`  one at a time: ${wsSequential.roundTripsPerSecond}/s (${wsSequential.microsecondsPerRoundTrip} µs); 256 in flight: ${wsPipelined.roundTripsPerSecond}/s`);

const load64: Record<string, Awaited<ReturnType<typeof measureLoad64>> & { withinP99: Awaited<ReturnType<typeof measureRateWithinP99>> }> = {};
for (const spmc of PROFILE_NAMES) {
  console.log(`load: 64 guests, ${spmc} SPMC, at saturation (5,000/s offered), then at half the rate reached…`);
  const figures = await measureLoad64(spmc);
  console.log(`  saturation: ${figures.saturation.deliveredSendsPerSecond} notifications/s end to end (${figures.saturation.callbacksPerSecond} callbacks/s), corrected p99 ${figures.saturation.endToEndCorrectedMs.p99} ms`);
  console.log(`  half rate (${figures.halfRate.offeredPerSecond}/s): corrected p99 ${figures.halfRate.endToEndCorrectedMs.p99} ms, p50 ${figures.halfRate.endToEndCorrectedMs.p50} ms`);
  const withinP99 = await measureRateWithinP99(spmc, figures.halfRate.offeredPerSecond / 2);
  load64[spmc] = { ...figures, withinP99 };
  const tried = withinP99.tried.map((t) => `${t.rate}/s: ${t.p99Ms} ms${t.passed ? '' : ' (fails)'}`).join(', ');
  console.log(`  p99 <= ${P99_TARGET_MS} ms with every check holding: ${withinP99.ratePerSecond === null ? 'at no rate tried' : `up to ${withinP99.ratePerSecond}/s`} (${tried})`);
}

console.log('load: 1,000 guests x 2 vCPUs up, probed and bound…');
const thousand = await measureThousandGuestsUp();
console.log(`  ${thousand.upProbedBoundMs} ms, peak RSS ${thousand.rssPeakMiB} MiB`);

const result = {
  when: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  loadAverageAtEnd: loadavg(),
  sim: { ...sim, engineAlone: simEngine, target: 'messagesPerSecond >= 500000 (one core)' },
  bareEcho: bare,
  ws: {
    sequential: wsSequential,
    pipelined256: wsPipelined,
    costRatioToBare: {
      sequential: ratio(wsSequential.microsecondsPerRoundTrip, bare.sequential.microsecondsPerRoundTrip),
      pipelined256: ratio(bare.pipelined256.roundTripsPerSecond, wsPipelined.roundTripsPerSecond),
    },
    target: 'costRatioToBare <= 1.5',
  },
  load: {
    guests64: load64,
    thousandGuests: thousand,
    targets: '>= 5000 end-to-end notifications/s with 64 guests; p99 <= 20 ms at half that rate (withinP99: the highest rate, halving from a quarter of saturation, where it holds); 1000 guests x 2 vCPUs up, probed, bound <= 10 s with RSS <= 1.5 GiB',
  },
};
mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(OUT_FILE, `${JSON.stringify(result, null, 2)}\n`);
console.log(`ws cost / bare cost: ${result.ws.costRatioToBare.sequential}x one at a time, ${result.ws.costRatioToBare.pipelined256}x with 256 in flight`);
console.log(`wrote ${OUT_FILE}`);
