/**
 * The one implementation of ComponentContext, shared by both runtimes so a component behaves the
 * same under sim and ws. A runtime supplies a HostTransport (its clock, timers, network and
 * history); the host owns call correlation, the in-flight bound per vCPU, call timeouts, the
 * interception point for faults, and the history of everything the component sends and receives.
 */
import type { Logger } from 'pino';
import type {
  CallOutcome,
  CallRequest,
  Clock,
  Component,
  ComponentContext,
  ComponentFactory,
  RandomSource,
  RecordedEvent,
  TimerHandle,
  ObservedEvent,
  WorldControl,
} from './component.ts';
import type { HistoryEvent } from './history.ts';
import type { Interceptor } from './interceptor.ts';
import type { BufferWrite, CallMessage, Envelope, Message, RegisterFile } from '../protocol/messages.ts';

/**
 * Why a transport did not take an envelope. 'invalid-frame': the message failed the wire's
 * validation (a bug of the sender, logged by the runtime that found it; ws only).
 */
export type TransmitRefusal = 'unreachable' | 'queue-full' | 'invalid-frame';

export interface HostTransport {
  clock: Clock;
  /** Hand an envelope to the network after `delayNs` extra delay; undefined when taken. */
  transmit(envelope: Envelope, delayNs: number): TransmitRefusal | undefined;
  schedule(delayNs: number, onFire: () => void): TimerHandle;
  cancel(handle: TimerHandle): void;
  history(event: HistoryEvent): void;
}

export interface HostLimits {
  /** Calls in flight per (caller endpoint, vCPU) before `call` answers busy. */
  maxInFlightPerVcpu: number;
  /** Default bound on waiting for a return. */
  callTimeoutNs: number;
}

/** Bound on what waits for a stalled component (deliveries and timers). */
const STALLED_WORK_MAX = 100_000;

export const DEFAULT_HOST_LIMITS: HostLimits = {
  maxInFlightPerVcpu: 8,
  callTimeoutNs: 5_000_000_000,
};

interface PendingCall {
  to: string;
  vcpuKey: string;
  timer: TimerHandle;
  onReturn: (outcome: CallOutcome) => void;
}

export interface HostOptions {
  name: string;
  transport: HostTransport;
  random: RandomSource;
  log: Logger;
  interceptor: Interceptor;
  limits?: Partial<HostLimits>;
  /** The orchestrator's powers, for the world's orchestrator only. */
  world?: WorldControl;
}

export class ComponentHost implements ComponentContext {
  readonly name: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: Logger;
  readonly world?: WorldControl;
  private readonly transport: HostTransport;
  private readonly interceptor: Interceptor;
  private readonly limits: HostLimits;
  private readonly pending = new Map<number, PendingCall>();
  private readonly inFlightPerVcpu = new Map<string, number>();
  private nextCallId = 1;
  private component: Component | undefined;
  private running = false;
  /** Bumped by every restart: a timer or continuation of an earlier life never runs in this one. */
  private incarnation = 0;
  private factoryAndConfig: { factory: ComponentFactory<unknown>; config: unknown } | undefined;
  /** While stalled (a fault), deliveries and timers wait here, in order. */
  private stalled: (() => void)[] | null = null;

  constructor(options: HostOptions) {
    this.name = options.name;
    this.transport = options.transport;
    this.clock = options.transport.clock;
    this.random = options.random;
    this.log = options.log;
    this.interceptor = options.interceptor;
    this.limits = { ...DEFAULT_HOST_LIMITS, ...options.limits };
    if (options.world) this.world = options.world;
  }

  /** Build the component with its factory and start it. */
  start<Config>(factory: ComponentFactory<Config>, config: Config): void {
    this.factoryAndConfig = { factory: factory as ComponentFactory<unknown>, config };
    this.component = factory(this, config);
    this.running = true;
    this.transport.history({ type: 'component', component: this.name, event: 'start', detail: '' });
    this.component.onStart();
  }

