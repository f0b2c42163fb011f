/**
 * One component in a worker thread, driven by the supervisor (worker-protocol.ts). Its history
 * events go to the supervisor in one message per turn of the event loop (a postMessage per event
 * made the supervisor's thread the bottleneck of a loaded world); a component that throws flushes
 * the batch before the worker dies, so a crash loses nothing already recorded. Nothing here
 * catches a component's throw: it is a bug, the worker dies, the supervisor records the crash.
 * Importing this module prepares the worker; runWorker() starts it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { monotonicClock, parseStartNs } from './clock.ts';
import { type PeerAddress, WsNode } from './node.ts';
import type { ComponentOp, SupervisorCommand, TimedEvent, WorkerReport, WorkerSetup } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('worker-main.ts runs only as a worker thread');
const setup = workerData as WorkerSetup;

function report(message: WorkerReport): void {
  port?.postMessage(message);
}

// pino trap (libraries.md): no transport threads in service workers; log synchronously to stderr.
const log = pino(
  { level: setup.logLevel, base: { component: setup.component.name } },
  pino.destination({ dest: 2, sync: true }),
);
const clock = monotonicClock(parseStartNs(setup.startNs));

/** Bound on one batch: a long synchronous burst is sent in pieces. */
const HISTORY_BATCH_MAX = 1024;
let historyBatch: TimedEvent[] = [];
let flushQueued = false;

function flushHistory(): void {
  flushQueued = false;
  if (historyBatch.length === 0) return;
  const events = historyBatch;
  historyBatch = [];
  report({ type: 'history', events });
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

async function createNode(): Promise<WsNode | undefined> {
  try {
    return await WsNode.create({
      component: setup.component,
      seed: setup.seed,
      worldNames: setup.worldNames,
      token: setup.token,
      accept: new Map(Object.entries(setup.accept)),
      clock,
      history: (t, event) => recordHistory({ t, event }),
      log,
      faults: setup.faults,
      ...(setup.hostLimits ? { hostLimits: setup.hostLimits } : {}),
      ...(setup.linkLimits ? { linkLimits: setup.linkLimits } : {}),
      listen: { host: setup.listenHost, port: 0 },
      ...(setup.orchestrator
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
    report({ type: 'linked' });
  } catch (error) {
    report({ type: 'failed', detail: error instanceof Error ? error.message : String(error) });
  }
}

async function stop(node: WsNode, detail: string): Promise<void> {
  await node.stop(detail);
  flushHistory();
  report({ type: 'stopped' });
  port?.close(); // nothing is left to keep the thread alive: it exits
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
    case 'observe':
      node.host.observe(command.events);
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
  const node = await createNode();
  if (node) {
    port?.on('message', (command: SupervisorCommand) => obey(node, command));
    report({ type: 'listening', url: node.url });
  }
}
