/**
 * Runtime `sim` (docs/design.md §3): every component in one thread, an in-memory network, a
 * virtual clock and a seeded scheduler. The scheduler decides the order of events that are ready
 * at the same virtual time and draws each hop's latency jitter, so concurrent vCPUs and links
 * interleave differently per seed, while one seed always gives the same history, byte for byte.
 *
 * Links are FIFO per direction, like a websocket: a message never overtakes an earlier one on
 * the same directed link, except one held back by a `delay` fault (a fault may reorder).
 */
import pino, { type Logger } from 'pino';
import { type Clock, type ComponentFactory, isObservable, type ObservedEvent, type RandomSource, type TimerHandle, type WorldControl } from '../component.ts';
import { ComponentHost, type HostLimits, type TransmitRefusal } from '../component-host.ts';
import type { HistoryEvent, HistorySink } from '../history.ts';
import { type FaultRule, RuleInterceptor } from '../interceptor.ts';
import type { Envelope } from '../../protocol/messages.ts';
import { randomStream, randomStreams } from '../random.ts';
import { EventQueue } from './event-queue.ts';
import { ProcessorQueues, type ServiceTimeModel } from '../service-time.ts';

/** One hop's virtual latency: `baseNs` plus a uniform draw in [0, jitterNs]. */
export interface HopLatency {
  baseNs: number;
  jitterNs: number;
}

export interface SimComponent<Config = unknown> {
  name: string;
  factory: ComponentFactory<Config>;
  config: Config;
}

export interface SimOptions {
  seed: number;
  components: SimComponent[];
  /** [a, b]: a message may travel a→b and b→a. */
  links: [string, string][];
  history: HistorySink;
  /** Latency per directed hop "from→to"; absent hops use `defaultLatency`. */
  latency?: Map<string, HopLatency>;
  defaultLatency?: HopLatency;
  faults?: FaultRule[];
  log?: Logger;
  limits?: Partial<HostLimits>;
  /** The component that gets `ctx.world` and observes the others' history (WorldSpec.orchestrator). */
  orchestrator?: string;
  /** Handlers occupy their processor for a service time (service-time.ts); absent: handling takes no time. */
  serviceTimes?: ServiceTimeModel;
}

export interface SimRunLimits {
  /** Stop once virtual time would pass this (ns). */
  untilNs?: number;
  /** Stop after this many events (a bound on every run). */
  maxEvents?: number;
}

export interface SimRunResult {
  events: number;
  messagesDelivered: number;
  virtualNs: number;
  /** Why the run ended: nothing left to do, or a bound was hit. */
  ended: 'idle' | 'until' | 'max-events';
}

const DEFAULT_LATENCY: HopLatency = { baseNs: 10_000, jitterNs: 5_000 };
const DEFAULT_MAX_EVENTS = 50_000_000;

export class SimWorld {
  readonly clock: Clock;
  private nowNs = 0;
  private seq = 0;
  private messagesDelivered = 0;
  private readonly queue = new EventQueue();
  private readonly scheduler: RandomSource;
  private readonly hosts = new Map<string, ComponentHost>();
  private readonly linked = new Set<string>();
  /** Last delivery time per directed link, for FIFO order. */
  private readonly lastDeliveryNs = new Map<string, number>();
  private readonly latency: Map<string, HopLatency>;
  private readonly defaultLatency: HopLatency;
  private readonly history: HistorySink;
  private readonly interceptors: RuleInterceptor[] = [];
  /** Observed events waiting for the orchestrator's next turn (one queue event drains them). */
  private observed: ObservedEvent[] = [];
  readonly processors = new ProcessorQueues();
  /** While a handler with a service time runs: when it ends, so what it sends leaves then. */
  private handlerEndNs = 0;

  constructor(private readonly options: SimOptions) {
    this.clock = { nowNs: () => this.nowNs };
    this.history = options.history;
    this.latency = options.latency ?? new Map();
    this.defaultLatency = options.defaultLatency ?? DEFAULT_LATENCY;
    this.scheduler = randomStream(options.seed, '@scheduler');
    for (const [a, b] of options.links) {
      this.linked.add(`${a}→${b}`);
      this.linked.add(`${b}→${a}`);
    }
    this.createHosts();
  }

  /** Start every component (in name order, as event 0 of the run). */
  start(): void {
    for (const spec of this.options.components) {
      this.requireHost(spec.name).start(spec.factory, spec.config);
    }
  }

  /** Process events until idle or a bound is hit. */
  run(limits: SimRunLimits = {}): SimRunResult {
    const maxEvents = limits.maxEvents ?? DEFAULT_MAX_EVENTS;
    let events = 0;
    let ended: SimRunResult['ended'] = 'idle';
    for (;;) {
      const next = this.queue.peekTime();
      if (next === undefined) break;
      if (limits.untilNs !== undefined && next > limits.untilNs) {
        this.nowNs = limits.untilNs;
        ended = 'until';
        break;
      }
      if (events >= maxEvents) {
        ended = 'max-events';
        break;
      }
      const event = this.queue.pop();
      if (!event) break;
      this.nowNs = event.timeNs;
      event.fire();
      events++;
    }
    return { events, messagesDelivered: this.messagesDelivered, virtualNs: this.nowNs, ended };
  }

