/**
 * The handshake that opens every link (docs/design.md §4, docs/threat-model.md). No secret
 * crosses the wire; each end proves it holds the key the two share (keyring.ts), the server first:
 *
 *   client → hello {protocol, role, identity, nonce}                    who it claims to be
 *   server → challenge {protocol, role, identity, credential, nonce, proof}
 *            its own name, which key the claim must be proven with, and its proof
 *   client → proof {proof}                    only once the server proved it is the peer dialled
 *   server → welcome {issued}                 the link is up (issued: an enrolled guest's own key, sealed)
 *
 * Anything else (a claim no key admits, a wrong proof, a text frame, a frame out of turn, silence
 * past the hello timeout) is refused: logged, and the socket closed with 1008 and the reason. A
 * refused peer never gets a link, not even a half-open one: the socket is handed on
 * (onWelcomed) only after the welcome.
 */
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { decodeFrame, encodeFrame, unpackBytes } from '../../wire/codec.ts';
import { type ChallengeFrame, type CredentialKind, type HelloFrame, WIRE_PROTOCOL_VERSION, type WelcomeFrame } from '../../wire/frames.ts';
import type { Role } from '../../protocol/roles.ts';
import { type KeyText, newSecret, proofOf, proofsMatch, sealIssued, type Transcript, unsealIssued } from './credentials.ts';
import type { Enrollments } from './enrollments.ts';
import { WsRuntimeError } from './errors.ts';
import type { Keyring } from './keyring.ts';
import { CLOSE_POLICY, CLOSE_TRY_AGAIN, type LinkLimits } from './limits.ts';

/** Who is at one end of a link. */
export interface LinkIdentity {
  identity: string;
  role: Role;
}

export type HandshakeRefusal = { ok: false; code: 'HELLO_REQUIRED' | 'HELLO_REFUSED'; reason: string };

/** A hello a key admits: the claim, and the key it must be proven with. */
export type HelloVerdict = { ok: true; hello: HelloFrame; credential: CredentialKind; key: KeyText; issue: KeyText | null } | HandshakeRefusal;

/** What a server judges a hello against. */
export interface HelloContext {
  self: LinkIdentity;
  keyring: Keyring;
  enrollments: Enrollments;
  /** The peer's source address (enrollments are bounded per address). */
  address: string;
}

