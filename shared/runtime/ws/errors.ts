/** Infrastructure errors of the ws runtime: one class, a stable code per kind. */
export type WsErrorCode =
  | 'CONNECT_FAILED'
  | 'HELLO_REFUSED'
  /** The peer had too many links waiting for their hello: try again (dial.ts does). */
  | 'PEER_BUSY'
  | 'HELLO_TIMEOUT'
  | 'BAD_WELCOME'
  /** The server asked for a key this component does not hold (final: retrying cannot help). */
  | 'NO_CREDENTIAL'
  /** The server's proof was wrong: it is not the peer dialled, and nothing was sent to it. */
  | 'SERVER_UNPROVEN'
  | 'PEERS_MISSING'
  | 'STARTUP_FAILED'
  | 'STARTUP_TIMEOUT'
  | 'BAD_WORLD';

export class WsRuntimeError extends Error {
  constructor(
    readonly code: WsErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'WsRuntimeError';
  }
}
