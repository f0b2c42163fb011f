/**
 * Runs a WorldSpec under the ws runtime with every component in its own worker thread
 * (docs/design.md §3). The supervisor draws the world secret, hands each worker the keys of its
 * components' own links (worker-placement.ts credentialsFor; docs/threat-model.md), and brings the world up in three steps: every worker listening, every
 * link welcomed, then every component started. Workers post their history events as they happen;
 * the supervisor numbers them and appends them to the sink in arrival order, so a crashed worker
 * loses nothing it already posted. A worker that dies is recorded as a crash and fails the run;
 * nothing waits on it forever.
 *
 * Workers run one JavaScript bundle built at world start (bundle.ts). They are started while it
 * is built (a worker's own start-up then overlaps the build) and told where it is once it is
 * written (worker-entry.mjs). When it cannot be built (a warning says why), or with
 * `bundle: false`, each worker loads the TypeScript sources through tsx instead, which is slower
 * to start but needs no build.
 */
import { type MessagePort, Worker } from 'node:worker_threads';
import pino, { type Logger } from 'pino';
import type { Role, WorldSpec } from '../component.ts';
import type { HistoryEvent } from '../history.ts';
import type { FaultRule } from '../interceptor.ts';
import { buildWorkerBundle, type WorkerBundle } from './bundle.ts';
import { monotonicClock, runStartNs } from './clock.ts';
import { ConditionWaiters } from './condition-waiters.ts';
import { WsRuntimeError } from './errors.ts';
import { DEFAULT_LINK_LIMITS, type LinkLimits } from './limits.ts';
import type { PeerAddress } from './node.ts';
import { newSecret } from './credentials.ts';
import { checkWorldSpec, credentialsFor, observationChannels, workerGroups } from './worker-placement.ts';
import type {
  AddressedCommand,
  AddressedReport,
  ComponentOp,
  ComponentSetup,
  FrameCounts,
  SupervisorCommand,
  WorkerLoad,
  WorkerReport,
  WorkerSetup,
} from './worker-protocol.ts';
import { logDestination, logFormatOf } from '../log-format.ts';
import type { WaitOutcome, WsCrash, WsMemory, WsStopReport, WsWorld, WsWorldOptions } from './ws-world.ts';

const WORKER_ENTRY = new URL('./worker-entry.mjs', import.meta.url);
const DEFAULT_START_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;

type Phase = 'listening' | 'linked' | 'started';

/** One worker thread and the components it runs. */
interface WorkerHandle {
  worker: Worker;
  names: string[];
  exited: Promise<number>;
  hasExited: boolean;
  /** Set when the supervisor terminates it: that exit is not a crash. */
  terminating: boolean;
  /** Told where its code is (WorkerLoad): until then it runs no component. */
  loaded: boolean;
  heapPeakBytes: number;
}

/** One component, in the worker that runs it. */
interface Member {
  name: string;
  role: Role;
  thread: WorkerHandle;
  reported: Set<WorkerReport['type']>;
}

const RSS_SAMPLE_MS = 100;

class WsSupervisor implements WsWorld {
  readonly ready: Promise<void>;
  readonly crashes: WsCrash[] = [];
  readonly urls = new Map<string, string>();
  private readonly members = new Map<string, Member>();
  private readonly threads: WorkerHandle[] = [];
  private rssPeakBytes = 0;
  private rssSampledNs = 0;
  private readonly frames: FrameCounts = { sent: 0, received: 0 };
  /** The orchestrator's requests (by ack) and the workers yet to apply each. */
  private readonly pendingApplies = new Map<number, Set<string>>();
  /** Only the supervisor holds it: every link key is derived from it. */
  private readonly worldSecret = newSecret();
  private readonly log: Logger;
  private readonly startNs = runStartNs();
  private readonly clock = monotonicClock(BigInt(this.startNs));
  private readonly waiters: ConditionWaiters;
  private phaseWaiter: { phase: Phase; resolve(): void; reject(error: Error): void } | undefined;
  private startupFailure: Error | undefined;
  private seq = 0;
  private stopping: Promise<WsStopReport> | undefined;

  constructor(
    private readonly spec: WorldSpec,
    private readonly options: WsWorldOptions,
  ) {
    checkWorldSpec(spec);
    this.log = options.log ?? pino({ level: options.workerLogLevel ?? 'warn' }, logDestination(logFormatOf()));
    this.waiters = new ConditionWaiters(this.clock, () => this.failed);
    try {
      const groups = workerGroups(spec, options.guestsPerWorker, options.platformWorkers);
      const observation = observationChannels(spec, groups);
      groups.forEach((group, index) => this.spawn(group, observation[index] ?? {}));
    } catch (error) {
      // e.g. a config that structured clone cannot carry: leave no worker behind.
      for (const thread of this.threads) {
        thread.terminating = true;
        void thread.worker.terminate();
      }
      throw error;
    }
    this.ready = this.boot();
    this.ready.catch(() => {}); // surfaced where it is awaited; never an unhandled rejection
  }

