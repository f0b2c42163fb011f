/**
 * The frames of the ws runtime (docs/design.md §4): the component messages of
 * shared/protocol/messages.ts, plus the four wire-only frames of the handshake that opens every
 * link (hello, challenge, proof, welcome; shared/runtime/ws/handshake.ts). Each of those is one
 * websocket message; after the welcome, every websocket message is a batch of frames (batch.ts).
 * No handshake frame ever reaches a component.
 */
import type { Role } from '../protocol/roles.ts';
import type { Message } from '../protocol/messages.ts';

/**
 * Bumped whenever a frame's keys, the structure table's order, a field's meaning or the framing
 * changes: the two ends of a link must agree on the table byte for byte. 1: one frame per
 * websocket message; 2: a batch of frames per message (batch.ts); 3: the hello carries no secret,
 * the two ends prove a shared key to each other (challenge, proof; docs/threat-model.md); 4: calls
 * and returns carry buffer memory (`memory`, shared/ffa/buffer-content.ts).
 */
export const WIRE_PROTOCOL_VERSION = 4;

/**
 * The first frame a client sends: who it claims to be, and a fresh nonce for the server's proof.
 * No secret: a peer proves itself only by its proof (HMAC over both nonces). Its keys keep the
 * count and order of wire protocol 2's hello, so a peer of either protocol reads the other's hello
 * far enough to refuse it by its version.
 */
export interface HelloFrame {
  kind: 'hello';
  protocol: number;
  role: Role;
  /** The component's name in the world; the link carries this name from then on. */
  identity: string;
  nonce: string;
}

/**
 * Which key a link is proven with: `link`, the key the two ends share (a per-link key, or a guest's
 * own key issued at enrollment); `enroll`, the guests' enrollment credential, which only binds a
 * name not bound yet (docs/threat-model.md).
 */
export const CREDENTIAL_KINDS = ['link', 'enroll'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

/** The server's answer to an admissible hello: who it is, its nonce, and its proof that it holds the key. */
export interface ChallengeFrame {
  kind: 'challenge';
  protocol: number;
  role: Role;
  identity: string;
  credential: CredentialKind;
  nonce: string;
  proof: string;
}

/** The client's proof that it holds the key, sent only once the server proved itself. */
export interface ProofFrame {
  kind: 'proof';
  proof: string;
}

/**
 * The server's answer to a valid proof: the link is up. `issued`: after an enrollment, the guest's
 * own key, sealed with a pad only the two ends can compute (credentials.ts sealIssued); '' otherwise.
 */
export interface WelcomeFrame {
  kind: 'welcome';
  issued: string;
}

export type HandshakeFrame = HelloFrame | ChallengeFrame | ProofFrame | WelcomeFrame;
export type WireFrame = Message | HandshakeFrame;
export type FrameKind = WireFrame['kind'];

const HANDSHAKE_KINDS: readonly string[] = ['hello', 'challenge', 'proof', 'welcome'] satisfies HandshakeFrame['kind'][];

export function isMessageFrame(frame: WireFrame): frame is Message {
  return !HANDSHAKE_KINDS.includes(frame.kind);
}