  /** Stop every component cleanly. */
  stop(): void {
    for (const host of this.hosts.values()) host.stop('world stopped');
  }

  host(name: string): ComponentHost | undefined {
    return this.hosts.get(name);
  }

  get virtualNowNs(): number {
    return this.nowNs;
  }

  private createHosts(): void {
    const names = this.options.components.map((c) => c.name);
    if (new Set(names).size !== names.length) throw new Error(`duplicate component names: ${names.join(', ')}`);
    const streams = randomStreams(this.options.seed, names);
    const faultStreams = randomStreams(this.options.seed, names.map((n) => `@faults:${n}`));
    const log = this.options.log ?? pino({ level: 'silent' });
    const world = this.worldControl();
    for (const name of names) {
      const interceptor = new RuleInterceptor(this.options.faults ?? [], this.requireStream(faultStreams, `@faults:${name}`));
      this.interceptors.push(interceptor);
      const host = new ComponentHost({
        name,
        transport: {
          clock: this.clock,
          transmit: (envelope, delayNs) => this.transmit(envelope, delayNs),
          schedule: (delayNs, onFire) => this.schedule(delayNs, onFire),
          cancel: (handle) => this.queue.cancel(handle),
          history: (event) => this.append(event),
        },
        random: this.requireStream(streams, name),
        log: log.child({ component: name }),
        interceptor,
        ...(this.options.limits ? { limits: this.options.limits } : {}),
        ...(name === this.options.orchestrator ? { world } : {}),
      });
      this.hosts.set(name, host);
    }
  }

  private transmit(envelope: Envelope, delayNs: number): TransmitRefusal | undefined {
    const link = `${envelope.from}→${envelope.to}`;
    const target = this.hosts.get(envelope.to);
    if (!target || !this.linked.has(link)) return 'unreachable';
    const hop = this.latency.get(link) ?? this.defaultLatency;
    const jitter = hop.jitterNs > 0 ? this.scheduler.intBelow(hop.jitterNs + 1) : 0;
    const stillHandling = Math.max(0, this.handlerEndNs - this.nowNs);
    let at = this.nowNs + stillHandling + hop.baseNs + jitter + delayNs;
    if (delayNs === 0) {
      // FIFO per directed link: strictly after the previous message on it.
      at = Math.max(at, (this.lastDeliveryNs.get(link) ?? -1) + 1);
      this.lastDeliveryNs.set(link, at);
    }
    this.options.serviceTimes?.noteSent(envelope);
    this.queue.push(at, this.scheduler.nextU32(), () => this.arrive(envelope, target));
    return undefined;
  }

  /** A message reached its component: handled now, or when its processor is free (service-time.ts). */
  private arrive(envelope: Envelope, target: ComponentHost): void {
    const slot = this.options.serviceTimes?.slotOf(envelope) ?? null;
    if (slot === null) return this.handle(envelope, target, this.nowNs);
    const { startNs, endNs } = this.processors.take(slot, this.nowNs);
    if (startNs === this.nowNs) return this.handle(envelope, target, endNs);
    this.queue.push(startNs, this.scheduler.nextU32(), () => this.handle(envelope, target, endNs));
  }

  private handle(envelope: Envelope, target: ComponentHost, endNs: number): void {
    this.messagesDelivered++;
    this.handlerEndNs = endNs;
    try {
      target.receive(envelope.from, envelope.message);
    } finally {
      this.handlerEndNs = 0;
    }
  }

  private schedule(delayNs: number, onFire: () => void): TimerHandle {
    if (!(delayNs >= 0)) throw new RangeError(`timer delay ${delayNs} ns must be >= 0`);
    return this.queue.push(this.nowNs + delayNs, this.scheduler.nextU32(), onFire);
  }

  private append(event: HistoryEvent): void {
    this.history.append({ seq: this.seq++, t: this.nowNs, event });
    const orchestrator = this.options.orchestrator;
    if (orchestrator !== undefined && isObservable(event, orchestrator)) this.observe({ t: this.nowNs, event });
  }

  /** The orchestrator sees the event at the same virtual time, after the handler that made it. */
  private observe(observed: ObservedEvent): void {
    if (this.observed.length === 0) {
      this.queue.push(this.nowNs, this.scheduler.nextU32(), () => {
        const events = this.observed;
        this.observed = [];
        this.hosts.get(this.options.orchestrator ?? '')?.observe(events);
      });
    }
    this.observed.push(observed);
  }

  private worldControl(): WorldControl {
    return {
      installFaults: (rules, done) => {
        for (const interceptor of this.interceptors) interceptor.add(rules);
        done?.();
      },
      removeFaults: (ids, done) => {
        for (const interceptor of this.interceptors) interceptor.remove(ids);
        done?.();
      },
      crash: (name, detail, done) => (this.requireHost(name).crash(detail), done?.()),
      restart: (name, detail, done) => (this.requireHost(name).restart(detail), done?.()),
      stall: (name, done) => (this.requireHost(name).stall(), done?.()),
      resume: (name, done) => (this.requireHost(name).resume(), done?.()),
    };
  }

  private requireHost(name: string): ComponentHost {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no component ${name}`);
    return host;
  }

  private requireStream(streams: Map<string, RandomSource>, name: string): RandomSource {
    const stream = streams.get(name);
    if (!stream) throw new Error(`no random stream for ${name}`);
    return stream;
  }
}