  get failed(): boolean {
    return this.crashes.length > 0;
  }

  get workerCount(): number {
    return this.threads.length;
  }

  memory(): WsMemory {
    this.sampleRss();
    const heapPeakBytes: Record<string, number> = {};
    for (const thread of this.threads) heapPeakBytes[thread.names.join('+')] = thread.heapPeakBytes;
    return { rssPeakBytes: this.rssPeakBytes, heapPeakBytes };
  }

  /** At most every RSS_SAMPLE_MS (reading it costs a system call and a /proc read). */
  private sampleRss(): void {
    const now = this.clock.nowNs();
    if (now - this.rssSampledNs < RSS_SAMPLE_MS * 1e6 && this.rssPeakBytes > 0) return;
    this.rssSampledNs = now;
    this.rssPeakBytes = Math.max(this.rssPeakBytes, process.memoryUsage.rss());
  }

  waitFor(condition: () => boolean, timeoutMs: number): Promise<WaitOutcome> {
    return this.waiters.waitFor(condition, timeoutMs);
  }

  quiescent(quietMs: number, timeoutMs: number): Promise<WaitOutcome> {
    return this.waiters.quiescent(quietMs, timeoutMs);
  }

  stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<WsStopReport> {
    this.stopping ??= this.stopAll(timeoutMs);
    return this.stopping;
  }

