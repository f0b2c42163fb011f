/**
 * A ws node: one component of the world with its own links. It is a ComponentHost (the one
 * ComponentContext) driven by a WsTransport, a link server on which peers open links to it, and
 * the links it opens itself (WorldSpec.links [a, b]: a opens to b; a link carries both ways).
 *
 * Life: create (listen) → connect (open own links) and waitForInbound (peers' links) → start →
 * stop. Messages that arrive before start are kept (bounded) and delivered right after it, so a
 * peer that starts first loses nothing. A link that closes is forgotten: sends to that peer are
 * then 'unreachable'; the node carries on.
 */
import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Clock, ComponentFactory, ComponentSpec, RandomSource, WorldControl } from '../component.ts';
import { ComponentHost, type HostLimits } from '../component-host.ts';
import type { HistoryEvent } from '../history.ts';
import { type FaultRule, RuleInterceptor } from '../interceptor.ts';
import { importComponentFactory } from '../component-modules.ts';
import type { Message, SentMessage } from '../../protocol/messages.ts';
import { randomStreams } from '../random.ts';
import { dial } from './dial.ts';
import type { DialGate } from './dial-gate.ts';
import { WsRuntimeError } from './errors.ts';
import type { CredentialKind } from '../../wire/frames.ts';
import type { Credentials, KeyText } from './credentials.ts';
import type { LinkIdentity } from './handshake.ts';
import { Keyring } from './keyring.ts';
import { CLOSE_GOING_AWAY, CLOSE_REPLACED, type LinkLimits, linkLimits } from './limits.ts';
import { Link } from './link.ts';
import { hostClockSource, LinkClocks, type NodeClockSource, type PeerClock } from './link-clocks.ts';
import { LinkServer } from './link-server.ts';
import { type BacklogLimits, isWorldControl, WorldChannelServer } from './world-channel.ts';
import { WsTransport } from './ws-transport.ts';

/** A peer this node opens a link to (the key it proves comes from the node's credentials). */
export interface PeerAddress {
  name: string;
  url: string;
}

export interface WsNodeOptions {
  component: ComponentSpec;
  /** The run's seed and every component name of the world: they fix this component's random streams. */
  seed: number;
  worldNames: readonly string[];
  /**
   * This component's streams, when the caller made them already (worldStreams): a worker running
   * many components makes every stream of the world once, rather than each node doing it for
   * itself (quadratic in the components: most of a 1,000-guest worker's start-up).
   */
  streams?: ComponentStreams;
  /** The keys of this component's links, and who may open links to it (credentials.ts). */
  credentials: Credentials;
  clock: Clock;
  /** Every history event of this component, with its time. */
  history(t: number, event: HistoryEvent): void;
  log: Logger;
  faults?: readonly FaultRule[];
  hostLimits?: Partial<HostLimits>;
  linkLimits?: Partial<LinkLimits>;
  /** Where to listen; default 127.0.0.1 on a port the system picks. */
  listen?: { host: string; port: number };
  /** The orchestrator's powers (its requests go to the supervisor, which tells every node). */
  world?: WorldControl;
  /**
   * Serve the world channel (world-channel.ts) to orchestrators that attach over a link: for
   * components run as separate processes or containers, with no supervisor. `baseNs` is the
   * clock's base (process.hrtime.bigint() at its start).
   */
  worldChannel?: { baseNs: bigint; backlog?: BacklogLimits };
  /**
   * Sees every arriving message first; true: consumed, the component never sees it (the attach
   * runner's orchestrator node takes its world channel answers this way).
   */
  intercept?(from: string, message: Message): boolean;
  /**
   * Estimate each linked peer's clock (link-clocks.ts): for nodes that may run on other machines
   * than their orchestrator (separate processes, containers). `source` is the clock the probes
   * read (default the host's; a test skews it). A node answers its peers' probes in any case.
   */
  linkClocks?: { probe: boolean; source?: NodeClockSource };
  /** Shared by the nodes of one worker: their handshakes to one peer, paced (dial-gate.ts). */
  dialGate?: DialGate;
}

type Waiter = { names: readonly string[]; resolve: () => void };

/** A component's random stream and its fault stream. */
export interface ComponentStreams {
  random: RandomSource;
  faults: RandomSource;
}

