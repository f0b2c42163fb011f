/**
 * dial's retries: a peer whose welcome does not come in time is tried again until the deadline
 * (as a Swarm overlay's first seconds can leave a new task's packets unanswered), a refused hello
 * is not, and the retries end at the deadline. Loopback only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { linkKey, newSecret } from './credentials.ts';
import { dial } from './dial.ts';
import { WsRuntimeError } from './errors.ts';
import { Keyring } from './keyring.ts';
import { CLOSE_POLICY, linkLimits } from './limits.ts';
import { serveHandshake } from './test-support/fake-handshake.ts';

const HELLO_TIMEOUT_MS = 200;
const KEY = linkKey(newSecret(), 'caller', 'peer');

/** A server that answers each connection as `answer` says (by the connection's number, from 1). */
async function withServer(answer: (socket: WebSocket, connection: number) => void, body: (url: string, connections: () => number) => Promise<void>): Promise<void> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  let connections = 0;
  server.on('connection', (socket) => {
    connections += 1;
    answer(socket, connections);
  });
  try {
    await new Promise((resolve) => server.once('listening', resolve));
    const address = server.address();
    assert.ok(address && typeof address === 'object');
    await body(`ws://127.0.0.1:${address.port}`, () => connections);
  } finally {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The server's half of a good handshake with the client `caller`. */
const welcome = (socket: WebSocket): void => serveHandshake(socket, { identity: 'peer', role: 'test', key: KEY });

const options = (onWelcomed: () => void = () => {}) => ({
  self: { identity: 'caller', role: 'test' as const },
  keyring: new Keyring({ accept: {}, dial: { peer: KEY } }),
  expect: 'peer',
  limits: linkLimits({ helloTimeoutMs: HELLO_TIMEOUT_MS }),
  log: pino({ level: 'silent' }),
  onWelcomed,
});

describe('dial', () => {
  it('tries again when the welcome did not come in time, and links once it does', async () => {
    await withServer(
      (socket, connection) => {
        if (connection >= 3) welcome(socket);
      },
      async (url, connections) => {
        let welcomed = 0;
        await dial(url, options(() => (welcomed += 1)), 10_000);
        assert.equal(welcomed, 1);
        assert.equal(connections(), 3, 'two silent attempts, then the welcome');
      },
    );
  });

  it('gives up at the deadline when no welcome ever comes (HELLO_TIMEOUT)', async () => {
    await withServer(
      () => {},
      async (url) => {
        await assert.rejects(dial(url, options(), 1_000), (error: unknown) => error instanceof WsRuntimeError && error.code === 'HELLO_TIMEOUT');
      },
    );
  });

  it('does not try again after a refused hello (HELLO_REFUSED)', async () => {
    await withServer(
      (socket) => socket.once('message', () => socket.close(CLOSE_POLICY, 'HELLO_REFUSED: not accepted')),
      async (url, connections) => {
        await assert.rejects(dial(url, options(), 10_000), (error: unknown) => error instanceof WsRuntimeError && error.code === 'HELLO_REFUSED');
        assert.equal(connections(), 1);
      },
    );
  });
});