/** Turn ws's message payload into one buffer (ws may hand over fragments as a list). */
export function payloadBytes(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** A hello of another wire protocol, read as far as its version (its keys may differ from ours). */
function otherProtocol(bytes: Buffer): number | null {
  const unpacked = unpackBytes(bytes);
  const value = unpacked.ok ? (unpacked.value as Record<string, unknown> | null) : null;
  const protocol = typeof value === 'object' && value !== null && value['kind'] === 'hello' ? value['protocol'] : undefined;
  return typeof protocol === 'number' && protocol !== WIRE_PROTOCOL_VERSION ? protocol : null;
}

/** The server's decision on the first frame of a connection. Pure but for the state it reads, so it is tested directly. */
export function judgeHello(data: WebSocket.RawData, isBinary: boolean, context: HelloContext): HelloVerdict {
  if (!isBinary) return { ok: false, code: 'HELLO_REQUIRED', reason: 'text frame before hello' };
  const bytes = payloadBytes(data);
  const protocol = otherProtocol(bytes);
  if (protocol !== null) return { ok: false, code: 'HELLO_REFUSED', reason: `wire protocol ${protocol}, this end speaks ${WIRE_PROTOCOL_VERSION}` };
  const decoded = decodeFrame(bytes);
  if (!decoded.ok) {
    // A hello with a bad field (an unknown role, a short nonce) is a refused hello; anything else is not one.
    const code = decoded.reason.startsWith('hello.') ? 'HELLO_REFUSED' : 'HELLO_REQUIRED';
    return { ok: false, code, reason: `first frame ${decoded.code}: ${decoded.reason}` };
  }
  const hello = decoded.frame;
  if (hello.kind !== 'hello') return { ok: false, code: 'HELLO_REQUIRED', reason: `${hello.kind} frame before hello` };
  const { enrollments, keyring, self, address } = context;
  const choice = keyring.keyForHello(self.identity, hello.identity, hello.role, (name) => enrollments.isBound(name));
  if (!choice.ok) return { ok: false, code: 'HELLO_REFUSED', reason: `identity ${hello.identity}: ${choice.why}` };
  const enrollmentRefusal = choice.credential === 'enroll' ? enrollments.refusal(hello.identity, address) : null;
  if (enrollmentRefusal !== null) return { ok: false, code: 'HELLO_REFUSED', reason: `identity ${hello.identity}: enrollment refused: ${enrollmentRefusal}` };
  return { ok: true, hello, credential: choice.credential, key: choice.key, issue: choice.issue };
}

/** The transcript both proofs of a handshake are computed over. */
function transcriptOf(hello: HelloFrame, server: LinkIdentity, credential: CredentialKind, serverNonce: string): Transcript {
  return {
    protocol: WIRE_PROTOCOL_VERSION,
    credential,
    client: { role: hello.role, identity: hello.identity, nonce: hello.nonce },
    server: { role: server.role, identity: server.identity, nonce: serverNonce },
  };
}

/** The server's decision on the second frame: the client's proof, against the one it must be. */
export function judgeProof(data: WebSocket.RawData, isBinary: boolean, expected: string): { ok: true } | HandshakeRefusal {
  if (!isBinary) return { ok: false, code: 'HELLO_REQUIRED', reason: 'text frame before the proof' };
  const decoded = decodeFrame(payloadBytes(data));
  if (!decoded.ok) return { ok: false, code: 'HELLO_REFUSED', reason: `second frame ${decoded.code}: ${decoded.reason}` };
  if (decoded.frame.kind !== 'proof') return { ok: false, code: 'HELLO_REFUSED', reason: `${decoded.frame.kind} frame where the proof belongs` };
  if (!proofsMatch(decoded.frame.proof, expected)) return { ok: false, code: 'HELLO_REFUSED', reason: 'wrong proof: the peer does not hold the key its claim needs' };
  return { ok: true };
}

/** A close reason fits in 123 bytes of UTF-8 (RFC 6455 §5.5); ws throws on longer ones. */
export function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason, 'utf8') > 123) reason = reason.slice(0, -1);
  return reason;
}

export interface AdmitOptions {
  self: LinkIdentity;
  keyring: Keyring;
  enrollments: Enrollments;
  helloTimeoutMs: number;
  log: Logger;
  /** Where the connection comes from: its address (bounds) and port (the log). */
  remote: { address: string; port: number };
  /**
   * Whether the node takes this proven peer now, or why not (a name holds one link, a credential
   * opens so many). `key`: the key that names the peer from now on (an enrolled guest's: the one issued).
   */
  admit(peer: LinkIdentity, credential: CredentialKind, key: KeyText): string | null;
  /** Called synchronously after the welcome is sent: the socket is now a link. */
  onWelcomed(socket: WebSocket, peer: LinkIdentity): void;
  /** Called once the socket is no longer unauthenticated (welcomed, refused or gone). */
  onSettled(): void;
}

