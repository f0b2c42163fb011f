/**
 * The handshake (handshake.ts, docs/threat-model.md): every refusal closes with 1008, is logged
 * and leaves no link; the server proves itself before the client proves anything; guests not
 * named in advance enroll once under a free name, never a platform's, and later prove their own
 * key; a name holds one link. The pure judges are tested directly below.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { Packr } from 'msgpackr';
import { encodeFrame } from '../../wire/codec.ts';
import { type HelloFrame, WIRE_PROTOCOL_VERSION } from '../../wire/frames.ts';
import { REGISTER_COUNT } from '../../protocol/messages.ts';
import type { Role } from '../../protocol/roles.ts';
import {
  enrollmentKey,
  guestIssuerKey,
  issuedGuestKey,
  type KeyText,
  linkKey,
  newSecret,
  proofOf,
  proofsMatch,
  sealIssued,
  type Transcript,
  unsealIssued,
} from './credentials.ts';
import { Enrollments } from './enrollments.ts';
import { WsRuntimeError } from './errors.ts';
import { closeReason, greetServer, type HelloContext, judgeHello, judgeProof } from './handshake.ts';
import { Keyring } from './keyring.ts';
import { CLOSE_POLICY, CLOSE_REPLACED, CLOSE_TRY_AGAIN, DEFAULT_LINK_LIMITS, linkLimits } from './limits.ts';
import { serveHandshake } from './test-support/fake-handshake.ts';
import { type InProcessNode, inProcessNode } from './test-support/in-process-node.ts';
import { RawClient } from './test-support/raw-client.ts';

const WORLD = newSecret();
const CALLER_KEY = linkKey(WORLD, 'caller', 'echo');
const ISSUER = guestIssuerKey(WORLD);
const ENROLLMENT = enrollmentKey(WORLD);
const PLATFORM = ['gic', 'spmd', 'spmc', 'hypervisor', 'orchestrator', 'echo'];
const ECHO = { name: 'echo', role: 'test' as const, module: 'shared/runtime/test-world/echo.ts', config: { recordCalls: false } };
const REGS = new Array<bigint>(REGISTER_COUNT).fill((1n << 64n) - 1n);
const silent = pino({ level: 'silent' });

let echo: InProcessNode;
const clients: RawClient[] = [];

before(async () => {
  // The echo serves as a binding server: one listed peer, and guests that enroll (two per address here).
  echo = await inProcessNode({
    component: ECHO,
    worldNames: ['caller', 'echo'],
    credentials: { accept: { caller: { key: CALLER_KEY, role: 'test' } }, dial: {}, guests: { issuer: ISSUER, enrollment: ENROLLMENT, reserved: PLATFORM } },
    linkLimits: { helloTimeoutMs: 300, maxUnauthenticated: 4, maxUnauthenticatedPerAddress: 3, maxEnrollmentsPerAddress: 2, maxEnrollments: 4 },
  });
  echo.node.start();
});

after(async () => {
  for (const client of clients) client.terminate();
  await echo.node.stop('test over');
});

async function connect(localAddress?: string): Promise<RawClient> {
  const client = await RawClient.connect(echo.node.url, 5_000, localAddress);
  clients.push(client);
  return client;
}

const refusals = (): Record<string, unknown>[] => echo.logs.filter((l) => l['msg'] === 'link refused');
const hello = (identity: string, role: Role, nonce = newSecret()): HelloFrame => ({ kind: 'hello', protocol: WIRE_PROTOCOL_VERSION, role, identity, nonce });

/** `act` on a fresh connection must end in a close with 1008, one logged refusal matching `reason`, and no new link. */
async function assertRefused(act: (client: RawClient) => Promise<void> | void, reason: RegExp): Promise<void> {
  const before = refusals().length;
  const linked = echo.node.linkedPeers;
  const client = await connect();
  await act(client);
  assert.equal(await client.closed(5_000), CLOSE_POLICY);
  assert.equal(refusals().length, before + 1, 'the refusal is logged');
  assert.match(`${String(refusals().at(-1)?.['code'])}: ${String(refusals().at(-1)?.['reason'])}`, reason);
  const added = echo.node.linkedPeers.filter((peer) => !linked.includes(peer));
  assert.deepEqual(added, [], 'a refused peer gets no link, not even a half-open one');
}