/** Every component's streams: the same as under sim (sim-world.ts), one per name and one fault stream per name. */
export function worldStreams(seed: number, worldNames: readonly string[]): { of(name: string): ComponentStreams } {
  const random = randomStreams(seed, worldNames);
  const faults = randomStreams(seed, worldNames.map((n) => `@faults:${n}`));
  return {
    of(name) {
      const own = random.get(name);
      const ownFaults = faults.get(`@faults:${name}`);
      if (!own || !ownFaults) throw new Error(`no random stream for ${name}`);
      return { random: own, faults: ownFaults };
    },
  };
}

export class WsNode {
  readonly name: string;
  readonly host: ComponentHost;
  private readonly transport: WsTransport;
  private readonly worldServer: WorldChannelServer | null = null;
  private readonly interceptor: RuleInterceptor;
  private readonly links = new Map<string, Link>();
  private readonly clocks: LinkClocks;
  /** Peers whose link this node opened: an inbound claim to such a name is never taken. */
  private readonly dialled = new Set<string>();
  /** The key each inbound peer proved (an enrolled guest's: the one issued), for the bound on links per credential. */
  private readonly provenKeys = new Map<string, KeyText>();
  /** provenKeys the other way round: the names each key was proven for (admission looks one key up, not every link). */
  private readonly namesByKey = new Map<KeyText, Set<string>>();
  private readonly keyring: Keyring;
  private readonly limits: LinkLimits;
  private readonly log: Logger;
  private readonly early: { from: string; message: Message }[] = [];
  private readonly inboundWaiters = new Set<Waiter>();
  private server: LinkServer | undefined;
  private state: 'created' | 'started' | 'stopped' = 'created';

  private constructor(
    private readonly options: WsNodeOptions,
    private readonly factory: ComponentFactory,
  ) {
    const { component, seed, worldNames } = options;
    this.name = component.name;
    this.limits = linkLimits(options.linkLimits);
    this.keyring = new Keyring(options.credentials);
    this.log = options.log;
    if (!worldNames.includes(this.name)) throw new WsRuntimeError('BAD_WORLD', `${this.name} is not among the world's names`);
    const { random, faults: faultRandom } = options.streams ?? worldStreams(seed, worldNames).of(this.name);
    const history = (t: number, event: HistoryEvent): void => {
      options.history(t, event);
      this.worldServer?.record(t, event);
    };
    this.transport = new WsTransport({
      clock: options.clock,
      linkTo: (name) => this.links.get(name),
      history: (event) => history(options.clock.nowNs(), event),
      heldFrames: this.limits.heldFrames,
      log: this.log,
    });
    this.host = new ComponentHost({
      name: this.name,
      transport: this.transport,
      random,
      log: this.log,
      interceptor: (this.interceptor = new RuleInterceptor(options.faults ?? [], faultRandom)),
      ...(options.hostLimits ? { limits: options.hostLimits } : {}),
      ...(options.world ? { world: options.world } : {}),
    });
    this.clocks = new LinkClocks({
      source: options.linkClocks?.source ?? hostClockSource(),
      probe: options.linkClocks?.probe === true,
      send: (to, message) => this.sendDirect(to, message),
      log: this.log,
    });
    if (options.worldChannel) {
      this.worldServer = new WorldChannelServer({
        name: this.name,
        baseNs: options.worldChannel.baseNs,
        host: this.host,
        send: (to, message) => this.sendDirect(to, message),
        changeFaults: (install, remove) => this.changeFaults(install, remove),
        log: this.log,
        ...(options.worldChannel.backlog ? { backlog: options.worldChannel.backlog } : {}),
      });
    }
  }

  /** Send on the link to `to`, past the component and its interception point (the world channel's frames). */
  sendDirect(to: string, message: SentMessage): ReturnType<Link['send']> | 'no-link' {
    const link = this.links.get(to);
    return link ? link.send(message) : 'no-link';
  }

  /** Fault rules installed or removed while the world runs (the orchestrator's, via the supervisor). */
  changeFaults(install: readonly FaultRule[], remove: readonly string[]): void {
    this.interceptor.remove(remove);
    this.interceptor.add(install);
  }