/** Server side: run the handshake (bounded) on a new connection, then welcome or refuse. */
export function admitInbound(socket: WebSocket, options: AdmitOptions): void {
  const { self, log, remote } = options;
  const context: HelloContext = { self, keyring: options.keyring, enrollments: options.enrollments, address: remote.address };
  let claim: { verdict: Extract<HelloVerdict, { ok: true }>; transcript: Transcript } | undefined;
  let settled = false;
  const settle = (): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.off('message', onFrame);
    socket.off('close', onClose);
    options.onSettled();
  };
  // A client that refuses this server (its proof was wrong for the key the client holds) says so in its close.
  const onClose = (code: number, reason: Buffer): void => {
    if (code === CLOSE_POLICY) log.warn({ remote: `${remote.address}:${remote.port}`, claimed: claim?.verdict.hello.identity, reason: reason.toString() }, 'link refused by the peer during the handshake');
    settle();
  };
  const refuse = (code: string, reason: string): void => {
    settle();
    log.warn({ remote: `${remote.address}:${remote.port}`, claimed: claim?.verdict.hello.identity, code, reason }, 'link refused');
    socket.close(CLOSE_POLICY, closeReason(`${code}: ${reason}`));
  };
  const onHello = (data: WebSocket.RawData, isBinary: boolean): void => {
    const verdict = judgeHello(data, isBinary, context);
    if (!verdict.ok) return refuse(verdict.code, verdict.reason);
    const transcript = transcriptOf(verdict.hello, self, verdict.credential, newSecret());
    claim = { verdict, transcript };
    const challenge: ChallengeFrame = { kind: 'challenge', protocol: WIRE_PROTOCOL_VERSION, ...self, credential: verdict.credential, nonce: transcript.server.nonce, proof: proofOf(verdict.key, 'server', transcript) };
    socket.send(encodeFrame(challenge));
  };
  const onProof = (data: WebSocket.RawData, isBinary: boolean, { verdict, transcript }: NonNullable<typeof claim>): void => {
    const proven = judgeProof(data, isBinary, proofOf(verdict.key, 'client', transcript));
    if (!proven.ok) return refuse(proven.code, proven.reason);
    const peer: LinkIdentity = { identity: verdict.hello.identity, role: verdict.hello.role };
    // Checked again now: another handshake may have bound the name, or linked it, meanwhile.
    const enrolling = verdict.credential === 'enroll';
    const held = options.admit(peer, verdict.credential, verdict.issue ?? verdict.key) ?? (enrolling ? options.enrollments.refusal(peer.identity, remote.address) : null);
    if (held !== null) return refuse('HELLO_REFUSED', `identity ${peer.identity}: ${held}`);
    if (enrolling) options.enrollments.bind(peer.identity, remote.address);
    settle();
    const welcome: WelcomeFrame = { kind: 'welcome', issued: verdict.issue === null ? '' : sealIssued(verdict.key, transcript, verdict.issue) };
    socket.send(encodeFrame(welcome));
    log.info({ peer: peer.identity, role: peer.role, credential: verdict.credential, ...(enrolling ? { enrolledFrom: remote.address } : {}) }, enrolling ? 'link welcomed: a guest name bound' : 'link welcomed');
    options.onWelcomed(socket, peer);
  };
  const onFrame = (data: WebSocket.RawData, isBinary: boolean): void => (claim === undefined ? onHello(data, isBinary) : onProof(data, isBinary, claim));
  const timer = setTimeout(() => refuse('HELLO_REQUIRED', `no ${claim ? 'proof' : 'hello'} within ${options.helloTimeoutMs} ms`), options.helloTimeoutMs);
  socket.on('message', onFrame);
  socket.on('close', onClose);
}

export interface GreetOptions {
  self: LinkIdentity;
  keyring: Keyring;
  /** The name the server must answer with. */
  expect: string;
  limits: LinkLimits;
  log: Logger;
  /** The address to dial from (a loopback world gives each service its own: bounds per address see them apart). */
  localAddress?: string;
  /** Called synchronously when the welcome arrives: the socket is now a link. */
  onWelcomed(socket: WebSocket, peer: LinkIdentity): void;
}

type ChallengeVerdict = { ok: true; key: KeyText; transcript: Transcript; server: LinkIdentity } | { ok: false; error: WsRuntimeError };

/** The client's decision on the server's challenge: is it the peer dialled, proven? Pure but for the keyring it reads. */
export function judgeChallenge(data: WebSocket.RawData, isBinary: boolean, hello: HelloFrame, options: Pick<GreetOptions, 'keyring' | 'expect'>, url: string): ChallengeVerdict {
  const decoded = isBinary ? decodeFrame(payloadBytes(data)) : undefined;
  const challenge = decoded?.ok ? decoded.frame : undefined;
  const bad = (code: 'BAD_WELCOME' | 'NO_CREDENTIAL' | 'SERVER_UNPROVEN', message: string): ChallengeVerdict => ({ ok: false, error: new WsRuntimeError(code, message) });
  if (challenge?.kind === 'challenge' && challenge.protocol !== WIRE_PROTOCOL_VERSION) return bad('BAD_WELCOME', `${url} speaks wire protocol ${challenge.protocol}, this end speaks ${WIRE_PROTOCOL_VERSION}`);
  if (challenge?.kind !== 'challenge' || challenge.identity !== options.expect) {
    const what = challenge ? `${challenge.kind}${challenge.kind === 'challenge' ? ` from ${challenge.identity}` : ''}` : 'an invalid frame';
    return bad('BAD_WELCOME', `${url} answered the hello with ${what}, want a challenge from ${options.expect}`);
  }
  const key = options.keyring.keyForServer(options.expect, challenge.credential);
  if (!key.ok) return bad('NO_CREDENTIAL', `${url}: ${key.why}`);
  const server = { role: challenge.role, identity: challenge.identity };
  const transcript = transcriptOf(hello, server, challenge.credential, challenge.nonce);
  if (!proofsMatch(challenge.proof, proofOf(key.key, 'server', transcript))) {
    return bad('SERVER_UNPROVEN', `${url} did not prove it is ${options.expect} (wrong proof for the ${challenge.credential} key): nothing was sent to it`);
  }
  return { ok: true, key: key.key, transcript, server };
}

