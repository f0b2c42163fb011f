/**
 * Runs a scenario against a world that is already running as separate services (docker compose,
 * or the OS processes of scripts/compose-local.ts), instead of starting one: the orchestrator
 * attaches. It links to the GIC, SPMD, SPMC and hypervisor at the addresses it is given, asks the
 * hypervisor which guests registered (and waits until their number settles), takes in each guest
 * that answers within its bound at the URL it registered with (attach-guests.ts: every other is
 * left out and named), subscribes to every component's history over the world channel
 * (shared/runtime/ws/world-channel.ts), and then runs the scenario with those guests as its VMs
 * (distributed-world.ts attachedScenario). Every link is proven both ways before anything is sent
 * on it, and no secret crosses the wire (docs/threat-model.md): a guest's advertised URL learns
 * nothing from the orchestrator's dial. Faults, crashes and stalls travel over the same links.
 * The merged history is judged by the same checkers as any run (runner.ts judgeRun).
 */
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { type Clock, isObservable, type ObservedEvent } from '../../../shared/runtime/component.ts';
import { makeFolder } from '../../../shared/runtime/files.ts';
import { FileHistorySink, type HistoryEntry, type HistoryEvent, MemoryHistorySink } from '../../../shared/runtime/history.ts';
import type { Message } from '../../../shared/protocol/messages.ts';
import { knownControlOp } from '../../../shared/protocol/control.ts';
import type { Credentials } from '../../../shared/runtime/ws/credentials.ts';
import { WsNode } from '../../../shared/runtime/ws/node.ts';
import { DRIFT_PER_NS } from '../../../shared/runtime/ws/clock-offset.ts';
import { type PeerClockUsed, WorldChannelClient } from '../../../shared/runtime/ws/world-client.ts';
import { type GuestJoining, joinGuests } from './attach-guests.ts';
import { attachedScenario, PLATFORM_ROLES, type PlatformRole, type RegisteredGuest } from './distributed-world.ts';
import { judgeRun, orchestratorConfig, type ScenarioRun } from './runner.ts';
import type { Scenario } from '../scenario/types.ts';
import { COMPONENT_MODULES, COMPONENTS } from './world-builder.ts';

export interface AttachOptions {
  /** ws:// URL of each platform service. */
  addresses: Record<PlatformRole, string>;
  /** The orchestrator's credentials: its link keys to the platform, and the guest issuer key (service-credentials.ts). */
  credentials: Credentials;
  seed: number;
  /** Output folder (history.jsonl, summary.json, trace.json, report.html); absent: in memory. */
  out?: string;
  /** Guests that must have registered before the run starts… */
  minGuests: number;
  /** …and how long their number must stay the same. */
  settleMs: number;
  /** Bound on finding the world (links, guests, subscriptions). */
  attachTimeoutMs: number;
  /** Bound on the run itself, once the scenario started. */
  runTimeoutMs: number;
  /** Bound on each registered guest's answer (link, history, probe); past it the guest is left out, named. Default 20 s. */
  guestAnswerMs?: number;
  log: Logger;
  /**
   * no-lost's liveness bound (default 500 ms): a notification delivered later than this after
   * its set counts as lost. Containers on a small machine stall together now and then (a
   * `docker kill` held every container of a 2-core machine for ~0.8 s), so a world of services
   * may need a longer one.
   */
  livenessBoundMs?: number;
  /** The command line that runs this again (for the result's replay field). */
  replay: string;
}

const PLATFORM_NAMES: readonly string[] = PLATFORM_ROLES.map((role) => COMPONENTS[role]);
const STATUS_POLL_MS = 250;
/** Events still on their way when the orchestrator finished (each node flushes every turn). */
const TAIL_MS = 300;
/** Events the attached run keeps (the whole history is judged at the end). */
const HISTORY_MAX = 5_000_000;
/** How long the attach waits for a clock estimate from each component (the burst at link-up answers in ms). */
const CLOCKS_WAIT_MS = 5_000;
const DEFAULT_GUEST_ANSWER_MS = 20_000;

/** A clock whose base is chosen once the world's components have told theirs. */
class RebasableClock implements Clock {
  constructor(public baseNs: bigint) {}
  nowNs(): number {
    return Number(process.hrtime.bigint() - this.baseNs);
  }
}

