/**
 * A load across hosts (`ffa-world load --attach`, docs/beyond-one-machine.md "Load across
 * hosts"): the load's figures per host its guests run on, beside the world's, each latency figure
 * with how far the clocks at its two ends may put it off.
 *
 * - **The host** of a guest is the label it registered with the hypervisor (services/hypervisor/
 *   registration.ts `host`: its service's FFA_HOST_LABEL, such as a swarm node's name), else the
 *   host part of the URL it advertised: guests that registered `ws://10.0.0.7:7100` and
 *   `ws://10.0.0.7:7101` share a host and `ws://10.0.0.8:7100` is another. On an overlay network
 *   every container has an address of its own, so there only the label says which machine.
 * - **Sent, delivered, latency** per host are the load statistics' own (load-stats.ts), split by
 *   each send's receiver: sent counts the arrivals addressed to the host's guests, delivered the
 *   sends a callback at one of them covered; corrected runs from the arrival's intended time,
 *   uncorrected from the SPMC's set, to that callback.
 * - **Clock uncertainty.** An attached orchestrator maps each component's times onto its own
 *   clock, exactly for a component on its machine's boot and within a bound for one on another
 *   machine (shared/runtime/ws/link-clocks.ts). A figure measured between components A and B is
 *   off by at most A's bound plus B's: corrected is the orchestrator's arrival time (exact) to a
 *   guest's callback, uncorrected the SPMC's set to a guest's callback, arrival→set the
 *   orchestrator to the SPMC. A hop's two ends are not named here, so the hops carry the run's
 *   bound (the two largest added, as runner.ts's `latency.clockUncertaintyNs`). Null: a clock at
 *   one end was not known (no answer to the clock probes: its times were taken as the
 *   orchestrator's, so no bound holds).
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { PeerClockUsed } from '../../../shared/runtime/ws/world-client.ts';
import { workloadArrivals } from '../checkers/arrivals.ts';
import type { Percentiles, WorldModel } from '../scenario/types.ts';
import { percentilesOfNs, sendLatencies, type SendLatency } from './load-stats.ts';

/** A guest as the attach took it in: its component name, the URL it registered with, and the host label it gave (if any). */
export interface PlacedGuest {
  name: string;
  url: string | null;
  host?: string | null;
}

/** The host of a guest whose URL is missing or not a URL. */
export const UNKNOWN_HOST = 'unknown';

/** The figures of the guests on one host. */
export interface HostFigures {
  host: string;
  guests: string[];
  /** Arrivals addressed to these guests. */
  sent: number;
  /** Sends whose bit reached a callback at one of these guests. */
  delivered: number;
  /** Intended arrival → the callback (corrected for coordinated omission). */
  corrected: Percentiles;
  /** The SPMC's set → the callback. */
  uncorrected: Percentiles;
  /** ± ns on each figure from the clocks at its two ends; null when one was not known. */
  clockUncertaintyNs: { corrected: number | null; uncorrected: number | null };
  /** How these guests' clocks were mapped: same (this machine's boot), estimated, unknown. */
  clocks: PeerClockUsed['clock'][];
}

/** ± ns on each of the world's latency figures (load-stats.ts LoadStats.latency); null where a clock was not known. */
export interface FigureUncertainty {
  corrected: number | null;
  uncorrected: number | null;
  arrivalToSet: number | null;
  /** Every hop, and its transport and protocol parts: the run's bound. */
  hops: number | null;
}

/** The host part of a registered URL: ws://10.0.0.7:7100 → 10.0.0.7, ws://[::1]:7100 → ::1. */
export function hostOfUrl(url: string | null): string {
  if (url === null || !URL.canParse(url)) return UNKNOWN_HOST;
  const { hostname } = new URL(url);
  if (hostname === '') return UNKNOWN_HOST;
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** A guest's host: the label it registered with, else its URL's host part. */
export function hostOf(guest: PlacedGuest): string {
  return guest.host ?? hostOfUrl(guest.url);
}

/** The guests of each host, hosts and guests each in order. */
export function guestsByHost(guests: readonly PlacedGuest[]): Map<string, string[]> {
  const byHost = new Map<string, string[]>();
  for (const guest of guests) {
    const host = hostOf(guest);
    byHost.set(host, [...(byHost.get(host) ?? []), guest.name]);
  }
  const hosts = [...byHost.keys()].sort(compareHosts);
  return new Map(hosts.map((host) => [host, (byHost.get(host) ?? []).sort(compareNames)]));
}

const compareNames = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/** IPv4 addresses in numeric order (127.0.0.2 before 127.0.0.10), then names. */
function compareHosts(a: string, b: string): number {
  const octets = (host: string): number[] | null => (/^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? host.split('.').map(Number) : null);
  const [x, y] = [octets(a), octets(b)];
  if (x && y) return x.reduce((order, octet, i) => order || octet - (y[i] ?? 0), 0);
  if (x || y) return x ? -1 : 1;
  return compareNames(a, b);
}

/** One clock's bound (ns): exact for the orchestrator and a component on its boot; null when not known. */
function boundOf(clocks: Readonly<Record<string, PeerClockUsed>>, model: WorldModel, component: string): number | null {
  if (component === model.orchestrator) return 0;
  const clock = clocks[component];
  if (clock === undefined || clock.clock === 'unknown') return null;
  return clock.clock === 'same' ? 0 : clock.uncertaintyNs;
}

/** The largest of the bounds, or null when one is not known. */
function widest(bounds: readonly (number | null)[]): number | null {
  return bounds.some((b) => b === null) ? null : Math.max(0, ...(bounds as number[]));
}

const added = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : Math.ceil(a + b));