  /** Load the component's module and start listening. */
  static async create(options: WsNodeOptions): Promise<WsNode> {
    const node = new WsNode(options, await importComponentFactory(options.component.module));
    await node.listen();
    return node;
  }

  /** The URL peers open links to. */
  get url(): string {
    if (!this.server) throw new Error(`${this.name} is not listening`);
    return this.server.url;
  }

  /** Names of the peers with an open link. */
  get linkedPeers(): string[] {
    return [...this.links.keys()];
  }

  link(name: string): Link | undefined {
    return this.links.get(name);
  }

  /** What this node's probes found of `peer`'s clock (null: not probed, or no answer yet). */
  peerClock(peer: string): PeerClock | null {
    return this.clocks.peerClock(peer);
  }

  /**
   * Where this node's own links come from: on loopback, the address it listens on (as a network
   * gives each host its own), so a peer's bounds per source address tell services apart. Not
   * 127.0.0.1, which the kernel picks for a loopback peer anyway: a socket bound to an address
   * before it connects takes a port of its own for that address, which the kernel searches the
   * whole port range for, while an unbound one shares ports across peers; bound, a world of a
   * thousand guests spent seconds of CPU in bind() and ran the range near its end.
   */
  private get localAddress(): string | undefined {
    const host = this.options.listen?.host;
    return host !== undefined && isIPv4(host) && host.startsWith('127.') && host !== '127.0.0.1' ? host : undefined;
  }

  /** The server's guest names bound here (enrollments.ts), for the log and tests. */
  get enrolledGuests(): number {
    return this.server?.enrollments.count ?? 0;
  }

  /** Open this component's links (bounded by `deadlineMs`, with retries while a peer is not up). */
  async connect(peers: readonly PeerAddress[], deadlineMs: number): Promise<void> {
    await Promise.all(peers.map((peer) => this.open(peer, deadlineMs)));
  }

  /** Open one link: the peer proves itself before this node proves anything (handshake.ts). */
  async open(peer: PeerAddress, deadlineMs: number): Promise<void> {
    this.dialled.add(peer.name);
    await dial(
      peer.url,
      {
        self: { identity: this.name, role: this.options.component.role },
        keyring: this.keyring,
        expect: peer.name,
        limits: this.limits,
        log: this.log,
        ...(this.localAddress === undefined ? {} : { localAddress: this.localAddress }),
        onWelcomed: (socket, identity) => this.adopt(socket, identity),
      },
      deadlineMs,
      this.options.dialGate,
    );
  }

