import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { encodeFrame } from '../../wire/codec.ts';
import { type HelloFrame, WIRE_PROTOCOL_VERSION, type WireFrame } from '../../wire/frames.ts';
import { REGISTER_COUNT } from '../../protocol/messages.ts';
import { WsRuntimeError } from './errors.ts';
import { closeReason, greetServer, judgeHello } from './handshake.ts';
import { CLOSE_POLICY, CLOSE_TRY_AGAIN, linkLimits } from './limits.ts';
import { type InProcessNode, inProcessNode } from './test-support/in-process-node.ts';
import { RawClient } from './test-support/raw-client.ts';

const ECHO = { name: 'echo', role: 'test' as const, module: 'shared/runtime/test-world/echo.ts', config: { recordCalls: false } };
const ACCEPT = { caller: { token: 'caller-token', role: 'test' as const } };
const GOOD_HELLO: HelloFrame = { kind: 'hello', protocol: WIRE_PROTOCOL_VERSION, role: 'test', identity: 'caller', token: 'caller-token' };
const REGS = new Array<bigint>(REGISTER_COUNT).fill((1n << 64n) - 1n);

let echo: InProcessNode;
const clients: RawClient[] = [];

before(async () => {
  echo = await inProcessNode({
    component: ECHO,
    worldNames: ['caller', 'echo'],
    accept: ACCEPT,
    linkLimits: { helloTimeoutMs: 300, maxUnauthenticated: 4 },
  });
  echo.node.start();
});

after(async () => {
  for (const client of clients) client.terminate();
  await echo.node.stop('test over');
});

async function connect(): Promise<RawClient> {
  const client = await RawClient.connect(echo.node.url);
  clients.push(client);
  return client;
}

function refusalsLogged(): number {
  return echo.logs.filter((l) => l['msg'] === 'link refused').length;
}

/** Sends `first` as the opening frame; the server must close with 1008, log it, and keep no link. */
async function assertRefused(first: Buffer | string | undefined, code: RegExp): Promise<void> {
  const logged = refusalsLogged();
  const client = await connect();
  if (first !== undefined) client.send(first);
  assert.equal(await client.closed(5_000), CLOSE_POLICY);
  assert.equal(refusalsLogged(), logged + 1, 'the refusal is logged');
  const record = echo.logs.filter((l) => l['msg'] === 'link refused').at(-1);
  assert.match(String(record?.['code']), code);
  assert.deepEqual(echo.node.linkedPeers, [], 'a refused peer gets no link, not even a half-open one');
}

describe('hello refusals (close 1008, logged, no link)', () => {
  it('refuses a wrong token', () => assertRefused(encodeFrame({ ...GOOD_HELLO, token: 'guess' }), /HELLO_REFUSED/));
  it('refuses a missing (empty) token', () => assertRefused(encodeFrame({ ...GOOD_HELLO, token: '' }), /HELLO_REFUSED/));
  it('refuses a wrong protocol version', () =>
    assertRefused(encodeFrame({ ...GOOD_HELLO, protocol: WIRE_PROTOCOL_VERSION + 1 }), /HELLO_REFUSED/));
  it('refuses a peer of wire protocol 1 (one frame per message) and tells it which protocol this end speaks', async () => {
    const client = await connect();
    client.send(encodeFrame({ ...GOOD_HELLO, protocol: 1 }));
    const event = await client.next(5_000);
    assert.ok(event.type === 'close', `want the refusal, got ${JSON.stringify(event)}`);
    assert.equal(event.code, CLOSE_POLICY);
    assert.equal(event.reason, `HELLO_REFUSED: wire protocol 1, this end speaks ${WIRE_PROTOCOL_VERSION}`);
    const record = echo.logs.filter((l) => l['msg'] === 'link refused').at(-1);
    assert.equal(record?.['reason'], `wire protocol 1, this end speaks ${WIRE_PROTOCOL_VERSION}`);
  });
  it('refuses an unknown role', () =>
    assertRefused(encodeFrame({ ...GOOD_HELLO, role: 'root' } as unknown as WireFrame), /HELLO_REFUSED/));
  it('refuses a hello without a token key', () => {
    const { token: _token, ...noToken } = GOOD_HELLO;
    return assertRefused(encodeFrame(noToken as unknown as WireFrame), /HELLO_REFUSED/);
  });
  it('refuses a role other than the expected one', () => assertRefused(encodeFrame({ ...GOOD_HELLO, role: 'guest' }), /HELLO_REFUSED/));
  it('refuses an identity it does not accept', () => assertRefused(encodeFrame({ ...GOOD_HELLO, identity: 'mallory' }), /HELLO_REFUSED/));
  it('refuses a valid call frame before hello', () =>
    assertRefused(encodeFrame({ kind: 'call', id: 1, conduit: 'smc', endpoint: 1, vcpu: 0, cpu: 0, regs: REGS, memory: null }), /HELLO_REQUIRED/));
  it('refuses a welcome sent by a client', () =>
    assertRefused(encodeFrame({ kind: 'welcome', protocol: WIRE_PROTOCOL_VERSION, role: 'test', identity: 'caller' }), /HELLO_REQUIRED/));
  it('refuses a text frame before hello', () => assertRefused(JSON.stringify(GOOD_HELLO), /HELLO_REQUIRED/));
  it('refuses garbage before hello', () => assertRefused(Buffer.from([0xc1, 0xff, 0x00]), /HELLO_REQUIRED/));
  it('refuses silence past the hello timeout', () => assertRefused(undefined, /HELLO_REQUIRED/));

  it('turns away connections beyond the bound on unauthenticated sockets with 1013 (try again later), which a dialer retries', async () => {
    const waiting = await Promise.all([connect(), connect(), connect(), connect()]);
    const extra = await connect();
    assert.equal(await extra.closed(5_000), CLOSE_TRY_AGAIN);
    for (const client of waiting) assert.equal(await client.closed(5_000), CLOSE_POLICY); // hello timeout
  });
});

