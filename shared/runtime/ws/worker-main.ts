/**
 * One component in a worker thread, driven by the supervisor (worker-protocol.ts). Its history
 * events go to the supervisor as they happen, so a crash loses nothing already recorded. A
 * component that throws is a bug: nothing here catches it, the worker dies, the supervisor
 * records the crash.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { monotonicClock, parseStartNs } from './clock.ts';
import { type PeerAddress, WsNode } from './node.ts';
import type { SupervisorCommand, WorkerReport, WorkerSetup } from './worker-protocol.ts';

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

async function createNode(): Promise<WsNode | undefined> {
  try {
    return await WsNode.create({
      component: setup.component,
      seed: setup.seed,
      worldNames: setup.worldNames,
      token: setup.token,
      accept: new Map(Object.entries(setup.accept)),
      clock,
      history: (t, event) => report({ type: 'history', t, event }),
      log,
      faults: setup.faults,
      ...(setup.hostLimits ? { hostLimits: setup.hostLimits } : {}),
      ...(setup.linkLimits ? { linkLimits: setup.linkLimits } : {}),
      listen: { host: setup.listenHost, port: 0 },
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
  report({ type: 'stopped' });
  port?.close(); // nothing is left to keep the thread alive: it exits
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
  }
}

const node = await createNode();
if (node) {
  port.on('message', (command: SupervisorCommand) => obey(node, command));
  report({ type: 'listening', url: node.url });
}
