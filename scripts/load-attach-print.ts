/**
 * What `ffa-world load --attach` prints and writes (load.json): `ffa-world load`'s result
 * (scripts/load.ts LoadResult), each latency figure with its clock bound, and what the attach
 * found: the guests and their hosts, each host's figures, every component's clock, the guests
 * left out.
 */
import type { PeerClockUsed } from '../shared/runtime/ws/world-client.ts';
import type { LoadStats } from '../services/orchestrator/load-test/load-stats.ts';
import type { FigureUncertainty, HostFigures } from '../services/orchestrator/load-test/per-host.ts';
import type { PlatformRole } from '../services/orchestrator/run/distributed-world.ts';
import { clockNote, type LoadResult, printLoad } from './load.ts';
import { formatMs } from '../shared/duration.ts';

export interface AttachedGuest {
  name: string;
  id: number;
  vcpus: number;
  /** The URL it registered with, the host label it gave (FFA_HOST_LABEL), and its host: the label, else the URL's host part (load-test/per-host.ts). */
  url: string | null;
  label: string | null;
  host: string;
}

export interface AttachedLoadResult extends LoadResult {
  /** `ffa-world load`'s statistics; `latency.clockUncertaintyNs`: ± ns on each of its latency figures. */
  stats: LoadStats & { latency: LoadStats['latency'] & { clockUncertaintyNs: FigureUncertainty } };
  attached: {
    /** ws:// URL of each platform service. */
    addresses: Record<PlatformRole, string>;
    /** The registered guests the load ran over. */
    guests: AttachedGuest[];
    /** Registered guests left out (they did not answer the attach), each as `name (url): why`. */
    absent: string[];
    /** How each component's times were mapped onto the orchestrator's clock, by the run's end. */
    clocks: Record<string, PeerClockUsed>;
    perHost: HostFigures[];
    /** What made the figures untrustworthy (the verdict is then failed). */
    problems: string[];
    /** Components whose history stops early (their link dropped before they wrote its end): what they did after is unknown. */
    missingTails: string[];
  };
}


/** A clock as mapped: `same`, `estimated +86400.000123456 s ± 0.041 ms`, `unknown`. */
function clockText(clock: PeerClockUsed): string {
  if (clock.clock !== 'estimated') return clock.clock;
  const offset = BigInt(clock.offsetNs);
  const sign = offset < 0n ? '-' : '+';
  const magnitude = offset < 0n ? -offset : offset;
  return `estimated ${sign}${magnitude / 1_000_000_000n}.${(magnitude % 1_000_000_000n).toString().padStart(9, '0')} s ± ${formatMs(clock.uncertaintyNs)}`;
}

function printHosts(load: AttachedLoadResult): void {
  const { perHost } = load.attached;
  console.log(`  per host (each guest's registered host label, else its URL's host part), ${perHost.length} host${perHost.length === 1 ? '' : 's'}:`);
  const width = Math.max(...perHost.map((h) => h.host.length));
  for (const h of perHost) {
    const guests = h.guests.length > 3 ? `${h.guests.slice(0, 3).join(', ')}, … (${h.guests.length})` : h.guests.join(', ');
    const figure = (p: HostFigures['corrected'], bound: number | null) => `p50 ${formatMs(p.p50)}, p99 ${formatMs(p.p99)}${clockNote(bound)}`;
    console.log(`    ${h.host.padEnd(width)}  ${guests}: ${h.sent} sent, ${h.delivered} delivered; clock ${h.clocks.join('/')}`);
    console.log(`    ${''.padEnd(width)}  corrected ${figure(h.corrected, h.clockUncertaintyNs.corrected)}; uncorrected ${figure(h.uncorrected, h.clockUncertaintyNs.uncorrected)}`);
  }
}

function printAttachment(load: AttachedLoadResult): void {
  printHosts(load);
  const clocks = Object.entries(load.attached.clocks).map(([component, clock]) => `${component} ${clockText(clock)}`);
  console.log(`  clocks (each component's, onto this one's): ${clocks.join(', ')}`);
  for (const absent of load.attached.absent) console.log(`  left out of the run: ${absent}`);
  for (const tail of load.attached.missingTails) console.log(`  history cut short: ${tail}`);
  for (const problem of load.attached.problems) console.log(`  FAIL ${problem}`);
}

/** The short summary: `ffa-world load`'s, with the clock bounds, then the hosts, the clocks and who was left out. */
export function printAttachedLoad(load: AttachedLoadResult): void {
  printLoad(load, { uncertainty: load.stats.latency.clockUncertaintyNs, beforeVerdicts: () => printAttachment(load) });
}
