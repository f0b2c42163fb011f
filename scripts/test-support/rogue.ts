/**
 * An attacker for the process-mode tests (scripts/compose-local.test.ts): it holds one service's
 * credentials file (the guests', usually) and tries, over loopback, what docs/threat-model.md says
 * must be refused: claiming other names, enrolling many, holding pre-hello slots, registering VMs
 * that never answer the attach.
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { WebSocket } from 'ws';
import type { Role } from '../../shared/protocol/roles.ts';
import { monotonicClock } from '../../shared/runtime/ws/clock.ts';
import { type Credentials, parseCredentials } from '../../shared/runtime/ws/credentials.ts';
import { WsRuntimeError } from '../../shared/runtime/ws/errors.ts';
import { greetServer } from '../../shared/runtime/ws/handshake.ts';
import { Keyring } from '../../shared/runtime/ws/keyring.ts';
import { CLOSE_TRY_AGAIN, linkLimits } from '../../shared/runtime/ws/limits.ts';
import { WsNode } from '../../shared/runtime/ws/node.ts';
import type { IdleRegistrantConfig } from './idle-registrant.ts';

const silent = pino({ level: 'silent' });

export function readCredentialsFile(path: string): Credentials {
  const parsed = parseCredentials(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.ok) throw new Error(`${path}: ${parsed.problems.join('; ')}`);
  return parsed.credentials;
}

/** One claim: open a link to `url` (expecting `server`) as `identity` under `role`, from `from`. 'welcomed', or the refusal's code and message. */
export async function claim(url: string, server: string, identity: string, role: Role, credentials: Credentials, from: string): Promise<string> {
  const sockets: WebSocket[] = [];
  try {
    await greetServer(url, {
      self: { identity, role },
      keyring: new Keyring(credentials),
      expect: server,
      limits: linkLimits({ helloTimeoutMs: 5_000 }),
      log: silent,
      localAddress: from,
      onWelcomed: (socket) => sockets.push(socket),
    });
    return 'welcomed';
  } catch (error) {
    if (error instanceof WsRuntimeError) return error.message;
    throw error;
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}

/** Open `count` sockets to `url` from `from` that never say hello; resolves once each is open or turned away, with the ones kept. */
export async function holdPreHelloSlots(url: string, count: number, from: string): Promise<{ held: WebSocket[]; busy: number }> {
  const outcomes = await Promise.all(
    Array.from({ length: count }, () => new Promise<{ socket: WebSocket; busy: boolean }>((resolve) => {
      const socket = new WebSocket(url, { localAddress: from });
      socket.on('error', () => {});
      socket.once('open', () => {
        // Turned away at once with 1013, or kept waiting for a hello that never comes. "At once"
        // is given 2 s, well inside the server's 5 s hello timeout: a loaded machine can take
        // longer than a few hundred ms to deliver the close.
        const timer = setTimeout(() => resolve({ socket, busy: false }), 2_000);
        socket.once('close', (code) => {
          clearTimeout(timer);
          resolve({ socket, busy: code === CLOSE_TRY_AGAIN });
        });
      });
      socket.once('unexpected-response', () => resolve({ socket, busy: false }));
    })),
  );
  return { held: outcomes.filter((o) => !o.busy).map((o) => o.socket), busy: outcomes.filter((o) => o.busy).length };
}

/** A guest that enrolls at the hypervisor from `from`, registers a VM advertising `advertise` (its own URL when null), and never probes. */
export async function idleGuest(name: string, hypervisorUrl: string, credentials: Credentials, from: string, advertise: string | null): Promise<WsNode> {
  const baseNs = process.hrtime.bigint();
  const node = await WsNode.create({
    component: { name, role: 'guest', module: 'scripts/test-support/idle-registrant.ts', config: null },
    seed: 0,
    worldNames: [name],
    credentials,
    clock: monotonicClock(baseNs),
    history: () => {},
    log: silent,
    listen: { host: from, port: 0 },
    worldChannel: { baseNs },
  });
  await node.connect([{ name: 'hypervisor', url: hypervisorUrl }], 10_000);
  const config: IdleRegistrantConfig = { hypervisor: 'hypervisor', url: advertise ?? node.url, vcpus: 1 };
  node.start(config);
  return node;
}