  /** Stop cleanly: pending calls are abandoned (their continuations never run). */
  stop(detail = ''): void {
    if (!this.running) return;
    this.running = false;
    this.component?.onStop?.();
    for (const call of this.pending.values()) this.transport.cancel(call.timer);
    this.pending.clear();
    this.inFlightPerVcpu.clear();
    this.transport.history({ type: 'component', component: this.name, event: 'stop', detail });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * A crash (a fault): the component's state is gone at once, nothing of it runs any more, its
   * pending calls are forgotten, and what arrives for it is lost. onStop does not run.
   */
  crash(detail: string): void {
    if (!this.running) return;
    this.running = false;
    this.stalled = null;
    this.incarnation++;
    for (const call of this.pending.values()) this.transport.cancel(call.timer);
    this.pending.clear();
    this.inFlightPerVcpu.clear();
    this.transport.history({ type: 'component', component: this.name, event: 'crash', detail });
  }

  /** A fresh instance from the same factory and config (after a crash): it starts from nothing. */
  restart(detail: string): void {
    const started = this.factoryAndConfig;
    if (!started) throw new Error(`bug: ${this.name} restarted before it ever started`);
    if (this.running) this.crash('restarted while running');
    this.incarnation++;
    this.component = started.factory(this, started.config);
    this.running = true;
    this.transport.history({ type: 'component', component: this.name, event: 'restart', detail });
    this.component.onStart();
  }

  /** A stall (a fault): nothing runs until resume(); deliveries and timers wait, bounded. */
  stall(): void {
    if (this.running && this.stalled === null) this.stalled = [];
  }

  resume(): void {
    const waiting = this.stalled;
    this.stalled = null;
    for (const run of waiting ?? []) this.whenNotStalled(run);
  }

  /** Runs now, or after the stall; work beyond the bound is lost, as a wedged CPU would lose it. */
  private whenNotStalled(run: () => void): void {
    if (this.stalled === null) return run();
    if (this.stalled.length < STALLED_WORK_MAX) this.stalled.push(run);
    else this.record({ event: 'stall-overflow', bound: STALLED_WORK_MAX });
  }

  /** A message arrived for this component from the network. */
  receive(from: string, message: Message): void {
    if (!this.running) return;
    if (this.stalled !== null) return this.whenNotStalled(() => this.receive(from, message));
    this.transport.history({ type: 'deliver', from, to: this.name, message });
    if (message.kind === 'return') {
      this.completeCall(message.id, { ok: true, regs: message.regs, memory: message.memory }, from);
      return;
    }
    this.requireComponent().onMessage(from, message);
  }

  /** The orchestrator observes other components' history events. */
  observe(events: readonly ObservedEvent[]): void {
    if (!this.running || events.length === 0) return;
    this.requireComponent().onObserve?.(events);
  }

  /** The runtime's link to `peer` closed (ws): recorded, and the component told (after a stall, when it resumes). */
  linkLost(peer: string): void {
    if (!this.running) return;
    if (this.stalled !== null) return this.whenNotStalled(() => this.linkLost(peer));
    this.transport.history({ type: 'component', component: this.name, event: 'link-lost', detail: peer });
    this.requireComponent().onLinkLost?.(peer);
  }

  send(to: string, message: Message): void {
    this.dispatch({ from: this.name, to, message });
  }

  call(to: string, request: CallRequest, onReturn: (outcome: CallOutcome) => void): void {
    const vcpuKey = `${request.endpoint}:${request.vcpu}`;
    const inFlight = this.inFlightPerVcpu.get(vcpuKey) ?? 0;
    if (inFlight >= this.limits.maxInFlightPerVcpu) {
      const detail = `${inFlight} calls already in flight for endpoint ${request.endpoint} vCPU ${request.vcpu}`;
      this.failSoon(onReturn, 'busy', detail);
      return;
    }
    const id = this.nextCallId++;
    const message: CallMessage = {
      kind: 'call',
      id,
      conduit: request.conduit,
      endpoint: request.endpoint,
      vcpu: request.vcpu,
      cpu: request.cpu,
      regs: request.regs,
      memory: request.memory ?? null,
    };
    const timeoutNs = request.timeoutNs ?? this.limits.callTimeoutNs;
    const timer = this.transport.schedule(timeoutNs, () => this.timeOutCall(id, timeoutNs));
    this.pending.set(id, { to, vcpuKey, timer, onReturn });
    this.inFlightPerVcpu.set(vcpuKey, inFlight + 1);
    this.dispatch({ from: this.name, to, message });
  }

  reply(to: string, call: CallMessage, regs: RegisterFile, memory: BufferWrite | null = null): void {
    this.send(to, { kind: 'return', id: call.id, regs, memory });
  }

  setTimer(delayNs: number, onFire: () => void): TimerHandle {
    const life = this.incarnation;
    return this.transport.schedule(delayNs, () => {
      if (this.running && this.incarnation === life) this.whenNotStalled(onFire);
    });
  }

  cancelTimer(handle: TimerHandle): void {
    this.transport.cancel(handle);
  }

  record(event: RecordedEvent): void {
    this.transport.history({ type: 'record', component: this.name, data: event });
  }

  /** The interception point: every outgoing message passes here exactly once. */
  private dispatch(envelope: Envelope): void {
    const verdict = this.interceptor.inspect(envelope);
    if (verdict.action === 'deliver') {
      this.transmit(envelope, 0);
      return;
    }
    this.transport.history({ type: 'fault', rule: verdict.rule, action: verdict.action, ...envelope });
    switch (verdict.action) {
      case 'drop':
        return;
      case 'delay':
        this.transmit(envelope, verdict.byNs);
        return;
      case 'duplicate':
        for (let copy = 0; copy <= verdict.copies; copy++) this.transmit(envelope, 0);
        return;
      case 'fail':
        this.failInPlaceOfCallee(envelope, verdict.regs);
        return;
    }
  }

  private transmit(envelope: Envelope, delayNs: number): void {
    this.transport.history({ type: 'send', ...envelope });
    const refusal = this.transport.transmit(envelope, delayNs);
    if (refusal === undefined) return;
    this.transport.history({ type: 'refused', reason: refusal, ...envelope });
    const { message } = envelope;
    if (message.kind === 'call') {
      // A frame that could not be sent never reaches the callee: unreachable, as a lost link is.
      const reason = refusal === 'queue-full' ? 'busy' : 'unreachable';
      this.transport.schedule(0, () => this.completeCall(message.id, { ok: false, reason, detail: refusal }, envelope.to));
    }
  }

  /** A `fail` fault answers a call as if the callee had returned these registers. */
  private failInPlaceOfCallee(envelope: Envelope, regs: RegisterFile): void {
    const { message } = envelope;
    if (message.kind !== 'call') return; // only calls can fail; anything else is dropped
    this.transport.schedule(0, () => this.completeCall(message.id, { ok: true, regs, memory: null }, envelope.to));
  }

  private completeCall(id: number, outcome: CallOutcome, from: string): void {
    const call = this.pending.get(id);
    if (!call || call.to !== from) {
      this.record({ event: 'unmatched-return', id, from });
      return;
    }
    this.pending.delete(id);
    this.transport.cancel(call.timer);
    const left = (this.inFlightPerVcpu.get(call.vcpuKey) ?? 1) - 1;
    if (left > 0) this.inFlightPerVcpu.set(call.vcpuKey, left);
    else this.inFlightPerVcpu.delete(call.vcpuKey);
    if (!outcome.ok) {
      this.transport.history({ type: 'call-failed', component: this.name, to: from, id, reason: outcome.reason });
    }
    call.onReturn(outcome);
  }

  private timeOutCall(id: number, timeoutNs: number): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.completeCall(id, { ok: false, reason: 'timeout', detail: `no return within ${timeoutNs} ns` }, call.to);
  }

  /** Continuations never run re-entrantly: a refusal is answered on a later turn. */
  private failSoon(onReturn: (outcome: CallOutcome) => void, reason: 'busy', detail: string): void {
    const life = this.incarnation;
    this.transport.schedule(0, () => {
      if (this.running && this.incarnation === life) onReturn({ ok: false, reason, detail });
    });
  }

  private requireComponent(): Component {
    if (!this.component) throw new Error(`component ${this.name} received a message before start`);
    return this.component;
  }
}
