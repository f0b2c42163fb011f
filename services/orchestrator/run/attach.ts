/**
 * Runs a scenario against a world that is already running as separate services (docker compose,
 * or the OS processes of scripts/compose-local.ts), instead of starting one: the orchestrator
 * attaches. It links to the GIC, SPMD, SPMC and hypervisor at the addresses it is given, asks the
 * hypervisor which guests registered (and waits until their number settles), links to each guest
 * at the URL it registered with, subscribes to every component's history over the world channel
 * (shared/runtime/ws/world-channel.ts), and then runs the scenario with the registered guests as
 * its VMs (distributed-world.ts attachedScenario). Faults, crashes and stalls travel over the same
 * links.
 *
 * Every component writes its own history to disk as it runs (shared/runtime/history-files.ts),
 * into the folder the services share (FFA_HISTORY_DIR), and so does the orchestrator: a history
 * outlives whoever collects it. At the end the orchestrator merges the files of the components it
 * attached to (each known by its clock's base) in time order into history.jsonl, marking the
 * histories of components that went away without writing their end (`tail-missing`), and judges
 * it by the same checkers as any run (runner.ts judgeRun). The world channel still brings every
 * component's events as they happen: the orchestrator's steps await them.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { type Clock, isObservable, type ObservedEvent } from '../../../shared/runtime/component.ts';
import { makeFolder } from '../../../shared/runtime/files.ts';
import { FileHistorySink, type HistoryEvent, MemoryHistorySink } from '../../../shared/runtime/history.ts';
import { componentHistory, componentOf, findHistories, FLUSH_MS, onOneBase, writeMerged, type FoundHistory, type MergeInput } from '../../../shared/runtime/history-files.ts';
import { historyFile, historyInMemory } from '../../../shared/runtime/history-source.ts';
import type { Message } from '../../../shared/protocol/messages.ts';
import { knownControlOp } from '../../../shared/protocol/control.ts';
import { WsNode } from '../../../shared/runtime/ws/node.ts';
import { WorldChannelClient } from '../../../shared/runtime/ws/world-client.ts';
import { attachedScenario, PLATFORM_ROLES, type PlatformRole, type RegisteredGuest } from './distributed-world.ts';
import { judgeRun, orchestratorConfig, type ScenarioRun } from './runner.ts';
import type { Scenario } from '../scenario/types.ts';
import { COMPONENT_MODULES, COMPONENTS } from './world-builder.ts';

export interface AttachOptions {
  /** ws:// URL of each platform service. */
  addresses: Record<PlatformRole, string>;
  /** The orchestrator role's token (every service expects it from the orchestrator). */
  token: string;
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
/** Events still on their way when the orchestrator finished: each component writes its batch at least this often. */
const TAIL_MS = 3 * FLUSH_MS;

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

/** One attached run: the node, the channel, and the orchestrator's own history. */
class AttachedRun {
  readonly clock = new RebasableClock(process.hrtime.bigint());
  /** The clock's first base: the orchestrator's own history file keeps its times on it. */
  readonly ownBaseNs = this.clock.baseNs;
  readonly history: ReturnType<typeof componentHistory>;
  /** Components whose link to the orchestrator dropped: they went away. */
  readonly linksLost = new Set<string>();
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

  constructor(
    private readonly options: AttachOptions,
    readonly historyDir: string,
  ) {
    this.history = componentHistory(historyDir, COMPONENTS.orchestrator, this.ownBaseNs);
    // However the process ends, what it wrote is complete; killed outright, it says so.
    process.once('exit', () => this.history.file.close());
    this.client = new WorldChannelClient({
      send: (to, message) => this.node.sendDirect(to, message),
      changeOwnFaults: (install, remove) => this.node.changeFaults(install, remove),
      onEvent: (_peer, t, event) => this.collect(t, event, true),
      log: options.log,
    });
  }

  async open(): Promise<void> {
    this.node = await WsNode.create({
      // Its config (the scenario's steps) comes with start(), once the world's VMs are known.
      component: { name: COMPONENTS.orchestrator, role: 'orchestrator', module: COMPONENT_MODULES.orchestrator, config: null },
      seed: this.options.seed,
      worldNames: [COMPONENTS.orchestrator],
      token: this.options.token,
      accept: new Map(),
      clock: this.clock,
      history: (t, event) => this.collect(t, event, false),
      log: this.options.log,
      world: this.client.control(),
      intercept: (from, message) => this.intercept(from, message),
    });
  }

