/**
 * One thread of the chain floor (chain.ts): a websocket server its predecessor links to and a
 * link to its successor, frames encoded and decoded by the runtime's own codec
 * (shared/wire/codec.ts: the one structure table, bigint registers, decode validating), the
 * sockets opened as the runtime's are (perMessageDeflate off, the same maxPayload). A frame is a
 * call with 18 registers, the last two carrying the bookkeeping (the trial, the hops so far) and its
 * id naming the arrival. Each member decodes what arrives, counts the hop, and either lands
 * the frame (the hop count is reached) or encodes it again to its successor. No component logic,
 * no outbound queue, no history: what is left is what any ws hop costs.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import WebSocket, { WebSocketServer } from 'ws';
import { type CallMessage, REGISTER_COUNT } from '../../shared/protocol/messages.ts';
import { payloadBytes } from '../../shared/runtime/ws/handshake.ts';
import { decodeFrame, encodeFrame } from '../../shared/wire/codec.ts';
import type { ChainCommand, ChainMemberSetup, ChainReport, ChainTrialSpec } from './chain-protocol.ts';
import { intendedNs, timerFor } from './open-model.ts';

if (!parentPort) throw new Error('chain-member.ts runs only as a worker thread');
const port: MessagePort = parentPort;
const setup = workerData as ChainMemberSetup;
const report = (message: ChainReport, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** Registers 16 and 17: the bookkeeping a frame carries round the ring. */
const TRIAL = 16;
const HOP = 17;
const HOPS = BigInt(setup.hops);
/** Member 0 sends hop 1 to member 1, …: hop `hops` arrives at member hops % threads. */
const LANDS_HERE = setup.hops % setup.threads === setup.index;

const nowNs = (): number => Number(process.hrtime.bigint());

let successor: WebSocket | undefined;
let armed: ChainTrialSpec | undefined;
/** The landing member's record of the armed trial. */
let landings: { landedNs: Float64Array; count: number; reported: boolean } | undefined;

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: setup.maxPayloadBytes });
server.on('connection', (socket) => {
  socket.on('message', (data) => onFrame(payloadBytes(data)));
});
server.on('listening', () => {
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('bug: the chain member listens on no port');
  report({ type: 'listening', url: `ws://127.0.0.1:${address.port}` });
});

function send(frame: CallMessage): void {
  if (!successor) throw new Error(`bug: chain member ${setup.index} sends before it is linked`);
  successor.send(encodeFrame(frame), { binary: true });
}

function onFrame(bytes: Uint8Array): void {
  const decoded = decodeFrame(bytes);
  if (!decoded.ok || decoded.frame.kind !== 'call') throw new Error(`bug: the chain carried a bad frame: ${decoded.ok ? decoded.frame.kind : decoded.reason}`);
  const frame = decoded.frame;
  const regs = frame.regs;
  // A frame of a trial given up on (it ran out of time) ends here.
  if (armed === undefined || regs[TRIAL] !== BigInt(armed.id)) return;
  const hop = (regs[HOP] ?? 0n) + 1n;
  if (hop < HOPS) {
    regs[HOP] = hop;
    send(frame);
    return;
  }
  land(frame.id);
}

function land(arrival: number): void {
  if (!landings || !armed) throw new Error(`bug: chain member ${setup.index} landed a frame of no trial`);
  landings.landedNs[arrival] = nowNs();
  landings.count++;
  if (landings.count === armed.arrivals) reportLandings();
}

function reportLandings(): void {
  if (!landings || !armed || landings.reported) return;
  landings.reported = true;
  const { landedNs } = landings;
  report({ type: 'landed', id: armed.id, landedNs, collectedNs: nowNs() }, [landedNs.buffer as ArrayBuffer]);
}

/** A call frame like any FF-A call between components: 18 64-bit registers, the last two bookkeeping. */
function arrivalFrame(trial: number, arrival: number): CallMessage {
  const regs = Array.from({ length: REGISTER_COUNT }, (_, i) => 0xffff_ffff_ffff_ffffn >> BigInt(i));
  regs[TRIAL] = BigInt(trial);
  regs[HOP] = 0n;
  return { kind: 'call', id: arrival, conduit: 'smc', endpoint: 0x8001, vcpu: 0, cpu: 0, regs, memory: null };
}

/** Member 0: the arrivals, one per timer firing as the world's workload sends them (open-model.ts). */
function generate(trial: ChainTrialSpec): void {
  const startNs = nowNs();
  report({ type: 'started', id: trial.id, startNs });
  let index = 0;
  const next = (): void => {
    if (armed?.id !== trial.id) return;
    send(arrivalFrame(trial.id, index));
    index++;
    if (index >= trial.arrivals) return;
    const timer = timerFor(intendedNs(startNs, trial.ratePerSecond, index) - nowNs());
    if (timer.kind === 'immediate') setImmediate(next);
    else setTimeout(next, timer.ms);
  };
  next();
}

function obey(command: ChainCommand): void {
  switch (command.type) {
    case 'connect': {
      const socket = new WebSocket(command.url, { perMessageDeflate: false, maxPayload: setup.maxPayloadBytes });
      socket.once('open', () => {
        successor = socket;
        report({ type: 'linked' });
      });
      socket.once('error', (error) => {
        throw new Error(`chain member ${setup.index} could not link to ${command.url}: ${error.message}`);
      });
      return;
    }
    case 'arm':
      armed = command.trial;
      if (LANDS_HERE) {
        landings = { landedNs: new Float64Array(armed.arrivals).fill(Number.NaN), count: 0, reported: false };
      }
      report({ type: 'armed', id: armed.id });
      return;
    case 'start':
      if (armed?.id !== command.id) throw new Error(`bug: start of trial ${command.id}, armed ${armed?.id}`);
      generate(armed);
      return;
    case 'collect':
      if (LANDS_HERE && armed?.id === command.id) reportLandings();
      return;
    case 'stop':
      armed = undefined;
      successor?.terminate();
      for (const socket of server.clients) socket.terminate();
      server.close(() => port.close());
      return;
  }
}

port.on('message', obey);
