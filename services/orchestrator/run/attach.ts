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
 *
 * Every component also writes its own history to disk as it runs (shared/runtime/history-files.ts),
 * into FFA_HISTORY_DIR, and so does the orchestrator: a history outlives whoever collects it. At
 * the end, when every judged component's file is in that folder and every component is on this
 * machine's clock (compose:local), the orchestrator merges those files in time order into
 * history.jsonl: they hold what the world channel's backlog bounds may have dropped. Otherwise
 * (docker compose, whose guests keep their files to themselves: docs/threat-model.md "Histories
 * on disk"; a world over several machines, each with its own folder) it judges what the world
 * channel brought, each peer's times mapped by its link's clock estimate. Either way a component
 * whose link dropped before it wrote its end is marked as stopping early (`tail-missing`), so the
 * checks say "unknown" of what depended on it, not "phantom". The merged history is judged by the
 * same checkers as any run (runner.ts judgeRun).
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { type Clock, isObservable, type ObservedEvent } from '../../../shared/runtime/component.ts';
import { makeFolder } from '../../../shared/runtime/files.ts';
import { FileHistorySink, type HistoryEntry, type HistoryEvent, MemoryHistorySink } from '../../../shared/runtime/history.ts';
import { componentHistory, componentOf, findHistories, FLUSH_MS, onOneBase, writeMerged, type FoundHistory, type MergeInput } from '../../../shared/runtime/history-files.ts';
import { historyFile, historyInMemory, type HistorySource } from '../../../shared/runtime/history-source.ts';
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
  /** Milliseconds on the caller's monotonic clock, for the attach's own bounds (the process entry point gives it). */
  nowMs(): number;
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
  /** Where every service writes its own history (FFA_HISTORY_DIR); default: out/histories, else a temp folder. */
  historyDir?: string;
}

const PLATFORM_NAMES: readonly string[] = PLATFORM_ROLES.map((role) => COMPONENTS[role]);
const STATUS_POLL_MS = 250;
/** Events still on their way when the orchestrator finished: each component writes its batch to disk at least this often. */
const TAIL_MS = 3 * FLUSH_MS;
/** Events the attached run keeps (the whole history is judged at the end). */
const HISTORY_MAX = 5_000_000;
/** How long the attach waits for a clock estimate from each component (the burst at link-up answers in ms). */
const CLOCKS_WAIT_MS = 5_000;
const DEFAULT_GUEST_ANSWER_MS = 20_000;

/**
 * The world could not be attached: a platform service unreachable or refusing the credentials,
 * too few guests registered within the bound, no registered guest answering. Nothing ran; the
 * message says what was wrong (the caller decides its exit status).
 */
export class AttachError extends Error {
  override readonly name = 'AttachError';
}

/** An attached run, with what it ran against: the scenario as run, the guests it took in, every component's clock. */
export interface AttachedScenarioRun extends ScenarioRun {
  /** The scenario with its `world.vms` replaced by the guests taken in (the scenario as given when none was). */
  scenario: Scenario;
  guests: RegisteredGuest[];
  /** How each component's times were mapped onto the orchestrator's (same, estimated or unknown), by the run's end. */
  clocks: Record<string, PeerClockUsed>;
}

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
    const text = (key: string): string | null => (typeof vm[key] === 'string' ? vm[key] : null);
    return [{ name, id: vm['id'] as number, vcpus, driver: text('driver'), url: vm['url'] as string, host: text('host') }];
  });
}

/** One attached run: the node, the channel, the history as it arrives, and the orchestrator's own on disk. */
class AttachedRun {
  readonly clock = new RebasableClock(process.hrtime.bigint());
  /** The clock's first base: the orchestrator's own history file keeps its times on it. */
  readonly ownBaseNs = this.clock.baseNs;
  readonly history: ReturnType<typeof componentHistory>;
  /** Each judged component's base, as it told it when subscribed: which history file is its. */
  readonly bases = new Map<string, bigint>();
  /** Components whose link to the orchestrator dropped: they went away. */
  readonly linksLost = new Set<string>();
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