/** Client side: one attempt to open a link to `url`: connect, hello, check the server's proof, prove, wait (bounded) for the welcome. */
export function greetServer(url: string, options: GreetOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: options.limits.maxPayloadBytes,
      handshakeTimeout: options.limits.helloTimeoutMs,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    const hello: HelloFrame = { kind: 'hello', protocol: WIRE_PROTOCOL_VERSION, ...options.self, nonce: newSecret() };
    let proven: Extract<ChallengeVerdict, { ok: true }> | undefined;
    let settled = false;
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      socket.off('message', onFrame);
      socket.off('close', onClose);
    };
    const fail = (error: WsRuntimeError, closeCode?: number): void => {
      if (settled) return;
      finish();
      if (closeCode !== undefined) socket.close(closeCode, closeReason(error.message));
      else socket.terminate();
      reject(error);
    };
    const onChallenge = (data: WebSocket.RawData, isBinary: boolean): void => {
      const verdict = judgeChallenge(data, isBinary, hello, options, url);
      if (!verdict.ok) return fail(verdict.error, CLOSE_POLICY);
      proven = verdict;
      socket.send(encodeFrame({ kind: 'proof', proof: proofOf(verdict.key, 'client', verdict.transcript) }));
    };
    const onWelcome = (data: WebSocket.RawData, isBinary: boolean, { key, transcript, server }: NonNullable<typeof proven>): void => {
      const decoded = isBinary ? decodeFrame(payloadBytes(data)) : undefined;
      const welcome = decoded?.ok && decoded.frame.kind === 'welcome' ? decoded.frame : undefined;
      if (!welcome) return fail(new WsRuntimeError('BAD_WELCOME', `${url} answered the proof with ${decoded?.ok ? decoded.frame.kind : 'an invalid frame'}, want a welcome`), CLOSE_POLICY);
      if (welcome.issued !== '') {
        const issued = unsealIssued(key, transcript, welcome.issued);
        if (issued === null || !options.keyring.adoptsIssued) return fail(new WsRuntimeError('BAD_WELCOME', `${url} issued a key this component cannot take`), CLOSE_POLICY);
        options.keyring.adoptIssued(issued);
        options.log.info({ server: server.identity }, 'enrolled: this guest\'s name is bound, and its own key issued');
      }
      finish();
      options.onWelcomed(socket, server);
      resolve();
    };
    const onFrame = (data: WebSocket.RawData, isBinary: boolean): void => (proven === undefined ? onChallenge(data, isBinary) : onWelcome(data, isBinary, proven));
    const timer = setTimeout(
      () => fail(new WsRuntimeError('HELLO_TIMEOUT', `no welcome from ${url} within ${options.limits.helloTimeoutMs} ms`)),
      options.limits.helloTimeoutMs,
    );
    socket.on('error', (error) => options.log.debug({ url, err: error.message }, 'link socket error'));
    socket.on('open', () => socket.send(encodeFrame(hello)));
    const onClose = (code: number, reason: Buffer): void => {
      if (code === CLOSE_POLICY) fail(new WsRuntimeError('HELLO_REFUSED', `${url} refused the hello: ${reason.toString()}`));
      else if (code === CLOSE_TRY_AGAIN) fail(new WsRuntimeError('PEER_BUSY', `${url} is busy: ${reason.toString()}`));
      else fail(new WsRuntimeError('CONNECT_FAILED', `${url} closed before the welcome (code ${code})`));
    };
    socket.on('message', onFrame);
    socket.on('close', onClose);
  });
}
