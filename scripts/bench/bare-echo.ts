/**
 * The floor any ws hop is measured against (design libraries.md): a bare ws + msgpackr echo
 * between two threads, one frame of 18 BigInt registers, decoded on return as the runtime would.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import WebSocket from 'ws';

export interface EchoFigures {
  roundTrips: number;
  wallMs: number;
  roundTripsPerSecond: number;
  microsecondsPerRoundTrip: number;
}

const packr = new Packr({ useRecords: false, int64AsType: 'bigint' });
const frame = { kind: 'call', id: 0, regs: Array.from({ length: 18 }, (_, i) => (0xffff_ffff_ffff_ffffn >> BigInt(i))) };

/** Round trips with `inFlight` frames outstanding at any time. */
async function measure(socket: WebSocket, roundTrips: number, inFlight: number): Promise<EchoFigures> {
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    let sent = 0;
    let received = 0;
    const sendOne = () => {
      frame.id = sent++;
      socket.send(packr.pack(frame));
    };
    socket.on('message', (data: Buffer) => {
      packr.unpack(data);
      received++;
      if (received === roundTrips) resolve();
      else if (sent < roundTrips) sendOne();
    });
    for (let i = 0; i < Math.min(inFlight, roundTrips); i++) sendOne();
  });
  socket.removeAllListeners('message');
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return figures(roundTrips, wallMs);
}

export function figures(roundTrips: number, wallMs: number): EchoFigures {
  return {
    roundTrips,
    wallMs: Math.round(wallMs),
    roundTripsPerSecond: Math.round(roundTrips / (wallMs / 1000)),
    microsecondsPerRoundTrip: Math.round((wallMs * 1000) / roundTrips),
  };
}

/**
 * The process's CPU time (every thread: this one and the echo's) per websocket message, over the
 * pipelined run: each round trip is two messages, each sent once and received once, as the world's
 * frames are counted (shared/runtime/ws/run-ws-world.ts traffic).
 */
async function measureWithCpu(socket: WebSocket, roundTrips: number, inFlight: number): Promise<EchoFigures & { cpuMicrosPerMessage: number }> {
  const before = process.cpuUsage();
  const measured = await measure(socket, roundTrips, inFlight);
  const cpu = process.cpuUsage(before);
  return { ...measured, cpuMicrosPerMessage: Math.round(((cpu.user + cpu.system) / (2 * roundTrips)) * 100) / 100 };
}

export async function measureBareEcho(roundTrips: number): Promise<{ sequential: EchoFigures; pipelined256: EchoFigures & { cpuMicrosPerMessage: number } }> {
  const worker = new Worker(new URL('./bare-echo-worker.mjs', import.meta.url));
  try {
    const [{ port }] = (await once(worker, 'message')) as [{ port: number }];
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    await once(socket, 'open');
    await measure(socket, 2000, 1); // warm-up
    const sequential = await measure(socket, roundTrips, 1);
    const pipelined256 = await measureWithCpu(socket, roundTrips * 4, 256);
    socket.close();
    return { sequential, pipelined256 };
  } finally {
    worker.postMessage('stop');
    await Promise.race([once(worker, 'exit'), new Promise((r) => setTimeout(r, 2000))]);
    await worker.terminate();
  }
}
