/**
 * The hello that opens every link (docs/design.md §4). The client sends hello {protocol, role,
 * identity, token}; the server checks the protocol version, the role, and the token it expects
 * from that identity, then answers welcome. Anything else (a wrong or missing token, a text
 * frame, any frame before a valid hello, silence past the hello timeout) is refused: logged, and
 * the socket closed with 1008. A refused peer never gets a link, not even a half-open one: the
 * socket is handed on (onWelcomed) only after the welcome.
 */
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { decodeFrame, encodeFrame } from '../../wire/codec.ts';
import { type HelloFrame, WIRE_PROTOCOL_VERSION, type WelcomeFrame } from '../../wire/frames.ts';
import type { Role } from '../../protocol/roles.ts';
import { WsRuntimeError } from './errors.ts';
import { CLOSE_POLICY, CLOSE_TRY_AGAIN, type LinkLimits } from './limits.ts';
import { tokensMatch } from './tokens.ts';

/** Who is at one end of a link. */
export interface LinkIdentity {
  identity: string;
  role: Role;
}

/** A peer allowed to open a link to this component: the token it must present, and its role if known. */
export interface AcceptedPeer {
  token: string;
  role?: Role;
}

/**
 * Keyed by identity; a key `*:<role>` (anyRole) admits any identity not named in the list that
 * presents that role and that token: guests that register themselves (docker compose replicas),
 * whose names are not known in advance.
 */
export type AcceptList = ReadonlyMap<string, AcceptedPeer>;

export function anyRole(role: Role): string {
  return `*:${role}`;
}

/** Whom an accept list expects behind a hello: the identity's own entry, else its role's. */
function expectedPeer(accept: AcceptList, identity: string, role: Role): AcceptedPeer | undefined {
  if (identity.startsWith('*')) return undefined;
  const own = accept.get(identity);
  if (own) return own;
  const byRole = accept.get(anyRole(role));
  return byRole ? { ...byRole, role } : undefined;
}

export type HelloVerdict =
  | { ok: true; peer: LinkIdentity }
  | { ok: false; code: 'HELLO_REQUIRED' | 'HELLO_REFUSED'; reason: string };

/** Turn ws's message payload into one buffer (ws may hand over fragments as a list). */
export function payloadBytes(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** The server's decision on the first frame of a connection. Pure, so it is tested directly. */
export function judgeHello(data: WebSocket.RawData, isBinary: boolean, accept: AcceptList): HelloVerdict {
  if (!isBinary) return { ok: false, code: 'HELLO_REQUIRED', reason: 'text frame before hello' };
  const decoded = decodeFrame(payloadBytes(data));
  if (!decoded.ok) {
    // A hello with a bad field (an unknown role, a missing token) is a refused hello; anything else is not one.
    const code = decoded.reason.startsWith('hello.') ? 'HELLO_REFUSED' : 'HELLO_REQUIRED';
    return { ok: false, code, reason: `first frame ${decoded.code}: ${decoded.reason}` };
  }
  const hello = decoded.frame;
  if (hello.kind !== 'hello') return { ok: false, code: 'HELLO_REQUIRED', reason: `${hello.kind} frame before hello` };
  if (hello.protocol !== WIRE_PROTOCOL_VERSION) {
    return { ok: false, code: 'HELLO_REFUSED', reason: `wire protocol ${hello.protocol}, this end speaks ${WIRE_PROTOCOL_VERSION}` };
  }
  const expected = expectedPeer(accept, hello.identity, hello.role);
  if (!expected || !tokensMatch(hello.token, expected.token)) {
    return { ok: false, code: 'HELLO_REFUSED', reason: `identity ${hello.identity}: not accepted, or wrong token` };
  }
  if (expected.role !== undefined && expected.role !== hello.role) {
    return { ok: false, code: 'HELLO_REFUSED', reason: `identity ${hello.identity} presented role ${hello.role}, want ${expected.role}` };
  }
  return { ok: true, peer: { identity: hello.identity, role: hello.role } };
}

/** A close reason fits in 123 bytes of UTF-8 (RFC 6455 §5.5); ws throws on longer ones. */
export function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason, 'utf8') > 123) reason = reason.slice(0, -1);
  return reason;
}

export interface AdmitOptions {
  self: LinkIdentity;
  accept: AcceptList;
  helloTimeoutMs: number;
  log: Logger;
  /** Where the connection comes from, for the log. */
  remote: string;
  /** Called synchronously after the welcome is sent: the socket is now a link. */
  onWelcomed(socket: WebSocket, peer: LinkIdentity): void;
  /** Called once the socket is no longer unauthenticated (welcomed, refused or gone). */
  onSettled(): void;
}