describe('a welcomed link', () => {
  it('is welcomed, echoes a call, answers a second hello with NOT_ALLOWED and keeps working', async () => {
    const client = await RawClient.welcomed(echo.node.url, GOOD_HELLO);
    clients.push(client);
    assert.deepEqual(echo.node.linkedPeers, ['caller']);
    client.sendBatch(encodeFrame({ kind: 'call', id: 9, conduit: 'smc', endpoint: 1, vcpu: 0, cpu: 0, regs: REGS, memory: null }));
    const answer = await client.next(5_000);
    assert.ok(answer.type === 'frame' && answer.result.ok && answer.result.frame.kind === 'return');
    assert.deepEqual(answer.result.frame.regs.slice(1), REGS.slice(1));

    client.sendBatch(encodeFrame(GOOD_HELLO));
    const refusal = await client.next(5_000);
    assert.ok(refusal.type === 'frame' && refusal.result.ok && refusal.result.frame.kind === 'protocol-error');
    assert.equal(refusal.result.frame.code, 'NOT_ALLOWED');
    client.sendBatch(encodeFrame({ kind: 'call', id: 10, conduit: 'smc', endpoint: 1, vcpu: 0, cpu: 0, regs: REGS, memory: null }));
    const again = await client.next(5_000);
    assert.ok(again.type === 'frame' && again.result.ok && again.result.frame.kind === 'return' && again.result.frame.id === 10);
    client.terminate();
  });

  it('a client presenting a wrong token is refused, not retried (HELLO_REFUSED)', async () => {
    const limits = linkLimits({ helloTimeoutMs: 2_000 });
    await assert.rejects(
      greetServer(echo.node.url, {
        self: { identity: 'caller', role: 'test', token: 'wrong' },
        expect: 'echo',
        limits,
        log: pino({ level: 'silent' }),
        onWelcomed: () => assert.fail('welcomed with a wrong token'),
      }),
      (error: unknown) => error instanceof WsRuntimeError && error.code === 'HELLO_REFUSED',
    );
  });

  it('a client refuses a welcome of another wire protocol, and says which (BAD_WELCOME)', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    server.on('connection', (socket) => {
      socket.once('message', () => socket.send(encodeFrame({ kind: 'welcome', protocol: 1, role: 'test', identity: 'old-echo' })));
    });
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const address = server.address();
      assert.ok(address && typeof address === 'object');
      await assert.rejects(
        greetServer(`ws://127.0.0.1:${address.port}`, {
          self: { identity: 'caller', role: 'test', token: 'caller-token' },
          expect: 'old-echo',
          limits: linkLimits(),
          log: pino({ level: 'silent' }),
          onWelcomed: () => assert.fail('linked to a peer of another wire protocol'),
        }),
        (error: unknown) => error instanceof WsRuntimeError && error.code === 'BAD_WELCOME' && error.message.includes(`speaks wire protocol 1, this end speaks ${WIRE_PROTOCOL_VERSION}`),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a client refuses a welcome from the wrong identity (BAD_WELCOME)', async () => {
    await assert.rejects(
      greetServer(echo.node.url, {
        self: { identity: 'caller', role: 'test', token: 'caller-token' },
        expect: 'someone-else',
        limits: linkLimits(),
        log: pino({ level: 'silent' }),
        onWelcomed: () => assert.fail('accepted a welcome from the wrong peer'),
      }),
      (error: unknown) => error instanceof WsRuntimeError && error.code === 'BAD_WELCOME',
    );
  });
});

describe('judgeHello and closeReason', () => {
  const accept = new Map(Object.entries(ACCEPT));
  it('accepts the right hello and names the peer', () => {
    assert.deepEqual(judgeHello(encodeFrame(GOOD_HELLO), true, accept), { ok: true, peer: { identity: 'caller', role: 'test' } });
  });
  it('keeps close reasons within 123 bytes of UTF-8', () => {
    assert.equal(Buffer.byteLength(closeReason('é'.repeat(200))) <= 123, true);
    assert.equal(closeReason('short'), 'short');
  });
});