/** The registered guests from a hypervisor-status answer (only running VMs with a URL). */
export function registeredGuests(data: unknown): RegisteredGuest[] {
  const vms = typeof data === 'object' && data !== null ? (data as { vms?: unknown }).vms : undefined;
  if (!Array.isArray(vms)) return [];
  return vms.flatMap((vm: Record<string, unknown>) => {
    const ok = typeof vm['name'] === 'string' && typeof vm['id'] === 'number' && typeof vm['url'] === 'string';
    const running = vm['state'] === undefined || vm['state'] === 'running';
    if (!ok || !running) return [];
    const vcpus = typeof vm['vcpus'] === 'number' ? vm['vcpus'] : Array.isArray(vm['vcpus']) ? vm['vcpus'].length : 1;
    const name = typeof vm['component'] === 'string' ? vm['component'] : (vm['name'] as string);
    return [{ name, id: vm['id'] as number, vcpus, driver: typeof vm['driver'] === 'string' ? vm['driver'] : null, url: vm['url'] as string }];
  });
}

/** One attached run: the node, the channel, and the history as it arrives. */
class AttachedRun {
  readonly clock = new RebasableClock(process.hrtime.bigint());
  readonly entries: HistoryEntry[] = [];
  /** Which peer's stream each entry came from (null: the orchestrator's own), by index. */
  private readonly sources: (string | null)[] = [];
  /** Guests left out of the run (attach-guests.ts): their history is not judged. */
  private readonly leftOut = new Set<string>();
  private readonly probeWaiters = new Map<string, () => void>();
  dropped = 0;
  node!: WsNode;
  readonly client: WorldChannelClient;
  private started = false;
  private observed: ObservedEvent[] = [];
  private observeScheduled = false;
  private statusWaiter: ((data: unknown) => void) | null = null;
  private doneWaiter: (() => void) | null = null;
  finished = false;
  /** A platform service whose link dropped: the world is gone, and the run ends at once. */
  platformLost: string | null = null;
  /** When the components' clock offsets were fixed (this machine's clock). */
  clocksFixedAt = 0n;

  constructor(private readonly options: AttachOptions) {
    this.client = new WorldChannelClient({
      send: (to, message) => this.node.sendDirect(to, message),
      changeOwnFaults: (install, remove) => this.node.changeFaults(install, remove),
      onEvent: (peer, t, event) => this.collect(t, event, peer),
      log: options.log,
      peerClock: (peer) => this.node.peerClock(peer),
    });
  }

  async open(): Promise<void> {
    this.node = await WsNode.create({
      // Its config (the scenario's steps) comes with start(), once the world's VMs are known.
      component: { name: COMPONENTS.orchestrator, role: 'orchestrator', module: COMPONENT_MODULES.orchestrator, config: null },
      seed: this.options.seed,
      worldNames: [COMPONENTS.orchestrator],
      credentials: this.options.credentials,
      clock: this.clock,
      history: (t, event) => this.collect(t, event, null),
      log: this.options.log,
      world: this.client.control(),
      intercept: (from, message) => this.intercept(from, message),
      // The components may run on other machines: each link's clock is estimated (link-clocks.ts).
      linkClocks: { probe: true },
    });
  }

  /** Every event, the orchestrator's own and the others'; the others' observable ones go to it. */
  private collect(t: number, event: HistoryEvent, peer: string | null): void {
    if (peer !== null && this.leftOut.has(peer)) return;
    const fromPeer = peer !== null;
    if (this.entries.length < HISTORY_MAX) {
      this.entries.push({ seq: this.entries.length, t, event });
      this.sources.push(peer);
    } else this.dropped++;
    if (event.type === 'record' && event.data['event'] === 'done' && event.component === peer) this.probeWaiters.get(peer)?.();
    if (event.type === 'record' && event.component === COMPONENTS.orchestrator && event.data['event'] === 'done') {
      this.finished = true;
      this.doneWaiter?.();
    }
    if (event.type === 'component' && event.event === 'link-lost' && event.component === COMPONENTS.orchestrator && PLATFORM_NAMES.includes(event.detail)) {
      this.platformLost ??= event.detail;
      this.doneWaiter?.();
    }
    if (fromPeer && isObservable(event, COMPONENTS.orchestrator)) {
      this.observed.push({ t, event });
      this.scheduleObserve();
    }
  }

  private scheduleObserve(): void {
    if (!this.started || this.observeScheduled) return;
    this.observeScheduled = true;
    setImmediate(() => {
      this.observeScheduled = false;
      this.node.host.observe(this.observed.splice(0));
    });
  }

  private intercept(from: string, message: Message): boolean {
    if (this.client.handle(from, message)) return true;
    if (message.kind === 'control' && knownControlOp(message.op) === 'hypervisor-status-result' && this.statusWaiter) {
      this.statusWaiter(message.data);
      return true;
    }
    return false;
  }

