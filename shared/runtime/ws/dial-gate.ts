/**
 * Paces the handshakes that the nodes of one worker (or process) open to one peer at once.
 *
 * A server turns away sockets past its bound on pending handshakes (limits.ts maxUnauthenticated,
 * close 1013) and the dialer tries again after a pause (dial.ts). That is right for strangers, but
 * a worker of 250 guests opening its links to the hypervisor and the GIC all at once had most of
 * them turned away: 2,533 refusals while 1,000 guests came up, each a TCP connection, an HTTP
 * upgrade and a close for nothing, then a pause. Waiting here for a free place costs neither.
 * Only the handshake holds a place; a pause between attempts does not.
 */
export class DialGate {
  private readonly byUrl = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(private readonly handshakesPerPeer: number) {
    if (!Number.isInteger(handshakesPerPeer) || handshakesPerPeer < 1) throw new Error(`bug: a dial gate of ${handshakesPerPeer} handshakes`);
  }

  /** Run `handshake` once fewer than the bound of this gate's handshakes to `url` are under way. */
  async through<T>(url: string, handshake: () => Promise<T>): Promise<T> {
    await this.enter(url);
    try {
      return await handshake();
    } finally {
      this.leave(url);
    }
  }

  /** Handshakes to `url` under way, and waiting (tests). */
  load(url: string): { active: number; waiting: number } {
    const peer = this.byUrl.get(url);
    return { active: peer?.active ?? 0, waiting: peer?.waiting.length ?? 0 };
  }

  private enter(url: string): Promise<void> {
    let peer = this.byUrl.get(url);
    if (!peer) this.byUrl.set(url, (peer = { active: 0, waiting: [] }));
    if (peer.active < this.handshakesPerPeer) {
      peer.active++;
      return Promise.resolve();
    }
    const queue = peer.waiting;
    return new Promise((resolve) => queue.push(resolve));
  }

  /** The place passes straight to the next in line, if any; the last one out forgets the peer. */
  private leave(url: string): void {
    const peer = this.byUrl.get(url);
    if (!peer) throw new Error(`bug: left a dial gate for ${url} never entered`);
    const next = peer.waiting.shift();
    if (next) return next();
    peer.active--;
    if (peer.active === 0) this.byUrl.delete(url);
  }
}