  /** Wait (bounded) until each named peer has opened its link to this component. */
  waitForInbound(names: readonly string[], timeoutMs: number): Promise<void> {
    if (names.every((name) => this.links.has(name))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        names,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.inboundWaiters.delete(waiter);
        const missing = names.filter((name) => !this.links.has(name));
        reject(new WsRuntimeError('PEERS_MISSING', `${this.name}: no link from ${missing.join(', ')} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.inboundWaiters.add(waiter);
    });
  }

  /** Build and start the component (with `config`, when it was only known after linking), then deliver what arrived before. */
  start(config: unknown = this.options.component.config): void {
    if (this.state !== 'created') throw new Error(`${this.name} started twice`);
    this.state = 'started';
    this.host.start(this.factory, config);
    for (const { from, message } of this.early.splice(0)) this.host.receive(from, message);
  }

  /** Stop the component (onStop), close every link and the server. Bounded by the close grace. */
  async stop(detail: string): Promise<void> {
    if (this.state === 'stopped') return;
    const wasStarted = this.state === 'started';
    this.state = 'stopped';
    if (wasStarted) this.host.stop(detail);
    this.worldServer?.stop();
    this.clocks.stop();
    this.transport.dispose();
    await Promise.all([...this.links.values()].map((link) => link.close(CLOSE_GOING_AWAY, 'component stopping')));
    this.links.clear();
    await this.server?.close();
  }

  private async listen(): Promise<void> {
    const listen = this.options.listen ?? { host: '127.0.0.1', port: 0 };
    this.server = await LinkServer.listen({
      ...listen,
      self: { identity: this.name, role: this.options.component.role },
      keyring: this.keyring,
      limits: this.limits,
      log: this.log,
      admit: (peer, credential, key) => this.admission(peer, credential, key),
      onWelcomed: (socket, peer) => this.adopt(socket, peer),
    });
    this.log.info({ url: this.server.url }, 'listening');
  }

  /**
   * Whether an inbound peer that proved its claim may take its name here, or why not. A name
   * holds one link: never one this node opened itself, and never one held already unless the
   * newcomer proved that peer's own key (a reconnect of the same peer, which replaces it). One
   * key opens at most maxLinksPerCredential links under other names.
   */
  private admission(peer: LinkIdentity, credential: CredentialKind, key: KeyText): string | null {
    if (this.state === 'stopped') return `${this.name} is stopping`;
    if (this.dialled.has(peer.identity)) return `${this.name} opens the link to ${peer.identity} itself: no inbound link takes that name`;
    if (this.links.has(peer.identity) && credential !== 'link') return `${peer.identity} is linked already; only a reconnect that proves its own key replaces that link`;
    const sameKey = [...(this.namesByKey.get(key) ?? [])].filter((name) => name !== peer.identity && this.links.has(name));
    if (sameKey.length >= this.limits.maxLinksPerCredential) {
      return `the key ${peer.identity} proved holds ${sameKey.length} link(s) here already (${sameKey.join(', ')}), the most one credential may (maxLinksPerCredential)`;
    }
    this.forgetKey(peer.identity);
    this.provenKeys.set(peer.identity, key);
    const names = this.namesByKey.get(key) ?? new Set<string>();
    this.namesByKey.set(key, names.add(peer.identity));
    return null;
  }

  private forgetKey(name: string): void {
    const key = this.provenKeys.get(name);
    if (key === undefined) return;
    this.provenKeys.delete(name);
    const names = this.namesByKey.get(key);
    names?.delete(name);
    if (names?.size === 0) this.namesByKey.delete(key);
  }

  /** A welcomed socket becomes the link to that peer (a proven reconnect of the same peer replaces the older link). */
  private adopt(socket: WebSocket, peer: LinkIdentity): void {
    const name = peer.identity;
    if (this.state === 'stopped') {
      socket.terminate();
      return;
    }
    const link = new Link(socket, peer, this.limits, this.log.child({ peer: name }), {
      onMessage: (message) => this.arrive(name, message),
      onClose: (code, reason) => this.forget(link, code, reason),
    }, this.options.clock);
    const older = this.links.get(name);
    this.links.set(name, link);
    if (older) {
      this.log.warn({ peer: name }, 'a reconnect that proved the peer\'s key replaces its open link');
      void older.close(CLOSE_REPLACED, 'replaced by a newer link');
    }
    this.clocks.linked(name);
    for (const waiter of this.inboundWaiters) {
      if (waiter.names.every((n) => this.links.has(n))) {
        this.inboundWaiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  private forget(link: Link, code: number, reason: string): void {
    const name = link.peer.identity;
    if (this.links.get(name) !== link) return;
    this.links.delete(name);
    this.forgetKey(name);
    this.worldServer?.forget(name);
    this.clocks.unlinked(name);
    if (this.state === 'stopped') return;
    this.log.warn({ peer: name, code, reason }, 'link closed; sends to this peer are now unreachable');
    // A newer link from the same peer replaced this one: the peer is not lost.
    if (this.state === 'started' && code !== CLOSE_REPLACED) this.host.linkLost(name);
  }

  private arrive(from: string, message: Message): void {
    if (this.clocks.handle(from, message)) return;
    if (this.options.intercept?.(from, message)) return;
    if (this.worldServer && isWorldControl(message)) {
      this.worldServer.handle(from, this.links.get(from)?.peer.role ?? 'unknown', message);
      return;
    }
    if (this.state === 'started') {
      this.host.receive(from, message);
      return;
    }
    if (this.state === 'stopped') return;
    if (this.early.length < this.limits.earlyArrivals) {
      this.early.push({ from, message });
      return;
    }
    this.log.warn({ from, kind: message.kind }, 'dropped: too many messages before start');
    if (message.kind !== 'protocol-error') {
      const ref = message.kind === 'call' ? message.id : -1;
      this.links.get(from)?.send({ kind: 'protocol-error', code: 'QUEUE_FULL', reason: `${this.name} has not started yet`, ref });
    }
  }
}