  /** Every event, the orchestrator's own (written to its history) and the others' (their observable ones go to it). */
  private collect(t: number, event: HistoryEvent, fromPeer: boolean): void {
    if (!fromPeer) this.history.append(t + Number(this.clock.baseNs - this.ownBaseNs), event);
    if (!fromPeer && event.type === 'component' && event.event === 'link-lost') this.linksLost.add(event.detail);
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

/** Find the world, run the scenario in it, judge the history. */
export async function attachScenario(scenario: Scenario, text: string, options: AttachOptions): Promise<ScenarioRun> {
  const started = process.hrtime.bigint();
  const deadline = Date.now() + options.attachTimeoutMs;
  const out = options.out === undefined ? null : resolve(options.out);
  const run = new AttachedRun(options, resolve(options.historyDir ?? (out ? join(out, 'histories') : join(tmpdir(), 'ffa-world-histories'))));
  await run.open();
  const bases = new Map<string, bigint>();
  try {
    const platform = PLATFORM_ROLES.map((role) => ({ name: COMPONENTS[role], url: options.addresses[role] }));
    await run.node.connect(platform, options.attachTimeoutMs);
    const guests = await settledGuests(run, options, deadline);
    await run.node.connect(
      guests.map((g) => ({ name: g.name, url: g.url ?? '' })),
      Math.max(1, deadline - Date.now()),
    );
    for (const [name, base] of await run.client.subscribe([...platform.map((p) => p.name), ...guests.map((g) => g.name)], Math.max(1, deadline - Date.now()))) bases.set(name, base);
    const worldBase = [...bases.values()].reduce((min, base) => (base < min ? base : min), run.clock.baseNs);
    run.clock.baseNs = worldBase;
    run.client.setWorldBase(worldBase);
    if (!(await run.client.caughtUp(Math.max(1, deadline - Date.now())))) options.log.warn('the components\' history so far had not all arrived when the attach bound ran out; starting anyway');
    const attached = attachedScenario(scenario, text, guests);
    options.log.info({ guests: guests.length, scenario: attached.name }, 'attached: the scenario starts');
    run.start(orchestratorConfig(attached, 'ws', options.seed));
    const finished = await run.waitForDone(options.runTimeoutMs);
    await sleep(TAIL_MS);
    return await judgeAttached(attached, run, finished, started, options, bases);
  } finally {
    await run.node.stop('the attached run is over');
    run.client.stop();
  }
}

/**
 * The histories to merge: each attached component's file (the one its clock's base names) and the
 * orchestrator's own. A component still running has not written its end yet: its history runs on
 * past the merge, and only one that went away (its link dropped) is marked as stopping early.
 */
function historiesOfRun(run: AttachedRun, bases: ReadonlyMap<string, bigint>): { inputs: MergeInput[]; missing: string[] } {
  const found = findHistories(run.historyDir);
  const mine = (f: FoundHistory, component: string, base: bigint): boolean => f.meta !== null && f.meta.component === component && f.meta.baseNs === base.toString();
  const chosen: FoundHistory[] = [];
  const missing: string[] = [];
  for (const [component, base] of [...bases, [COMPONENTS.orchestrator, run.ownBaseNs] as const]) {
    const file = found.find((f) => mine(f, component, base));
    if (file) chosen.push(file);
    else missing.push(component);
  }
  const inputs = onOneBase(chosen, run.clock.baseNs).map((input, index) => {
    const component = componentOf(chosen[index] as FoundHistory);
    return run.linksLost.has(component) ? input : { ...input, tailMissing: null };
  });
  return { inputs, missing };
}

async function judgeAttached(scenario: Scenario, run: AttachedRun, finished: boolean, started: bigint, options: AttachOptions, bases: ReadonlyMap<string, bigint>): Promise<ScenarioRun> {
  const out = options.out === undefined ? null : resolve(options.out);
  if (out) makeFolder(out);
  run.history.file.close();
  const { inputs, missing } = historiesOfRun(run, bases);
  const historyPath = out ? join(out, 'history.jsonl') : null;
  const sink = historyPath ? new FileHistorySink(historyPath) : new MemoryHistorySink();
  await writeMerged(inputs, sink);
  sink.close();
  const trouble: string[] = [];
  if (missing.length > 0) trouble.push(`no history of ${missing.join(', ')} in ${run.historyDir}: give every service the same FFA_HISTORY_DIR`);
  const lost = run.client.lostLines();
  if (Object.keys(lost).length > 0) options.log.warn({ lost }, 'events the orchestrator did not see as they happened (the components\' backlog bounds); their histories on disk have them');
  const ending = {
    ended: finished ? 'done' : run.platformLost !== null ? `world-lost: the link to ${run.platformLost} dropped` : 'timeout',
    wallMs: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
    trouble,
    historyEntries: sink.count,
    historyHash: sink.digest(),
  };
  const bound = options.livenessBoundMs === undefined ? {} : { livenessBoundNs: options.livenessBoundMs * 1e6 };
  const source = historyPath ? historyFile(historyPath) : historyInMemory((sink as MemoryHistorySink).entries);
  return judgeRun(scenario, { runtime: 'ws', seed: options.seed, replay: options.replay, ...bound }, source, ending, out && historyPath ? { out, history: historyPath } : null);
}
