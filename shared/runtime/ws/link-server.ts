/**
 * A component's websocket server: accepts connections, bounds how many may wait unauthenticated
 * (in all, and per source address), and runs the handshake on each (handshake.ts). Welcomed
 * sockets are handed on to become links. It keeps the guest names bound here (enrollments.ts).
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { CredentialKind } from '../../wire/frames.ts';
import type { KeyText } from './credentials.ts';
import { Enrollments } from './enrollments.ts';
import { admitInbound, closeReason, type LinkIdentity } from './handshake.ts';
import type { Keyring } from './keyring.ts';
import { CLOSE_TRY_AGAIN, type LinkLimits } from './limits.ts';

export interface LinkServerOptions {
  host: string;
  port: number;
  self: LinkIdentity;
  keyring: Keyring;
  limits: LinkLimits;
  log: Logger;
  admit(peer: LinkIdentity, credential: CredentialKind, key: KeyText): string | null;
  onWelcomed(socket: WebSocket, peer: LinkIdentity): void;
}

export class LinkServer {
  private unauthenticated = 0;
  private readonly unauthenticatedFrom = new Map<string, number>();
  readonly enrollments: Enrollments;

  private constructor(
    private readonly server: WebSocketServer,
    private readonly options: LinkServerOptions,
    readonly url: string,
  ) {
    this.enrollments = new Enrollments(options.limits);
    server.on('connection', (socket, request) => this.onConnection(socket, { address: request.socket.remoteAddress ?? 'unknown', port: request.socket.remotePort ?? 0 }));
  }

  static listen(options: LinkServerOptions): Promise<LinkServer> {
    return new Promise((resolve, reject) => {
      const server = new WebSocketServer({
        host: options.host,
        port: options.port,
        perMessageDeflate: false,
        maxPayload: options.limits.maxPayloadBytes,
        clientTracking: true,
      });
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        server.on('error', (error) => options.log.error({ err: error.message }, 'link server error'));
        const address = server.address() as AddressInfo;
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve(new LinkServer(server, options, `ws://${host}:${address.port}`));
      });
    });
  }

  /** Stop listening and drop every socket still open (links are closed by their owner first). */
  close(): Promise<void> {
    for (const socket of this.server.clients) socket.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Why a new connection from `address` must wait, or null: the bounds on sockets still in their handshake. */
  private busy(address: string): string | null {
    const { maxUnauthenticated, maxUnauthenticatedPerAddress } = this.options.limits;
    if (this.unauthenticated >= maxUnauthenticated) return `${this.unauthenticated} connections waiting for their handshake (maxUnauthenticated)`;
    const fromAddress = this.unauthenticatedFrom.get(address) ?? 0;
    if (fromAddress >= maxUnauthenticatedPerAddress) return `${fromAddress} connections from ${address} waiting for their handshake (maxUnauthenticatedPerAddress)`;
    return null;
  }

  private onConnection(socket: WebSocket, remote: { address: string; port: number }): void {
    // An 'error' without a listener would throw; ws also emits one before closing with 1009.
    socket.on('error', (error) => this.options.log.debug({ remote: remote.address, err: error.message }, 'inbound socket error'));
    const busy = this.busy(remote.address);
    if (busy !== null) {
      this.options.log.warn({ remote: `${remote.address}:${remote.port}`, reason: busy }, 'link refused: too many connections waiting for their handshake');
      // Not a refusal of this peer: a bound on this server's pending handshakes. 1013 tells the dialer to retry.
      socket.close(CLOSE_TRY_AGAIN, closeReason(`PEER_BUSY: ${busy}`));
      return;
    }
    this.unauthenticated++;
    this.unauthenticatedFrom.set(remote.address, (this.unauthenticatedFrom.get(remote.address) ?? 0) + 1);
    admitInbound(socket, {
      self: this.options.self,
      keyring: this.options.keyring,
      enrollments: this.enrollments,
      helloTimeoutMs: this.options.limits.helloTimeoutMs,
      log: this.options.log,
      remote,
      admit: this.options.admit,
      onWelcomed: this.options.onWelcomed,
      onSettled: () => this.settled(remote.address),
    });
  }

  private settled(address: string): void {
    this.unauthenticated--;
    const left = (this.unauthenticatedFrom.get(address) ?? 1) - 1;
    if (left > 0) this.unauthenticatedFrom.set(address, left);
    else this.unauthenticatedFrom.delete(address);
  }
}
