/**
 * One or more components in a worker thread (several guests share a worker in a large world;
 * each keeps its own node: its own links, identity and keys), driven by the supervisor
 * (worker-protocol.ts), which addresses every command to one component. Their history
 * events go to the supervisor in one message per turn of the event loop (a postMessage per event
 * made the supervisor's thread the bottleneck of a loaded world), and the observable ones also
 * straight to the orchestrator's worker (WorkerSetup.observer); a component that throws flushes
 * the batch before the worker dies, so a crash loses nothing already recorded. Nothing here
 * catches a component's throw: it is a bug, the worker dies, the supervisor records the crash.
 * Importing this module prepares the worker; runWorker() starts it.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { isObservable, type ObservedEvent } from '../component.ts';
import pino from 'pino';
import { monotonicClock, parseStartNs } from './clock.ts';
import { DialGate } from './dial-gate.ts';
import { linkLimits } from './limits.ts';
import { type PeerAddress, WsNode, worldStreams } from './node.ts';
import type { AddressedCommand, ComponentOp, ComponentSetup, FrameCounts, SupervisorCommand, TimedEvent, WorkerReport, WorkerSetup } from './worker-protocol.ts';
import { logDestination } from '../log-format.ts';

const port = parentPort;
if (!port) throw new Error('worker-main.ts runs only as a worker thread');
const setup = workerData as WorkerSetup;

/** A report about one of this worker's components (the supervisor keeps their states apart). */
function reportFor(from: string, report: WorkerReport): void {
  port?.postMessage({ from, report });
}

/** History is the worker's, whichever component made it: reported as the first component's. */
const FIRST = setup.components[0]?.component.name ?? '';

// pino trap (libraries.md): no transport threads in service workers; log synchronously to stderr.
const log = pino({ level: setup.logLevel }, logDestination(setup.logFormat));
const clock = monotonicClock(parseStartNs(setup.startNs));
/** Made once for every component this worker runs. */
const streams = worldStreams(setup.seed, setup.worldNames);
/**
 * The worker's handshakes to one peer at once: a quarter of a server's bound on pending handshakes
 * (limits.ts maxUnauthenticated), so the four workers a large world's guests share by default can
 * open their links to the hypervisor and the GIC together without being turned away.
 */
const dialGate = new DialGate(Math.max(1, Math.floor(linkLimits(setup.linkLimits).maxUnauthenticated / 4)));

/** Bound on one batch: a long synchronous burst is sent in pieces. */
const HISTORY_BATCH_MAX = 1024;
let historyBatch: TimedEvent[] = [];
let flushQueued = false;

function flushHistory(): void {
  flushQueued = false;
  if (historyBatch.length === 0) return;
  const events = historyBatch;
  historyBatch = [];
  reportFor(FIRST, { type: 'history', events });
  if (!setup.observer) return;
  const { orchestrator, port: observer } = setup.observer;
  const observed: ObservedEvent[] = events.filter(({ event }) => isObservable(event, orchestrator));
  if (observed.length > 0) observer.postMessage(observed);
}

function recordHistory(event: TimedEvent): void {
  historyBatch.push(event);
  if (historyBatch.length >= HISTORY_BATCH_MAX) flushHistory();
  else if (!flushQueued) {
    flushQueued = true;
    setImmediate(flushHistory);
  }
}

// A component's throw ends the worker: send what it recorded first. The monitor hook observes
// the exception without changing how it is handled.
process.on('uncaughtExceptionMonitor', flushHistory);

async function createNode(own: ComponentSetup): Promise<WsNode | undefined> {
  const name = own.component.name;
  const report = (message: WorkerReport) => reportFor(name, message);
  try {
    return await WsNode.create({
      component: own.component,
      seed: setup.seed,
      worldNames: setup.worldNames,
      streams: streams.of(name),
      credentials: own.credentials,
      clock,
      history: (t, event) => recordHistory({ t, event }),
      log: log.child({ component: name }),
      faults: setup.faults,
      ...(setup.hostLimits ? { hostLimits: setup.hostLimits } : {}),
      ...(setup.linkLimits ? { linkLimits: setup.linkLimits } : {}),
      dialGate,
      listen: { host: setup.listenHost, port: 0 },
      ...(own.orchestrator
        ? {
            world: {
              installFaults: (rules, done) => report({ type: 'faults', install: rules, remove: [], ack: awaitApplied(done) }),
              removeFaults: (ids, done) => report({ type: 'faults', install: [], remove: ids, ack: awaitApplied(done) }),
              crash: (component, detail, done) => report({ type: 'component-op', op: 'crash', component, detail, ack: awaitApplied(done) }),
              restart: (component, detail, done) => report({ type: 'component-op', op: 'restart', component, detail, ack: awaitApplied(done) }),
              stall: (component, done) => report({ type: 'component-op', op: 'stall', component, detail: '', ack: awaitApplied(done) }),
              resume: (component, done) => report({ type: 'component-op', op: 'resume', component, detail: '', ack: awaitApplied(done) }),
            },
          }
        : {}),
    });
  } catch (error) {
    report({ type: 'failed', detail: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    return undefined;
  }
}

async function connect(node: WsNode, peers: PeerAddress[]): Promise<void> {
  try {
    await node.connect(peers, setup.connectDeadlineMs);
    reportFor(node.name, { type: 'linked' });
  } catch (error) {
    reportFor(node.name, { type: 'failed', detail: error instanceof Error ? error.message : String(error) });
  }
}

const nodes = new Map<string, WsNode>();
const stopped = new Set<string>();

/** What the node's open links carried (read before it stops: stopping forgets its links). */
function framesOf(node: WsNode): FrameCounts {
  const frames: FrameCounts = { sent: 0, received: 0 };
  for (const peer of node.linkedPeers) {
    const stats = node.link(peer)?.stats;
    frames.sent += stats?.framesOut ?? 0;
    frames.received += stats?.framesIn ?? 0;
  }
  return frames;
}

async function stop(node: WsNode, detail: string): Promise<void> {
  const frames = framesOf(node);
  await node.stop(detail);
  flushHistory();
  stopped.add(node.name);
  reportFor(node.name, { type: 'stopped', frames });
  if (stopped.size < nodes.size) return;
  await writeCpuProfile();
  port?.close(); // nothing is left to keep the thread alive: it exits
}

/**
 * FFA_CPU_PROF_DIR=dir: each worker writes dir/<its components>.cpuprofile when it stops (`node
 * --cpu-prof` profiles the main thread only; this is the workers' equivalent). Open it in Chrome's
 * DevTools or speedscope.
 */
const PROFILE_DIR = process.env['FFA_CPU_PROF_DIR'];
const profiler = PROFILE_DIR ? new Session() : null;
if (profiler) {
  profiler.connect();
  profiler.post('Profiler.enable');
  profiler.post('Profiler.start');
}

function writeCpuProfile(): Promise<void> {
  if (!profiler || !PROFILE_DIR) return Promise.resolve();
  return new Promise((resolve) => {
    profiler.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(PROFILE_DIR, `${setup.components.map((c) => c.component.name).join('+').slice(0, 100)}.cpuprofile`), JSON.stringify(result.profile));
      resolve();
    });
  });
}