  /** The history to judge: every entry but those of the guests left out. */
  judged(): HistoryEntry[] {
    return this.entries.filter((_, index) => {
      const source = this.sources[index];
      return source === null || source === undefined || !this.leftOut.has(source);
    });
  }

  /** Resolves true once `guest` recorded `done` (its probe ended, whatever the outcome), false after `timeoutMs`. */
  probed(guest: string, timeoutMs: number): Promise<boolean> {
    const seen = (): boolean => this.entries.some((e, index) => this.sources[index] === guest && e.event.type === 'record' && e.event.component === guest && e.event.data['event'] === 'done');
    if (seen()) return Promise.resolve(true);
    return new Promise((resolvePromise) => {
      const timer = setTimeout(() => {
        this.probeWaiters.delete(guest);
        resolvePromise(false);
      }, timeoutMs);
      this.probeWaiters.set(guest, () => {
        clearTimeout(timer);
        this.probeWaiters.delete(guest);
        resolvePromise(true);
      });
    });
  }

  /** What attach-guests.ts needs of this run. */
  joining(): GuestJoining {
    return {
      open: (peer, deadlineMs) => this.node.open(peer, deadlineMs),
      subscribe: async (name, timeoutMs) => (await this.client.subscribe([name], timeoutMs)).get(name) ?? this.clock.baseNs,
      probed: (name, timeoutMs) => this.probed(name, timeoutMs),
      leaveOut: (name) => this.leaveOut(name),
    };
  }

  leaveOut(guest: string): void {
    this.leftOut.add(guest);
    this.client.forget(guest);
  }

  /** Ask the hypervisor which VMs it runs (bounded). */
  status(timeoutMs: number): Promise<unknown> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.statusWaiter = null;
        reject(new Error(`the hypervisor did not answer hypervisor-status within ${timeoutMs} ms`));
      }, timeoutMs);
      this.statusWaiter = (data) => {
        clearTimeout(timer);
        this.statusWaiter = null;
        resolvePromise(data);
      };
      const sent = this.node.sendDirect(COMPONENTS.hypervisor, { kind: 'control', op: 'hypervisor-status', data: null });
      if (sent !== undefined) this.statusWaiter(null);
    });
  }

  start(config: unknown): void {
    this.node.start(config);
    this.started = true;
    this.scheduleObserve();
  }

  /** Resolves when the orchestrator recorded done, a platform service went away, or after `timeoutMs`: whether it finished. */
  waitForDone(timeoutMs: number): Promise<boolean> {
    if (this.finished || this.platformLost !== null) return Promise.resolve(this.finished);
    return new Promise((resolvePromise) => {
      const timer = setTimeout(() => resolvePromise(false), timeoutMs);
      this.doneWaiter = () => {
        clearTimeout(timer);
        resolvePromise(this.finished);
      };
    });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll the hypervisor until at least minGuests registered and their set stayed the same for settleMs. */
async function settledGuests(run: AttachedRun, options: AttachOptions, deadline: number): Promise<RegisteredGuest[]> {
  let last = '';
  let since = Date.now();
  for (;;) {
    const guests = registeredGuests(await run.status(Math.max(1, deadline - Date.now())));
    const key = guests.map((g) => `${g.name}:${g.id}`).join(',');
    if (key !== last) {
      last = key;
      since = Date.now();
      options.log.info({ guests: guests.map((g) => g.name) }, 'registered guests');
    }
    if (guests.length >= options.minGuests && Date.now() - since >= options.settleMs) return guests;
    if (Date.now() >= deadline) {
      throw new Error(`${guests.length} guest(s) registered with the hypervisor within the attach bound; want at least ${options.minGuests}, unchanged for ${options.settleMs} ms`);
    }
    await sleep(STATUS_POLL_MS);
  }
}

/** The history on one time base, in time order (ties in arrival order), numbered again. */
function ordered(entries: HistoryEntry[]): HistoryEntry[] {
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry.t - b.entry.t || a.index - b.index)
    .map(({ entry }, seq) => ({ ...entry, seq }));
}