  private async stopAll(timeoutMs: number): Promise<WsStopReport> {
    this.rejectPhase(new WsRuntimeError('STARTUP_FAILED', 'the world was stopped'));
    const unloaded = this.threads.filter((t) => !t.hasExited && !t.loaded);
    // Stopped while the bundle was built: a worker that runs no component yet is simply ended.
    for (const thread of unloaded) thread.terminating = true;
    await Promise.all(unloaded.map((t) => t.worker.terminate()));
    const live = this.threads.filter((t) => !t.hasExited);
    for (const member of this.members.values()) this.command(member, { type: 'stop', detail: 'world stopped' });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all(live.map((t) => t.exited)), deadline]);
    clearTimeout(timer);
    const stuck = live.filter((t) => !t.hasExited);
    for (const thread of stuck) thread.terminating = true;
    await Promise.all(stuck.map((t) => t.worker.terminate()));
    const terminated = stuck.flatMap((t) => t.names);
    if (terminated.length > 0) this.log.warn({ terminated }, 'workers did not exit in time and were terminated');
    this.waiters.settleAll(this.failed ? 'crashed' : 'timeout');
    return { ok: !this.failed, crashed: this.crashes.map((c) => c.component), terminated, frames: { ...this.frames } };
  }

  private componentSetup(name: string): ComponentSetup {
    const component = this.spec.components.find((c) => c.name === name);
    if (!component) throw new Error(`unreachable: ${name} is in the spec`);
    return { component, credentials: credentialsFor(this.spec, name, this.worldSecret), orchestrator: name === this.spec.orchestrator };
  }

  private spawn(names: string[], observation: Pick<WorkerSetup, 'observer' | 'observed'>): void {
    const setup: WorkerSetup = {
      components: names.map((name) => this.componentSetup(name)),
      seed: this.spec.seed,
      worldNames: this.spec.components.map((c) => c.name),
      startNs: this.startNs,
      faults: this.options.faults ?? [],
      ...(this.options.hostLimits ? { hostLimits: this.options.hostLimits } : {}),
      linkLimits: supervisedLinkLimits(this.options.linkLimits),
      logLevel: this.options.workerLogLevel ?? 'warn',
      logFormat: logFormatOf(),
      listenHost: this.options.listenHost ?? '127.0.0.1',
      connectDeadlineMs: this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      ...observation,
    };
    const ports: MessagePort[] = [...(observation.observer ? [observation.observer.port] : []), ...(observation.observed ?? [])];
    // execArgv []: whatever flags this process had, the entry loads the bundle or tsx itself (libraries.md).
    const worker = new Worker(WORKER_ENTRY, { workerData: setup, execArgv: [], transferList: ports });
    const thread: WorkerHandle = { worker, names, hasExited: false, terminating: false, loaded: false, exited: Promise.resolve(0), heapPeakBytes: 0 };
    this.threads.push(thread);
    const members = names.map((name): Member => ({ name, role: this.roleOf(name), thread, reported: new Set() }));
    for (const member of members) this.members.set(member.name, member);
    thread.exited = new Promise((resolve) => {
      worker.on('exit', (code) => {
        thread.hasExited = true;
        for (const member of members) this.onExit(member, code);
        resolve(code);
      });
    });
    worker.on('message', ({ from, report }: AddressedReport) => {
      const member = this.members.get(from);
      if (!member || member.thread !== thread) throw new Error(`bug: a worker reported for ${from}, which it does not run`);
      this.onReport(member, report);
    });
    // A component's throw ends its worker, and with it every component the worker ran.
    worker.on('error', (error) => {
      for (const member of members) this.recordCrash(member, error.stack ?? error.message);
    });
  }

  private roleOf(name: string): Role {
    const role = this.spec.components.find((c) => c.name === name)?.role;
    if (!role) throw new Error(`unreachable: ${name} is in the spec`);
    return role;
  }

  /** The bundle the workers start from, or undefined for tsx (not wanted, or not buildable: the warning says why). */
  private async workerBundle(): Promise<WorkerBundle | undefined> {
    const wanted = this.options.bundle ?? process.env['FFA_WS_BUNDLE'] !== '0';
    if (!wanted) return undefined;
    try {
      const bundle = await buildWorkerBundle(this.spec.components.map((c) => c.module));
      this.log.debug({ file: bundle.file, bytes: bundle.bytes, buildMs: bundle.buildMs, reused: bundle.reused }, 'worker bundle ready');
      return bundle;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log.warn({ reason }, 'could not build the worker bundle: every worker loads the TypeScript sources through tsx');
      return undefined;
    }
  }

  /** Tell every worker where its code is: the first message each gets. */
  private load(bundle: WorkerBundle | undefined): void {
    const load: WorkerLoad = { type: 'load', bundle: bundle ? bundle.url.href : null };
    for (const thread of this.threads) {
      thread.loaded = true;
      if (!thread.hasExited) thread.worker.postMessage(load);
    }
  }

  private peersOf(name: string): PeerAddress[] {
    return this.spec.links
      .filter(([opener]) => opener === name)
      .map(([, target]) => ({ name: target, url: this.urls.get(target) ?? '' }));
  }

  private async boot(): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const timer = setTimeout(
      () => this.rejectPhase(new WsRuntimeError('STARTUP_TIMEOUT', `the world was not up within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      const sinceStartMs = (): number => Math.round(this.clock.nowNs() / 1e5) / 10;
      const bundle = await this.workerBundle();
      // Stopped, timed out or crashed while the bundle was built: run nothing.
      if (this.startupFailure) throw this.startupFailure;
      this.load(bundle);
      await this.allReported('listening');
      const listeningMs = sinceStartMs();
      for (const member of this.members.values()) this.command(member, { type: 'connect', peers: this.peersOf(member.name) });
      await this.allReported('linked');
      const linkedMs = sinceStartMs();
      for (const member of this.members.values()) this.command(member, { type: 'start' });
      await this.allReported('started');
      // Milliseconds since the world's start; no bundleMs: the workers loaded the sources through tsx.
      const startup = { ...(bundle ? { bundleMs: Math.round(bundle.buildMs * 10) / 10 } : {}), listeningMs, linkedMs, startedMs: sinceStartMs() };
      this.log.info({ components: [...this.members.keys()], startup }, 'ws world started');
    } finally {
      clearTimeout(timer);
    }
  }

  private allReported(phase: Phase): Promise<void> {
    return new Promise((resolve, reject) => {
      this.phaseWaiter = { phase, resolve, reject };
      this.checkPhase();
    });
  }

  private checkPhase(): void {
    const waiter = this.phaseWaiter;
    if (!waiter) return;
    if (this.startupFailure) {
      this.rejectPhase(this.startupFailure);
      return;
    }
    if ([...this.members.values()].every((m) => m.reported.has(waiter.phase))) {
      this.phaseWaiter = undefined;
      waiter.resolve();
    }
  }

  private rejectPhase(error: Error): void {
    this.startupFailure ??= error;
    const waiter = this.phaseWaiter;
    this.phaseWaiter = undefined;
    waiter?.reject(this.startupFailure);
  }

  private onReport(member: Member, report: WorkerReport): void {
    member.reported.add(report.type);
    switch (report.type) {
      case 'history':
        for (const { t, event } of report.events) this.append(t, event);
        return;
      case 'faults':
        this.changeFaults(member, report.install, report.remove, report.ack);
        return;
      case 'component-op':
        this.componentOp(member, report.op, report.component, report.detail, report.ack);
        return;
      case 'applied':
        this.onApplied(member, report.ack);
        return;
      case 'memory':
        member.thread.heapPeakBytes = Math.max(member.thread.heapPeakBytes, report.heapUsedBytes);
        this.sampleRss(); // the workers' samples pace the process's too
        return;
      case 'listening':
        this.urls.set(member.name, report.url);
        break;
      case 'failed':
        this.log.error({ component: member.name, detail: report.detail }, 'component setup failed');
        this.rejectPhase(new WsRuntimeError('STARTUP_FAILED', `${member.name}: ${report.detail}`));
        break;
      case 'stopped':
        this.frames.sent += report.frames.sent;
        this.frames.received += report.frames.received;
        break;
      case 'linked':
      case 'started':
        break;
    }
    this.checkPhase();
  }

  /** Only the orchestrator may change the world's faults; every worker applies the change, then the orchestrator hears so. */
  private changeFaults(member: Member, install: FaultRule[], remove: string[], ack: number): void {
    if (member.name !== this.spec.orchestrator) {
      this.log.error({ component: member.name }, 'a fault change from a component that is not the orchestrator was ignored');
      return;
    }
    const targets = [...this.members.values()].filter((m) => !m.thread.hasExited);
    this.pendingApplies.set(ack, new Set(targets.map((m) => m.name)));
    for (const target of targets) this.command(target, { type: 'faults', install, remove, ack });
  }

  /** A crash, restart or stall the orchestrator asked for: the target's own worker applies it (the worker stays up). */
  private componentOp(member: Member, op: ComponentOp, component: string, detail: string, ack: number): void {
    const target = this.members.get(component);
    if (member.name !== this.spec.orchestrator || !target) {
      this.log.error({ component: member.name, op, target: component }, 'a component op that is not the orchestrator\'s, or for no such component, was ignored');
      return;
    }
    this.pendingApplies.set(ack, new Set([target.name]));
    this.command(target, { type: 'component-op', op, detail, ack });
  }

  /** When every worker asked has applied request `ack`, the orchestrator goes on. */
  private onApplied(member: Member, ack: number): void {
    const waiting = this.pendingApplies.get(ack);
    if (!waiting) return;
    waiting.delete(member.name);
    if (waiting.size > 0) return;
    this.pendingApplies.delete(ack);
    const orchestrator = this.spec.orchestrator === undefined ? undefined : this.members.get(this.spec.orchestrator);
    if (orchestrator) this.command(orchestrator, { type: 'world-applied', ack });
  }

  private append(t: number, event: HistoryEvent): void {
    this.options.history.append({ seq: this.seq++, t, event });
    this.waiters.onEvent();
  }

  private recordCrash(member: Member, detail: string): void {
    if (this.crashes.some((c) => c.component === member.name)) return;
    this.crashes.push({ component: member.name, detail });
    this.append(this.clock.nowNs(), { type: 'component', component: member.name, event: 'crash', detail });
    this.log.error({ component: member.name, detail }, 'component crashed');
    this.rejectPhase(new WsRuntimeError('STARTUP_FAILED', `${member.name} crashed: ${detail.split('\n')[0] ?? ''}`));
    this.waiters.settleAll('crashed');
  }

  /** Expected exits: after 'stopped', after terminate(), after a reported setup failure. Any other is a crash. */
  private onExit(member: Member, code: number): void {
    if (member.reported.has('stopped') || member.thread.terminating) return;
    if (member.reported.has('failed')) {
      this.rejectPhase(new WsRuntimeError('STARTUP_FAILED', `${member.name} exited after a setup failure`));
      return;
    }
    this.recordCrash(member, `worker exited with code ${code}`);
  }

  private command(member: Member, command: SupervisorCommand): void {
    if (!member.thread.hasExited) member.thread.worker.postMessage({ to: member.name, command } satisfies AddressedCommand);
  }
}

/**
 * Every worker of one supervised world dials from the one loopback address of its process: the
 * bound on pending handshakes per source address is for a world of services (docs/threat-model.md),
 * so here it is the server's whole bound unless the caller says otherwise.
 */
function supervisedLinkLimits(overrides: Partial<LinkLimits> = {}): Partial<LinkLimits> {
  const maxUnauthenticated = overrides.maxUnauthenticated ?? DEFAULT_LINK_LIMITS.maxUnauthenticated;
  return { maxUnauthenticatedPerAddress: maxUnauthenticated, ...overrides };
}

/** Start a world under the ws runtime; await `ready` before relying on it, and always `stop()` it. */
export function startWsWorld(spec: WorldSpec, options: WsWorldOptions): WsWorld {
  return new WsSupervisor(spec, options);
}
