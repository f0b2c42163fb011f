/**
 * Where a world's components run under the ws runtime, decided before any worker starts: the
 * WorldSpec checked, the components grouped into worker threads, which peers each component
 * accepts links from, and the channels that carry observable events straight to the
 * orchestrator's worker.
 */
import { MessageChannel } from 'node:worker_threads';
import type { WorldSpec } from '../component.ts';
import { WsRuntimeError } from './errors.ts';
import { type Credentials, type KeyText, linkKey } from './credentials.ts';
import type { WorkerSetup } from './worker-protocol.ts';

/** Bound on guests sharing one worker thread. */
const MAX_GUESTS_PER_WORKER = 256;

/** Checks a WorldSpec's names and links before anything starts. */
export function checkWorldSpec(spec: WorldSpec): void {
  const names = spec.components.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new WsRuntimeError('BAD_WORLD', `duplicate component names: ${names.join(', ')}`);
  const seen = new Set<string>();
  for (const [a, b] of spec.links) {
    if (!names.includes(a) || !names.includes(b)) throw new WsRuntimeError('BAD_WORLD', `link ${a}→${b} names an unknown component`);
    if (a === b) throw new WsRuntimeError('BAD_WORLD', `link ${a}→${b} links a component to itself`);
    const pair = [a, b].sort().join('↔');
    if (seen.has(pair)) throw new WsRuntimeError('BAD_WORLD', `${a} and ${b} are linked twice`);
    seen.add(pair);
  }
}

/** How many worker threads the platform's components (SPMD, SPMC, hypervisor, GIC) run in. */
export type PlatformWorkers = 1 | 2 | 4;
export const PLATFORM_WORKERS: readonly PlatformWorkers[] = [1, 2, 4];

/**
 * The platform's roles by the worker they share when fewer than four are asked for: two workers
 * keep the secure side (EL3's SPMD and the SPMC) apart from the normal world's EL2 and the GIC
 * broker; one worker holds all four. Every component keeps its own node, links, identity and
 * keys whichever worker it runs in; only thread wake-ups are saved.
 */
const PLATFORM_SHARES: Readonly<Record<PlatformWorkers, readonly (readonly string[])[]>> = {
  4: [['spmd'], ['spmc'], ['hypervisor'], ['gic']],
  2: [['spmd', 'spmc'], ['hypervisor', 'gic']],
  1: [['spmd', 'spmc', 'hypervisor', 'gic']],
};

/**
 * Which components share a worker: guests in groups of `guestsPerWorker`; the platform's roles as
 * `platformWorkers` says (default one worker each, a worker per exception level as docs/design.md
 * has it); every other component (the orchestrator, a test's actors) alone.
 */
export function workerGroups(spec: WorldSpec, guestsPerWorker = 1, platformWorkers: PlatformWorkers = 4): string[][] {
  const perWorker = Math.max(1, Math.min(MAX_GUESTS_PER_WORKER, Math.floor(guestsPerWorker)));
  const guests = spec.components.filter((c) => c.role === 'guest').map((c) => c.name);
  const shares = PLATFORM_SHARES[platformWorkers];
  const platform = shares.map((roles) => spec.components.filter((c) => roles.includes(c.role)).map((c) => c.name)).filter((group) => group.length > 0);
  const shared = new Set(platform.flat());
  const others = spec.components.filter((c) => c.role !== 'guest' && !shared.has(c.name)).map((c) => [c.name]);
  const guestGroups = Array.from({ length: Math.ceil(guests.length / perWorker) }, (_, i) => guests.slice(i * perWorker, (i + 1) * perWorker));
  return [...platform, ...others, ...guestGroups];
}

/**
 * Each worker's observable events go straight to the orchestrator's worker over a channel of
 * their own (component.ts isObservable), not through the supervisor's thread: relaying them
 * there cost a structured clone each way for a third of a loaded world's history. The
 * orchestrator's own worker has a channel to itself too, so what its other components record
 * arrives the same way, on a later turn, never re-entering the orchestrator.
 */
export function observationChannels(spec: WorldSpec, groups: readonly string[][]): Pick<WorkerSetup, 'observer' | 'observed'>[] {
  const orchestrator = spec.orchestrator;
  const home = groups.findIndex((group) => orchestrator !== undefined && group.includes(orchestrator));
  if (orchestrator === undefined || home < 0) return groups.map(() => ({}));
  const channels = groups.map(() => new MessageChannel());
  const observed = channels.map((channel) => channel.port2);
  return channels.map((channel, index) => ({ observer: { orchestrator, port: channel.port1 }, ...(index === home ? { observed } : {}) }));
}

/**
 * One component's credentials (credentials.ts): the key of each of its links, derived from the
 * world secret, and nothing of any other link. The peers that open links to it are accepted
 * under their role; it proves the peers it opens links to with theirs.
 */
export function credentialsFor(spec: WorldSpec, name: string, worldSecret: KeyText): Credentials {
  const credentials: Credentials = { accept: {}, dial: {} };
  for (const [opener, target] of spec.links) {
    if (target === name) {
      const role = spec.components.find((c) => c.name === opener)?.role;
      credentials.accept[opener] = { key: linkKey(worldSecret, opener, target), ...(role ? { role } : {}) };
    }
    if (opener === name) credentials.dial[target] = linkKey(worldSecret, opener, target);
  }
  return credentials;
}
