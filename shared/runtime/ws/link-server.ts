/**
 * A component's websocket server: accepts connections, bounds how many may wait unauthenticated,
 * and runs the hello on each (handshake.ts). Welcomed sockets are handed on to become links.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { type AcceptList, admitInbound, closeReason, type LinkIdentity } from './handshake.ts';
import { CLOSE_TRY_AGAIN, type LinkLimits } from './limits.ts';

export interface LinkServerOptions {
  host: string;
  port: number;
  self: LinkIdentity;
  accept: AcceptList;
  limits: LinkLimits;
  log: Logger;
  onWelcomed(socket: WebSocket, peer: LinkIdentity): void;
}

export class LinkServer {
  private unauthenticated = 0;

  private constructor(
    private readonly server: WebSocketServer,
    private readonly options: LinkServerOptions,
    readonly url: string,
  ) {
    server.on('connection', (socket, request) => this.onConnection(socket, `${request.socket.remoteAddress}:${request.socket.remotePort}`));
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

  private onConnection(socket: WebSocket, remote: string): void {
    // An 'error' without a listener would throw; ws also emits one before closing with 1009.
    socket.on('error', (error) => this.options.log.debug({ remote, err: error.message }, 'inbound socket error'));
    if (this.unauthenticated >= this.options.limits.maxUnauthenticated) {
      this.options.log.warn({ remote, waiting: this.unauthenticated }, 'link refused: too many connections waiting for hello');
      // Not a refusal of this peer: a bound on this server's pending hellos. 1013 tells the dialer to retry.
      socket.close(CLOSE_TRY_AGAIN, closeReason('PEER_BUSY: too many connections waiting for hello'));
      return;
    }
    this.unauthenticated++;
    admitInbound(socket, {
      self: this.options.self,
      accept: this.options.accept,
      helloTimeoutMs: this.options.limits.helloTimeoutMs,
      log: this.options.log,
      remote,
      onWelcomed: this.options.onWelcomed,
      onSettled: () => this.unauthenticated--,
    });
  }
}