  constructor(
    private readonly options: AttachOptions,
    readonly historyDir: string,
  ) {
    this.history = componentHistory(historyDir, COMPONENTS.orchestrator, this.ownBaseNs);
    // However the process ends, what it wrote is complete; killed outright, its file says so.
    process.once('exit', () => this.history.file.close());
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
    if (!fromPeer) this.history.append(t + Number(this.clock.baseNs - this.ownBaseNs), event);
    if (!fromPeer && event.type === 'component' && event.event === 'link-lost') this.linksLost.add(event.detail);
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
      subscribe: async (name, timeoutMs) => {
        const base = (await this.client.subscribe([name], timeoutMs)).get(name) ?? this.clock.baseNs;
        this.bases.set(name, base);
        return base;
      },
      probed: (name, timeoutMs) => this.probed(name, timeoutMs),
      leaveOut: (name) => this.leaveOut(name),
    };
  }

  leaveOut(guest: string): void {
    this.leftOut.add(guest);
    this.bases.delete(guest);
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
  let since = options.nowMs();
  for (;;) {
    const guests = registeredGuests(await run.status(Math.max(1, deadline - options.nowMs())));
    const key = guests.map((g) => `${g.name}:${g.id}`).join(',');
    if (key !== last) {
      last = key;
      since = options.nowMs();
      options.log.info({ guests: guests.map((g) => g.name) }, 'registered guests');
    }
    if (guests.length >= options.minGuests && options.nowMs() - since >= options.settleMs) return guests;
    if (options.nowMs() >= deadline) {
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

/** Find the world, run the scenario in it, judge the history. Throws AttachError when the world could not be attached. */
export async function attachScenario(scenario: Scenario, text: string, options: AttachOptions): Promise<AttachedScenarioRun> {
  const started = process.hrtime.bigint();
  const out = options.out === undefined ? null : resolve(options.out);
  const run = new AttachedRun(options, resolve(options.historyDir ?? (out ? join(out, 'histories') : join(tmpdir(), 'ffa-world-histories'))));
  await run.open();
  try {
    const found = await findWorld(run, options);
    if (found.joined.length === 0) {
      const ended = 'attach-failed: no registered guest answered';
      const judged = await judgeAttached(scenario, run, { finished: false, started, absent: found.absent, ended }, options);
      return attachedRun(judged, { scenario, guests: [], clocks: clocksByTheEnd(run) });
    }
    if (!(await run.client.caughtUp(found.remaining()))) options.log.warn('the components\' history so far had not all arrived when the attach bound ran out; starting anyway');
    const attached = attachedScenario(scenario, text, found.joined);
    options.log.info({ guests: found.joined.length, absent: found.absent.length, scenario: attached.name }, 'attached: the scenario starts');
    run.start(orchestratorConfig(attached, 'ws', options.seed));
    const finished = await run.waitForDone(options.runTimeoutMs);
    await sleep(TAIL_MS);
    const judged = await judgeAttached(attached, run, { finished, started, absent: found.absent }, options);
    return attachedRun(judged, { scenario: attached, guests: found.joined, clocks: clocksByTheEnd(run) });
  } finally {
    await run.node.stop('the attached run is over');
    run.client.stop();
  }
}

/** The judged run with what it ran against; its properties as they are (`entries` stays a getter: runner.ts runOf). */
function attachedRun(judged: ScenarioRun, against: Omit<AttachedScenarioRun, keyof ScenarioRun>): AttachedScenarioRun {
  return Object.defineProperties(against, Object.getOwnPropertyDescriptors(judged)) as AttachedScenarioRun;
}

/** Link to the platform, wait for the guests, take in those that answer, fix the clocks: AttachError when any of it fails. */
async function findWorld(run: AttachedRun, options: AttachOptions): Promise<{ joined: RegisteredGuest[]; absent: string[]; remaining: () => number }> {
  const deadline = options.nowMs() + options.attachTimeoutMs;
  const remaining = (): number => Math.max(1, deadline - options.nowMs());
  try {
    const platform = PLATFORM_ROLES.map((role) => ({ name: COMPONENTS[role], url: options.addresses[role] }));
    await run.node.connect(platform, options.attachTimeoutMs);
    const registered = await settledGuests(run, options, deadline);
    const platformBases = await run.client.subscribe(platform.map((p) => p.name), remaining());
    for (const [name, base] of platformBases) run.bases.set(name, base);
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
    return { joined, absent, remaining };
  } catch (error) {
    throw new AttachError(error instanceof Error ? error.message : String(error), { cause: error });
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

/**
 * The history files to merge, when the folder holds every judged component's (the one its base
 * names) and the orchestrator's own, and every component is on this machine's clock; else null,
 * with why. A component still running has not written its end: only one whose link dropped is
 * marked as stopping early.
 */
function historiesOnDisk(run: AttachedRun): { inputs: MergeInput[] } | { why: string } {
  const estimated = Object.entries(run.client.peerClocks()).filter(([, c]) => c.clock === 'estimated').map(([peer]) => peer);
  if (estimated.length > 0) return { why: `on another machine's clock: ${estimated.join(', ')}` };
  const found = findHistories(run.historyDir);
  const mine = (f: FoundHistory, component: string, base: bigint): boolean => f.meta !== null && f.meta.component === component && f.meta.baseNs === base.toString();
  const chosen: FoundHistory[] = [];
  const missing: string[] = [];
  for (const [component, base] of [...run.bases, [COMPONENTS.orchestrator, run.ownBaseNs] as const]) {
    const file = found.find((f) => mine(f, component, base));
    if (file) chosen.push(file);
    else missing.push(component);
  }
  if (missing.length > 0) return { why: `no history file of ${missing.join(', ')} in ${run.historyDir}` };
  const inputs = onOneBase(chosen, run.clock.baseNs).map((input, index) => {
    const component = componentOf(chosen[index] as FoundHistory);
    return run.linksLost.has(component) ? input : { ...input, tailMissing: null };
  });
  return { inputs };
}

/**
 * What the world channel brought, in time order, with a `tail-missing` mark after the last event
 * of each component whose link dropped: what it did before the drop and had not yet sent is unknown.
 */
function historyFromChannel(run: AttachedRun): HistoryEntry[] {
  const entries = run.judged();
  const lastOf = new Map<string, number>();
  for (const { t, event } of entries) {
    if (event.type !== 'send' && 'component' in event && typeof event.component === 'string') lastOf.set(event.component, Math.max(t, lastOf.get(event.component) ?? t));
  }
  const marks: HistoryEntry[] = [...run.linksLost]
    .filter((component) => run.bases.has(component))
    .map((component) => ({ seq: 0, t: lastOf.get(component) ?? 0, event: { type: 'component', component, event: 'tail-missing', detail: 'its link to the orchestrator dropped: what it had not yet sent is unknown' } }));
  // Sorted once; a mark comes after its component's events of the same time (ties keep arrival order).
  entries.push(...marks);
  return ordered(entries);
}

async function judgeAttached(scenario: Scenario, run: AttachedRun, how: AttachedEnding, options: AttachOptions): Promise<ScenarioRun> {
  const out = options.out === undefined ? null : resolve(options.out);
  if (out) makeFolder(out);
  run.history.file.close();
  const historyPath = out ? join(out, 'history.jsonl') : null;
  const sink = historyPath ? new FileHistorySink(historyPath) : new MemoryHistorySink(Number.MAX_SAFE_INTEGER);
  const trouble: string[] = [];
  const disk = historiesOnDisk(run);
  if ('inputs' in disk) {
    await writeMerged(disk.inputs, sink);
    const lost = run.client.lostLines();
    if (Object.keys(lost).length > 0) options.log.warn({ lost }, 'events the orchestrator did not see as they happened (the components\' backlog bounds); their histories on disk have them');
  } else {
    options.log.info({ why: disk.why }, 'judging the history the world channel brought, not the files on disk');
    for (const entry of historyFromChannel(run)) sink.append(entry);
    const lost = run.client.lostLines();
    if (Object.keys(lost).length > 0) trouble.push(`history lines dropped by the components' backlog bounds: ${JSON.stringify(lost)}`);
    if (run.dropped > 0) trouble.push(`the attached history was truncated: ${run.dropped} events past ${HISTORY_MAX}`);
  }
  sink.close();
  const ending = {
    clocks: clocksByTheEnd(run),
    ended: how.ended ?? (how.finished ? 'done' : run.platformLost !== null ? `world-lost: the link to ${run.platformLost} dropped` : 'timeout'),
    wallMs: Math.round(Number(process.hrtime.bigint() - how.started) / 1e6),
    trouble,
    historyEntries: sink.count,
    historyHash: sink.digest(),
  };
  const bound = options.livenessBoundMs === undefined ? {} : { livenessBoundNs: options.livenessBoundMs * 1e6 };
  const outputs = out && historyPath ? { out, history: historyPath } : null;
  const source: HistorySource = historyPath ? historyFile(historyPath) : historyInMemory((sink as MemoryHistorySink).entries);
  return judgeRun(scenario, { runtime: 'ws', seed: options.seed, replay: options.replay, ...bound }, source, ending, outputs, how.absent);
}