/** The bound on a figure from the orchestrator (or the SPMC: `from`) to a callback at any of `guests`. */
function toGuests(clocks: Readonly<Record<string, PeerClockUsed>>, model: WorldModel, from: string, guests: readonly string[]): number | null {
  return added(boundOf(clocks, model, from), widest(guests.map((g) => boundOf(clocks, model, g))));
}

/** ± ns on the world's figures, from every component's clock (attach.ts AttachedScenarioRun.clocks). */
export function figureUncertainty(clocks: Readonly<Record<string, PeerClockUsed>>, model: WorldModel): FigureUncertainty {
  const guests = model.guests.map((g) => g.component);
  const platform = [model.gic, model.spmd, model.spmc, ...(model.hypervisor === null ? [] : [model.hypervisor])];
  const all = [...platform, ...guests].map((c) => boundOf(clocks, model, c));
  const [first = 0, second = 0] = all.some((b) => b === null) ? [] : (all as number[]).sort((a, b) => b - a);
  return {
    corrected: toGuests(clocks, model, model.orchestrator, guests),
    uncorrected: toGuests(clocks, model, model.spmc, guests),
    arrivalToSet: added(0, boundOf(clocks, model, model.spmc)),
    hops: all.some((b) => b === null) ? null : Math.ceil(first + second),
  };
}

/** The receiver each workload arrival was addressed to (workload.ts: optee-notif-send {vm}, notifier-set {receiver}). */
function addressedTo(entry: HistoryEntry): number | null {
  const { event } = entry;
  if (event.type !== 'send' || event.message.kind !== 'control') return null;
  const data = event.message.data as Record<string, unknown> | null;
  const receiver = data?.['vm'] ?? data?.['receiver'];
  return typeof receiver === 'number' ? receiver : null;
}

/** How many workload arrivals were addressed to each receiver. */
function sentByReceiver(entries: readonly HistoryEntry[], model: WorldModel): Map<number, number> {
  const sentTo = new Map<number, number>();
  for (const arrival of workloadArrivals(entries, model).all) {
    const receiver = addressedTo(arrival.send);
    if (receiver !== null) sentTo.set(receiver, (sentTo.get(receiver) ?? 0) + 1);
  }
  return sentTo;
}

/**
 * The load's figures per host of its guests. `guests` are those the attach took in (their URLs);
 * `clocks` how each component's times were mapped (attach.ts). `sends` may be passed when the
 * caller has them already (load-stats.ts loadStatsWithSends).
 */
export function perHostFigures(
  entries: readonly HistoryEntry[],
  model: WorldModel,
  guests: readonly PlacedGuest[],
  clocks: Readonly<Record<string, PeerClockUsed>>,
  sends: readonly SendLatency[] = sendLatencies(entries, model),
): HostFigures[] {
  const sentTo = sentByReceiver(entries, model);
  const idOf = new Map(model.guests.map((g) => [g.component, g.vmId]));
  return [...guestsByHost(guests)].map(([host, names]) => {
    const ids = new Set(names.flatMap((name) => (idOf.has(name) ? [idOf.get(name) as number] : [])));
    const mine = sends.filter((s) => ids.has(s.receiver));
    return {
      host,
      guests: names,
      sent: [...ids].reduce((sum, id) => sum + (sentTo.get(id) ?? 0), 0),
      delivered: mine.length,
      corrected: percentilesOfNs(mine.map((s) => s.corrected)),
      uncorrected: percentilesOfNs(mine.map((s) => s.uncorrected)),
      clockUncertaintyNs: { corrected: toGuests(clocks, model, model.orchestrator, names), uncorrected: toGuests(clocks, model, model.spmc, names) },
      clocks: [...new Set(names.map((name) => clocks[name]?.clock ?? 'unknown'))].sort(),
    };
  });
}
