/**
 * The frames of the ws runtime (docs/design.md §4): the component messages of
 * shared/protocol/messages.ts, plus the two wire-only frames of the hello exchange that opens every
 * link. The hello and the welcome are each one websocket message; after them, every websocket
 * message is a batch of frames (batch.ts). The hello never reaches a component.
 */
import type { Role } from '../protocol/roles.ts';
import type { Message } from '../protocol/messages.ts';

/**
 * Bumped whenever a frame's keys, the structure table's order, a field's meaning or the framing
 * changes: the two ends of a link must agree on the table byte for byte. 1: one frame per
 * websocket message; 2: a batch of frames per message (batch.ts); 3: calls and returns carry
 * buffer memory (`memory`, shared/ffa/buffer-content.ts).
 */
export const WIRE_PROTOCOL_VERSION = 3;

/** The first frame a client sends: who it is, and the token that proves it. */
export interface HelloFrame {
  kind: 'hello';
  protocol: number;
  role: Role;
  /** The component's name in the world; the link carries this name from then on. */
  identity: string;
  token: string;
}

/** The server's answer to an accepted hello: the link is up. */
export interface WelcomeFrame {
  kind: 'welcome';
  protocol: number;
  role: Role;
  identity: string;
}

export type WireFrame = Message | HelloFrame | WelcomeFrame;
export type FrameKind = WireFrame['kind'];

export function isMessageFrame(frame: WireFrame): frame is Message {
  return frame.kind !== 'hello' && frame.kind !== 'welcome';
}