/** Server side: wait (bounded) for the hello on a new connection, then welcome or refuse. */
export function admitInbound(socket: WebSocket, options: AdmitOptions): void {
  let settled = false;
  const settle = (): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.off('message', onFirstFrame);
    socket.off('close', settle);
    options.onSettled();
  };
  const refuse = (code: string, reason: string): void => {
    settle();
    options.log.warn({ remote: options.remote, code, reason }, 'link refused');
    socket.close(CLOSE_POLICY, closeReason(`${code}: ${reason}`));
  };
  const onFirstFrame = (data: WebSocket.RawData, isBinary: boolean): void => {
    const verdict = judgeHello(data, isBinary, options.accept);
    if (!verdict.ok) {
      refuse(verdict.code, verdict.reason);
      return;
    }
    settle();
    const welcome: WelcomeFrame = { kind: 'welcome', protocol: WIRE_PROTOCOL_VERSION, ...options.self };
    socket.send(encodeFrame(welcome));
    options.log.info({ peer: verdict.peer.identity, role: verdict.peer.role }, 'link welcomed');
    options.onWelcomed(socket, verdict.peer);
  };
  const timer = setTimeout(() => refuse('HELLO_REQUIRED', `no hello within ${options.helloTimeoutMs} ms`), options.helloTimeoutMs);
  socket.on('message', onFirstFrame);
  socket.on('close', settle);
}

export interface GreetOptions {
  self: LinkIdentity & { token: string };
  /** The name the server must answer with. */
  expect: string;
  limits: LinkLimits;
  log: Logger;
  /** Called synchronously when the welcome arrives: the socket is now a link. */
  onWelcomed(socket: WebSocket, peer: LinkIdentity): void;
}

/** Client side: one attempt to open a link to `url`: connect, hello, wait (bounded) for the welcome. */
export function greetServer(url: string, options: GreetOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: options.limits.maxPayloadBytes,
      handshakeTimeout: options.limits.helloTimeoutMs,
    });
    let settled = false;
    const fail = (error: WsRuntimeError, closeCode?: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('message', onWelcome);
      socket.off('close', onClose);
      if (closeCode !== undefined) socket.close(closeCode, closeReason(error.message));
      else socket.terminate();
      reject(error);
    };
    const onWelcome = (data: WebSocket.RawData, isBinary: boolean): void => {
      const decoded = isBinary ? decodeFrame(payloadBytes(data)) : undefined;
      const welcome = decoded?.ok ? decoded.frame : undefined;
      if (welcome?.kind === 'welcome' && welcome.protocol !== WIRE_PROTOCOL_VERSION) {
        fail(new WsRuntimeError('BAD_WELCOME', `${url} speaks wire protocol ${welcome.protocol}, this end speaks ${WIRE_PROTOCOL_VERSION}`), CLOSE_POLICY);
        return;
      }
      if (welcome?.kind !== 'welcome' || welcome.identity !== options.expect) {
        const what = welcome ? `${welcome.kind} from ${'identity' in welcome ? welcome.identity : '?'}` : 'an invalid frame';
        fail(new WsRuntimeError('BAD_WELCOME', `${url} answered the hello with ${what}, want a welcome from ${options.expect}`), CLOSE_POLICY);
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.off('message', onWelcome);
      socket.off('close', onClose);
      options.onWelcomed(socket, { identity: welcome.identity, role: welcome.role });
      resolve();
    };
    const timer = setTimeout(
      () => fail(new WsRuntimeError('HELLO_TIMEOUT', `no welcome from ${url} within ${options.limits.helloTimeoutMs} ms`)),
      options.limits.helloTimeoutMs,
    );
    socket.on('error', (error) => options.log.debug({ url, err: error.message }, 'link socket error'));
    socket.on('open', () => {
      const hello: HelloFrame = { kind: 'hello', protocol: WIRE_PROTOCOL_VERSION, ...options.self };
      socket.send(encodeFrame(hello));
    });
    const onClose = (code: number, reason: Buffer): void => {
      if (code === CLOSE_POLICY) fail(new WsRuntimeError('HELLO_REFUSED', `${url} refused the hello: ${reason.toString()}`));
      else if (code === CLOSE_TRY_AGAIN) fail(new WsRuntimeError('PEER_BUSY', `${url} is busy: ${reason.toString()}`));
      else fail(new WsRuntimeError('CONNECT_FAILED', `${url} closed before the welcome (code ${code})`));
    };
    socket.on('message', onWelcome);
    socket.on('close', onClose);
  });
}