/** Says `claim`, then proves it with `key` (when the server challenges it at all). */
async function claimWith(client: RawClient, identity: string, role: Role, key: KeyText): Promise<void> {
  const challenge = await client.hello({ identity, role }).catch(() => null);
  if (challenge) client.send(encodeFrame({ kind: 'proof', proof: proofOf(key, 'client', challenge.transcript) }));
}

describe('hello refusals (close 1008, logged, no link)', () => {
  it('refuses a proof made with the wrong key', () => assertRefused((c) => claimWith(c, 'caller', 'test', newSecret()), /HELLO_REFUSED: wrong proof/));
  it('refuses a claim to a name it does not know, under a role other than guest', () => assertRefused((c) => c.send(encodeFrame(hello('mallory', 'test'))), /HELLO_REFUSED: identity mallory: .*only role guest/));
  it('refuses a listed peer under another role', () => assertRefused((c) => c.send(encodeFrame(hello('caller', 'guest'))), /identity caller: caller links as test, not guest/));
  it("refuses a claim to the server's own name", () => assertRefused((c) => c.send(encodeFrame(hello('echo', 'guest'))), /identity echo: echo is this component's own name/));
  it('refuses a guest that claims a platform name', () => assertRefused((c) => c.send(encodeFrame(hello('spmd', 'guest'))), /spmd is a platform component's name/));
  it('refuses a peer of wire protocol 2 (a token in its hello), saying which protocol this end speaks', async () => {
    // Protocol 2's hello: the same slot and key count, a token where the nonce now is.
    const v2 = new Packr({ structures: [[], [], [], [], [], [], ['kind', 'protocol', 'role', 'identity', 'token']], maxSharedStructures: 10, useRecords: true });
    await assertRefused((c) => c.send(v2.pack({ kind: 'hello', protocol: 2, role: 'test', identity: 'caller', token: 't'.repeat(43) })), /HELLO_REFUSED: wire protocol 2, this end speaks 4/);
  });
  it('refuses a hello whose nonce is too short', () => assertRefused((c) => c.send(encodeFrame(hello('caller', 'test', 'short'))), /HELLO_REFUSED: first frame INVALID_FIELD: hello.nonce/));
  it('refuses a second hello where the proof belongs', () =>
    assertRefused(async (c) => {
      await c.hello({ identity: 'caller', role: 'test' });
      c.send(encodeFrame(hello('caller', 'test')));
    }, /hello frame where the proof belongs/));
  it('refuses a valid call frame before hello', () =>
    assertRefused((c) => c.send(encodeFrame({ kind: 'call', id: 1, conduit: 'smc', endpoint: 1, vcpu: 0, cpu: 0, regs: REGS, memory: null })), /HELLO_REQUIRED/));
  it('refuses a welcome sent by a client', () => assertRefused((c) => c.send(encodeFrame({ kind: 'welcome', issued: '' })), /HELLO_REQUIRED/));
  it('refuses a text frame before hello', () => assertRefused((c) => c.send(JSON.stringify(hello('caller', 'test'))), /HELLO_REQUIRED/));
  it('refuses garbage before hello', () => assertRefused((c) => c.send(Buffer.from([0xc1, 0xff, 0x00])), /HELLO_REQUIRED/));
  it('refuses silence past the hello timeout', () => assertRefused(() => {}, /HELLO_REQUIRED: no hello within/));
  it('refuses a client that stops after its hello', () =>
    assertRefused(async (c) => {
      await c.hello({ identity: 'caller', role: 'test' });
    }, /HELLO_REQUIRED: no proof within/));
});

describe('pre-hello slots', () => {
  it('one address holds at most maxUnauthenticatedPerAddress of them; another address still gets in; beyond the total, 1013', async () => {
    const held = await Promise.all([connect('127.0.0.2'), connect('127.0.0.2'), connect('127.0.0.2')]);
    const extra = await connect('127.0.0.2');
    assert.equal(await extra.closed(5_000), CLOSE_TRY_AGAIN, 'the same address waits its turn');
    assert.ok(echo.logs.some((l) => /maxUnauthenticatedPerAddress/.test(String(l['reason']))), 'the server logs why');
    const other = await connect('127.0.0.3');
    assert.equal(other.isOpen, true, 'another address is not held up');
    const beyond = await connect('127.0.0.4');
    assert.equal(await beyond.closed(5_000), CLOSE_TRY_AGAIN, 'past maxUnauthenticated in all');
    for (const client of [...held, other]) assert.equal(await client.closed(5_000), CLOSE_POLICY); // hello timeout
  });
});

describe('a welcomed link', () => {
  it('is welcomed, echoes a call, answers a second hello with NOT_ALLOWED and keeps working', async () => {
    const client = await RawClient.welcomed(echo.node.url, { identity: 'caller', role: 'test', key: CALLER_KEY });
    clients.push(client);
    assert.ok(echo.node.linkedPeers.includes('caller'));
    client.sendBatch(encodeFrame({ kind: 'call', id: 9, conduit: 'smc', endpoint: 1, vcpu: 0, cpu: 0, regs: REGS, memory: null }));
    const answer = await client.next(5_000);
    assert.ok(answer.type === 'frame' && answer.result.ok && answer.result.frame.kind === 'return');
    client.sendBatch(encodeFrame(hello('caller', 'test')));
    const refusal = await client.next(5_000);
    assert.ok(refusal.type === 'frame' && refusal.result.ok && refusal.result.frame.kind === 'protocol-error');
    assert.equal(refusal.result.frame.code, 'NOT_ALLOWED');
    client.sendBatch(encodeFrame({ kind: 'call', id: 10, conduit: 'smc', endpoint: 1, vcpu: 0, cpu: 0, regs: REGS, memory: null }));
    const again = await client.next(5_000);
    assert.ok(again.type === 'frame' && again.result.ok && again.result.frame.kind === 'return' && again.result.frame.id === 10);
    client.terminate();
  });
});

/** greetServer with `key` as the only key this client holds for `echo`. */
function greet(url: string, options: { expect?: string; key?: KeyText; enrolling?: boolean } = {}): Promise<string | null> {
  const keyring = new Keyring(
    options.enrolling
      ? { accept: {}, dial: {}, enrolling: { enrollment: options.key ?? ENROLLMENT, accept: {} } }
      : { accept: {}, dial: options.key === undefined ? {} : { [options.expect ?? 'echo']: options.key } },
  );
  return greetServer(url, {
    self: { identity: options.enrolling ? 'guest-x' : 'caller', role: options.enrolling ? 'guest' : 'test' },
    keyring,
    expect: options.expect ?? 'echo',
    limits: linkLimits({ helloTimeoutMs: 2_000 }),
    log: silent,
    onWelcomed: (socket) => socket.terminate(),
  }).then(() => keyring.issuedKey);
}

const rejectsWith = (code: string, message?: RegExp) => (error: unknown) => error instanceof WsRuntimeError && error.code === code && (message === undefined || message.test(error.message));

describe('the client authenticates the server before it proves anything', () => {
  let fake: WebSocketServer;
  let fakeUrl: string;
  let proofsSeen = 0;
  let serve: Parameters<typeof serveHandshake>[1];
  before(async () => {
    fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    fake.on('connection', (socket) => {
      serveHandshake(socket, serve);
      socket.on('message', () => proofsSeen++);
    });
    await new Promise((resolve) => fake.once('listening', resolve));
    const address = fake.address();
    assert.ok(address && typeof address === 'object');
    fakeUrl = `ws://127.0.0.1:${address.port}`;
  });
  after(() => new Promise((resolve) => fake.close(resolve)));

  it('a server that does not hold the key is refused (SERVER_UNPROVEN), and gets no proof', async () => {
    serve = { identity: 'echo', role: 'test', key: newSecret() };
    proofsSeen = 0;
    await assert.rejects(greet(fakeUrl, { key: CALLER_KEY }), rejectsWith('SERVER_UNPROVEN', /did not prove it is echo/));
    assert.equal(proofsSeen, 1, 'only the hello reached it');
  });
  it('a server of another wire protocol is refused, saying which (BAD_WELCOME)', async () => {
    serve = { identity: 'echo', role: 'test', key: CALLER_KEY, protocol: 2 };
    await assert.rejects(greet(fakeUrl, { key: CALLER_KEY }), rejectsWith('BAD_WELCOME', /speaks wire protocol 2, this end speaks 4/));
  });
  it('a server answering as another identity is refused (BAD_WELCOME)', async () => {
    serve = { identity: 'someone-else', role: 'test', key: CALLER_KEY };
    await assert.rejects(greet(fakeUrl, { key: CALLER_KEY }), rejectsWith('BAD_WELCOME', /want a challenge from echo/));
  });
  it('a client without the key the server asks for stops (NO_CREDENTIAL), not retried', async () => {
    await assert.rejects(greet(echo.node.url, {}), rejectsWith('NO_CREDENTIAL', /no key for a link to echo/));
  });
  it('a client presenting a wrong key is refused by the server (HELLO_REFUSED): its check of the server fails first', async () => {
    await assert.rejects(greet(echo.node.url, { key: newSecret() }), rejectsWith('SERVER_UNPROVEN'));
  });
});

describe('guests not named in advance', () => {
  const enrollFrom = async (identity: string, localAddress: string): Promise<RawClient> => {
    const client = await connect(localAddress);
    await claimWith(client, identity, 'guest', ENROLLMENT);
    return client;
  };

  let guestA: RawClient | undefined;

  it('one enrolls under a free name and gets its own key, sealed; the name is then bound', async () => {
    const client = await enrollFrom('guest-a', '127.0.0.5');
    guestA = client;
    const welcome = await client.next(5_000);
    assert.ok(welcome.type === 'frame' && welcome.result.ok && welcome.result.frame.kind === 'welcome');
    assert.notEqual(welcome.result.frame.issued, issuedGuestKey(ISSUER, 'guest-a'), 'the key is not in clear');
    assert.ok(echo.node.linkedPeers.includes('guest-a'));
  });

  it('greetServer enrolls and keeps the issued key', async () => {
    assert.equal(await greet(echo.node.url, { enrolling: true }), issuedGuestKey(ISSUER, 'guest-x'));
  });

  it('another holder of the enrollment credential cannot take a bound name: it is asked for that guest\'s own key', async () => {
    await assertRefused((c) => claimWith(c, 'guest-a', 'guest', ENROLLMENT), /HELLO_REFUSED: wrong proof/);
    const asking = await connect();
    const challenge = await asking.hello({ identity: 'guest-a', role: 'guest' });
    asking.terminate();
    assert.equal(challenge.transcript.credential, 'link', 'a bound name needs the guest\'s own key');
  });

  it('the enrollment credential binds no platform name and no other role', async () => {
    await assertRefused((c) => claimWith(c, 'hypervisor', 'guest', ENROLLMENT), /hypervisor is a platform component's name/);
    await assertRefused((c) => claimWith(c, 'guest-z', 'hypervisor', ENROLLMENT), /only role guest links under a name not listed/);
  });

  it('one address binds at most maxEnrollmentsPerAddress names, and the server at most maxEnrollments', async () => {
    const second = await enrollFrom('guest-b', '127.0.0.5');
    assert.ok((await second.next(5_000)).type === 'frame');
    const before = refusals().length;
    const third = await enrollFrom('guest-c', '127.0.0.5');
    assert.equal(await third.closed(5_000), CLOSE_POLICY);
    assert.ok(refusals().slice(before).some((r) => /127\.0\.0\.5 bound 2 guest name\(s\) already/.test(String(r['reason']))), 'the per-address refusal is logged');
    const elsewhere = await enrollFrom('guest-d', '127.0.0.6');
    assert.ok((await elsewhere.next(5_000)).type === 'frame');
    // guest-a, guest-x, guest-b and guest-d make four: the server's bound.
    const beyond = await enrollFrom('guest-e', '127.0.0.7');
    assert.equal(await beyond.closed(5_000), CLOSE_POLICY);
    assert.ok(refusals().some((r) => /4 guest names bound already/.test(String(r['reason']))), 'the refusal past the total is logged');
  });

  it('a reconnect that proves the guest\'s own key replaces its link; the old one closes with 4000', async () => {
    const old = guestA;
    assert.ok(old?.isOpen);
    const again = await RawClient.welcomed(echo.node.url, { identity: 'guest-a', role: 'guest', key: issuedGuestKey(ISSUER, 'guest-a') });
    clients.push(again);
    assert.equal(await old.closed(5_000), CLOSE_REPLACED, 'the older link was replaced');
    assert.ok(echo.node.link('guest-a'));
  });
});

describe('a name this node dials is never taken by an inbound link', () => {
  it('refuses an inbound claim to a peer it opened a link to, even with the right key', async () => {
    const key = newSecret();
    const b = await inProcessNode({ component: { ...ECHO, name: 'b' }, worldNames: ['a', 'b'], credentials: { accept: { a: { key } }, dial: {} } });
    const a = await inProcessNode({ component: { ...ECHO, name: 'a' }, worldNames: ['a', 'b'], credentials: { accept: { b: { key } }, dial: { b: key } } });
    try {
      await a.node.connect([{ name: 'b', url: b.node.url }], 5_000);
      const rogue = await RawClient.connect(a.node.url);
      await claimWith(rogue, 'b', 'test', key);
      assert.equal(await rogue.closed(5_000), CLOSE_POLICY);
      assert.match(String(a.logs.find((l) => l['msg'] === 'link refused')?.['reason']), /a opens the link to b itself/);
      assert.ok(a.node.link('b'), 'the outbound link stays');
    } finally {
      await a.node.stop('test over');
      await b.node.stop('test over');
    }
  });
});

describe('links per credential', () => {
  it('one key holds one inbound link: a second name proving the same key is refused while the first is linked', async () => {
    const key = newSecret();
    const server = await inProcessNode({ component: { ...ECHO, name: 's' }, worldNames: ['p', 'q', 's'], credentials: { accept: { p: { key }, q: { key } }, dial: {} } });
    try {
      const p = await RawClient.welcomed(server.node.url, { identity: 'p', role: 'test', key });
      const q = await RawClient.connect(server.node.url);
      await claimWith(q, 'q', 'test', key);
      assert.equal(await q.closed(5_000), CLOSE_POLICY);
      assert.match(String(server.logs.find((l) => l['msg'] === 'link refused')?.['reason']), /holds 1 link\(s\) here already \(p\).*maxLinksPerCredential/);
      p.terminate();
    } finally {
      await server.node.stop('test over');
    }
  });
});

describe('the pure judges', () => {
  const self = { identity: 'hypervisor', role: 'hypervisor' as const };
  const keyring = new Keyring({ accept: { orchestrator: { key: linkKey(WORLD, 'orchestrator', 'hypervisor'), role: 'orchestrator' } }, dial: {}, guests: { issuer: ISSUER, enrollment: ENROLLMENT, reserved: PLATFORM } });
  const context = (enrollments = new Enrollments(DEFAULT_LINK_LIMITS), address = '10.0.0.7'): HelloContext => ({ self, keyring, enrollments, address });
  const judge = (frame: HelloFrame, ctx = context()) => judgeHello(encodeFrame(frame), true, ctx);

  it('judgeHello: a listed peer proves its link key; a free guest name enrolls; a bound one proves the guest\'s own key', () => {
    const listed = judge(hello('orchestrator', 'orchestrator'));
    assert.ok(listed.ok && listed.credential === 'link' && listed.key === linkKey(WORLD, 'orchestrator', 'hypervisor'));
    const fresh = judge(hello('guest-7', 'guest'));
    assert.ok(fresh.ok && fresh.credential === 'enroll' && fresh.key === ENROLLMENT && fresh.issue === issuedGuestKey(ISSUER, 'guest-7'));
    const enrollments = new Enrollments(DEFAULT_LINK_LIMITS);
    enrollments.bind('guest-7', '10.0.0.8');
    const bound = judge(hello('guest-7', 'guest'), context(enrollments));
    assert.ok(bound.ok && bound.credential === 'link' && bound.key === issuedGuestKey(ISSUER, 'guest-7') && bound.issue === null);
  });

  it('judgeHello: no platform identity under a guest credential, no other role under a name not listed', () => {
    for (const name of ['spmd', 'gic', 'spmc', 'orchestrator']) {
      const verdict = judge(hello(name, 'guest'));
      assert.equal(verdict.ok, false, name);
    }
    assert.match(JSON.stringify(judge(hello('hypervisor', 'hypervisor'))), /own name/);
    assert.match(JSON.stringify(judge(hello('spmd', 'spmd'))), /only role guest/);
  });

  it('judgeHello: an enrollment past the per-address bound is refused before any proof', () => {
    const enrollments = new Enrollments(DEFAULT_LINK_LIMITS);
    enrollments.bind('guest-1', '10.0.0.7');
    const verdict = judge(hello('guest-2', 'guest'), context(enrollments));
    assert.ok(!verdict.ok && /enrollment refused: 10\.0\.0\.7 bound 1 guest name/.test(verdict.reason));
  });

  it('judgeProof: only the right proof passes', () => {
    const expected = proofOf(CALLER_KEY, 'client', TRANSCRIPT);
    assert.deepEqual(judgeProof(encodeFrame({ kind: 'proof', proof: expected }), true, expected), { ok: true });
    assert.equal(judgeProof(encodeFrame({ kind: 'proof', proof: proofOf(CALLER_KEY, 'server', TRANSCRIPT) }), true, expected).ok, false, 'a server proof reflected back');
    assert.equal(judgeProof(encodeFrame({ kind: 'proof', proof: newSecret() }), true, expected).ok, false);
  });

  it('the keyring: a guest that enrolled proves its issued key to every peer, and accepts the orchestrator with it', () => {
    const guest = new Keyring({ accept: {}, dial: {}, enrolling: { enrollment: ENROLLMENT, accept: { orchestrator: 'orchestrator' } } });
    assert.deepEqual(guest.keyForServer('hypervisor', 'enroll'), { ok: true, key: ENROLLMENT });
    assert.equal(guest.keyForServer('gic', 'link').ok, false, 'no own key before enrolling');
    assert.equal(guest.keyForHello('guest-q', 'orchestrator', 'orchestrator', () => false).ok, false);
    guest.adoptIssued(issuedGuestKey(ISSUER, 'guest-q'));
    assert.deepEqual(guest.keyForServer('gic', 'link'), { ok: true, key: issuedGuestKey(ISSUER, 'guest-q') });
    assert.deepEqual(guest.keyForHello('guest-q', 'orchestrator', 'orchestrator', () => false), { ok: true, credential: 'link', key: issuedGuestKey(ISSUER, 'guest-q'), issue: null });
    assert.equal(guest.keyForHello('guest-q', 'orchestrator', 'guest', () => false).ok, false, 'the orchestrator\'s name under another role');
    assert.equal(guest.keyForHello('guest-q', 'guest-r', 'guest', () => false).ok, false, 'another guest');
  });

  it('the orchestrator derives a registered guest\'s key, and no platform key from the issuer', () => {
    const orchestrator = new Keyring({ accept: {}, dial: { gic: linkKey(WORLD, 'orchestrator', 'gic') }, guests: { issuer: ISSUER, reserved: PLATFORM } });
    assert.deepEqual(orchestrator.keyForServer('guest-q', 'link'), { ok: true, key: issuedGuestKey(ISSUER, 'guest-q') });
    assert.equal(orchestrator.keyForServer('spmd', 'link').ok, false);
    assert.equal(orchestrator.keyForServer('guest-q', 'enroll').ok, false);
  });

  it('an issued key survives the seal only for the holders of the handshake key', () => {
    const issued = issuedGuestKey(ISSUER, 'guest-a');
    const sealed = sealIssued(ENROLLMENT, TRANSCRIPT, issued);
    assert.notEqual(sealed, issued);
    assert.equal(unsealIssued(ENROLLMENT, TRANSCRIPT, sealed), issued);
    assert.notEqual(unsealIssued(newSecret(), TRANSCRIPT, sealed), issued);
    assert.equal(unsealIssued(ENROLLMENT, TRANSCRIPT, 'short'), null);
    assert.equal(proofsMatch('', ''), false, 'an empty proof never matches');
  });

  it('keeps close reasons within 123 bytes of UTF-8', () => {
    assert.equal(Buffer.byteLength(closeReason('é'.repeat(200))) <= 123, true);
    assert.equal(closeReason('short'), 'short');
  });
});

const TRANSCRIPT: Transcript = {
  protocol: WIRE_PROTOCOL_VERSION,
  credential: 'link',
  client: { role: 'test', identity: 'caller', nonce: newSecret() },
  server: { role: 'test', identity: 'echo', nonce: newSecret() },
};
