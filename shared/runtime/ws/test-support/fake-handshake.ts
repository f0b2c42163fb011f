/**
 * The server's half of the handshake (handshake.ts) for a test's own websocket server: answers
 * one hello as `self`, proving `key` (or a wrong one, or another protocol, as the test asks), and
 * welcomes whatever proof comes back. For tests of the client side and of links to odd peers.
 */
import type { WebSocket } from 'ws';
import { decodeFrame, encodeFrame } from '../../../wire/codec.ts';
import { type CredentialKind, WIRE_PROTOCOL_VERSION } from '../../../wire/frames.ts';
import type { Role } from '../../../protocol/roles.ts';
import { type KeyText, newSecret, proofOf } from '../credentials.ts';
import { payloadBytes } from '../handshake.ts';

export interface FakeServer {
  identity: string;
  role: Role;
  key: KeyText;
  credential?: CredentialKind;
  /** Default: this end's. */
  protocol?: number;
}

/** Run the server's half on `socket`; `welcomed` runs once the welcome is sent (the socket then carries batches). */
export function serveHandshake(socket: WebSocket, self: FakeServer, welcomed: () => void = () => {}): void {
  socket.once('message', (data) => {
    const decoded = decodeFrame(payloadBytes(data));
    if (!decoded.ok || decoded.frame.kind !== 'hello') throw new Error(`fake server: want a hello, got ${JSON.stringify(decoded)}`);
    const hello = decoded.frame;
    const credential = self.credential ?? 'link';
    const nonce = newSecret();
    const protocol = self.protocol ?? WIRE_PROTOCOL_VERSION;
    const transcript = {
      protocol: WIRE_PROTOCOL_VERSION,
      credential,
      client: { role: hello.role, identity: hello.identity, nonce: hello.nonce },
      server: { role: self.role, identity: self.identity, nonce },
    };
    const proof = proofOf(self.key, 'server', transcript);
    socket.send(encodeFrame({ kind: 'challenge', protocol, role: self.role, identity: self.identity, credential, nonce, proof }));
    socket.once('message', () => {
      socket.send(encodeFrame({ kind: 'welcome', issued: '' }));
      welcomed();
    });
  });
}