/** Find the world, run the scenario in it, judge the history. */
export async function attachScenario(scenario: Scenario, text: string, options: AttachOptions): Promise<ScenarioRun> {
  const started = process.hrtime.bigint();
  const deadline = Date.now() + options.attachTimeoutMs;
  const remaining = (): number => Math.max(1, deadline - Date.now());
  const run = new AttachedRun(options);
  await run.open();
  try {
    const platform = PLATFORM_ROLES.map((role) => ({ name: COMPONENTS[role], url: options.addresses[role] }));
    await run.node.connect(platform, options.attachTimeoutMs);
    const registered = await settledGuests(run, options, deadline);
    const platformBases = await run.client.subscribe(platform.map((p) => p.name), remaining());
    const answerMs = Math.min(options.guestAnswerMs ?? DEFAULT_GUEST_ANSWER_MS, remaining());
    const { joined, absent } = await joinGuests(run.joining(), registered, answerMs, options.log, async () => {
      // Every component's clock is estimated (or known to be this one) before the world's base is fixed.
      const unknownClocks = await run.client.clocksKnown(Math.min(CLOCKS_WAIT_MS, remaining()));
      if (unknownClocks.length > 0) options.log.warn({ peers: unknownClocks }, 'no clock estimate from these components: their times are taken to be on this machine\'s clock');
      const worldBase = run.client.earliestBase(run.clock.baseNs);
      options.log.info({ clocks: run.client.peerClocks(), platforms: platformBases.size }, 'the components\' clocks');
      run.clock.baseNs = worldBase;
      run.clocksFixedAt = process.hrtime.bigint();
      run.client.setWorldBase(worldBase);
    });
    if (joined.length === 0) return await judgeAttached(scenario, run, { finished: false, started, absent, ended: 'attach-failed: no registered guest answered' }, options);
    if (!(await run.client.caughtUp(remaining()))) options.log.warn('the components\' history so far had not all arrived when the attach bound ran out; starting anyway');
    const attached = attachedScenario(scenario, text, joined);
    options.log.info({ guests: joined.length, absent: absent.length, scenario: attached.name }, 'attached: the scenario starts');
    run.start(orchestratorConfig(attached, 'ws', options.seed));
    const finished = await run.waitForDone(options.runTimeoutMs);
    await sleep(TAIL_MS);
    return await judgeAttached(attached, run, { finished, started, absent }, options);
  } finally {
    await run.node.stop('the attached run is over');
    run.client.stop();
  }
}

/** Each component's clock as mapped, its uncertainty grown by the drift since the offsets were fixed (clock-offset.ts). */
function clocksByTheEnd(run: AttachedRun): Record<string, PeerClockUsed> {
  const sinceNs = Number(process.hrtime.bigint() - run.clocksFixedAt);
  const clocks = Object.entries(run.client.peerClocks());
  return Object.fromEntries(clocks.map(([peer, c]) => [peer, c.clock === 'estimated' ? { ...c, uncertaintyNs: c.uncertaintyNs + sinceNs * DRIFT_PER_NS } : c]));
}

interface AttachedEnding {
  finished: boolean;
  started: bigint;
  /** The registered guests left out of the run, each with why. */
  absent: string[];
  /** Set when the run never started (no guest answered). */
  ended?: string;
}

async function judgeAttached(scenario: Scenario, run: AttachedRun, how: AttachedEnding, options: AttachOptions): Promise<ScenarioRun> {
  const entries = ordered(run.judged());
  const out = options.out === undefined ? null : resolve(options.out);
  if (out) makeFolder(out);
  const historyFile = out ? join(out, 'history.jsonl') : null;
  const sink = historyFile ? new FileHistorySink(historyFile) : new MemoryHistorySink(0);
  for (const entry of entries) sink.append(entry);
  sink.close();
  const trouble: string[] = [];
  const lost = run.client.lostLines();
  if (Object.keys(lost).length > 0) trouble.push(`history lines dropped by the components' backlog bounds: ${JSON.stringify(lost)}`);
  if (run.dropped > 0) trouble.push(`the attached history was truncated: ${run.dropped} events past ${HISTORY_MAX}`);
  const ending = {
    clocks: clocksByTheEnd(run),
    ended: how.ended ?? (how.finished ? 'done' : run.platformLost !== null ? `world-lost: the link to ${run.platformLost} dropped` : 'timeout'),
    wallMs: Math.round(Number(process.hrtime.bigint() - how.started) / 1e6),
    trouble,
    historyEntries: entries.length,
    historyHash: sink.digest(),
  };
  const bound = options.livenessBoundMs === undefined ? {} : { livenessBoundNs: options.livenessBoundMs * 1e6 };
  const outputs = out && historyFile ? { out, history: historyFile } : null;
  return judgeRun(scenario, { runtime: 'ws', seed: options.seed, replay: options.replay, ...bound }, entries, ending, outputs, how.absent);
}