/** The orchestrator's requests waiting for every worker to apply them (bounded by the requests in flight). */
const appliedWaiters = new Map<number, () => void>();
let nextAck = 1;

function awaitApplied(done: (() => void) | undefined): number {
  const ack = nextAck++;
  if (done) appliedWaiters.set(ack, done);
  return ack;
}

/** A fault the orchestrator asked for, on this worker's component (component-host.ts). */
function applyComponentOp(node: WsNode, op: ComponentOp, detail: string): void {
  switch (op) {
    case 'crash':
      return node.host.crash(detail);
    case 'restart':
      return node.host.restart(detail);
    case 'stall':
      return node.host.stall();
    case 'resume':
      return node.host.resume();
  }
}

function obey(node: WsNode, command: SupervisorCommand): void {
  const report = (message: WorkerReport) => reportFor(node.name, message);
  switch (command.type) {
    case 'connect':
      void connect(node, command.peers);
      return;
    case 'start':
      // Synchronous: a component that throws in onStart crashes the worker right here.
      node.start();
      report({ type: 'started' });
      return;
    case 'stop':
      void stop(node, command.detail);
      return;
    case 'faults':
      node.changeFaults(command.install, command.remove);
      report({ type: 'applied', ack: command.ack });
      return;
    case 'component-op':
      applyComponentOp(node, command.op, command.detail);
      report({ type: 'applied', ack: command.ack });
      return;
    case 'world-applied':
      appliedWaiters.get(command.ack)?.();
      appliedWaiters.delete(command.ack);
      return;
  }
}

/**
 * Build the node and obey the supervisor. The worker's entry calls it: worker-entry.mjs after
 * loading this module through tsx, or the pre-built bundle's entry (bundle.ts) once it has
 * registered its component modules.
 */
export async function runWorker(): Promise<void> {
  const created = await Promise.all(setup.components.map(createNode));
  for (const node of created) if (node) nodes.set(node.name, node);
  // A component whose node could not be built has reported `failed`: the world will not start,
  // and nothing is left for this worker to do when none was built.
  if (nodes.size === 0) return port?.close();
  port?.on('message', ({ to, command }: AddressedCommand) => {
    const node = nodes.get(to);
    if (node) return obey(node, command);
    if (!setup.components.some((c) => c.component.name === to)) throw new Error(`bug: the supervisor addressed ${to}, which this worker does not run`);
  });
  listenForObservations();
  for (const node of nodes.values()) reportFor(node.name, { type: 'listening', url: node.url });
  sampleMemory();
}

/**
 * The orchestrator's worker: every worker's observable events, straight from each (their order
 * within a worker is kept; across workers it is arrival order, as the orchestrator's observation
 * grace allows for). Unreferenced ports: they never keep a stopped worker alive.
 */
function listenForObservations(): void {
  const orchestrator = setup.components.find((c) => c.orchestrator)?.component.name;
  const node = orchestrator === undefined ? undefined : nodes.get(orchestrator);
  for (const port of setup.observed ?? []) {
    port.on('message', (events: ObservedEvent[]) => node?.host.observe(events));
    port.unref();
  }
  setup.observer?.port.unref();
}

/** Bound on how often the heap is sampled: cheap, and enough to see a peak build up. */
const MEMORY_SAMPLE_MS = 250;

/** The worker's heap in use, now and then (unref: it never keeps the worker alive). */
function sampleMemory(): void {
  reportFor(FIRST, { type: 'memory', heapUsedBytes: getHeapStatistics().used_heap_size });
  setTimeout(sampleMemory, MEMORY_SAMPLE_MS).unref();
}
