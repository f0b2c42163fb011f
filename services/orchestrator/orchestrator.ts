/**
 * The orchestrator (design world.md §2): the experimenter around a world. It runs a scenario's
 * steps one after another, as a component like the others, so the same steps mean the same under
 * sim (virtual time) and ws (real time). It makes calls as the scenario's endpoints (a guest's
 * `call` control for a VM or the host, the SPMC's relay for an SP, the raw hypervisor's relay for
 * `hypervisor`), asks the hypervisor for VM and vCPU changes, drives workloads, installs faults
 * through ctx.world, and waits for what the others record (it observes their history).
 *
 * Records: scenario-start; a `step` record per step {index, label, passed, detail, startNs,
 * endNs}; fault-installed / fault-healed / fault-refused; workload; done. The runner reads the
 * step records back from the history; the checkers read everything else.
 */
import type { RegisterFile } from '../../shared/ffa/index.ts';
import type { CallOutcome, Component, ComponentContext, ComponentFactory, ObservedEvent, TimerHandle, WorldControl } from '../../shared/runtime/component.ts';
import type { HistoryEvent } from '../../shared/runtime/history.ts';
import type { Message } from '../../shared/protocol/messages.ts';
import { controlMessage, knownControlOp, type AnsweredOp, type AwaitedOp, type ControlData } from '../../shared/protocol/control.ts';
import { checkExpectation, shown } from './expect.ts';
import { componentOf, rulesFor } from './faults.ts';
import type { Endpoint, FaultSpec, SpBehaviour, Step, TimedFault } from './scenario/types.ts';
import { Workload } from './workload.ts';

export interface OrchestratorConfig {
  runtime: 'sim' | 'ws';
  cpus: number;
  steps: Step[];
  timedFaults: TimedFault[];
  /** Guests that boot with the world: the steps start once each has finished its probe. */
  bootedGuests: string[];
  /** Every VM, for `{ vm: create }` (the hypervisor is told its shape) and workloads. */
  vms: { name: string; id: number; vcpus: number; pcpus: number[] | null }[];
  /** Every SP with its behaviour, for workloads. */
  sps: { id: number; behaviour: SpBehaviour }[];
  /** Whether a hypervisor runs the VMs (a guest's crash is then its VM's destruction). */
  hypervisor: boolean;
  /** Each swarm's concrete faults, drawn from the seed by the runner (swarm.ts), by where it is. */
  swarms: { where: string; faults: FaultSpec[] }[];
}

/** Bound on the probes of the booted guests before the first step. */
const PROBE_TIMEOUT_NS = 10_000_000_000;
/** Bound on a control round trip (a guest's call, a hypervisor life-cycle request). */
const CONTROL_TIMEOUT_NS = 10_000_000_000;
/** ws only: observed events reach the orchestrator a little after they happen (batched per turn). */
const WS_OBSERVATION_GRACE_NS = 50_000_000;
/** `await: idle`: quiet this long counts as idle (no record or interrupt anywhere). */
const IDLE_QUIET_NS = { sim: 2_000_000, ws: 150_000_000 } as const;
const IDLE_TIMEOUT_NS = 30_000_000_000;
/** Observed events kept (between INBOX_MAX and twice that: see onObserve). */
const INBOX_MAX = 100_000;

interface Observed {
  readonly t: number;
  readonly event: HistoryEvent;
  consumed: boolean;
}

interface Waiter {
  readonly accepts: (entry: Observed) => boolean;
  readonly onMatch: (entry: Observed) => void;
  readonly timer: TimerHandle;
}

type Finish = (passed: boolean, detail: string) => void;

function dataOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const ms = (ns: number): string => `${(ns / 1e6).toFixed(3).replace(/\.?0+$/, '')} ms`;

class Orchestrator implements Component {
  private readonly inbox: Observed[] = [];
  private waiter: Waiter | undefined;
  /** Control answers awaited, by `from` + op (+ label for guest calls). */
  private readonly controlWaiters = new Map<string, { timer: TimerHandle; onAnswer: (data: Record<string, unknown>) => void }>();
  /** Events before this time do not satisfy an await: it is when the step that could cause them began. */
  private causeStartNs = 0;
  private faultSerial = 0;
  /** Faults installed whose heal is still to come: the world is not idle while one is. */
  private pendingHeals = 0;
  private readonly workloads: Workload[] = [];

  constructor(
    private readonly ctx: ComponentContext,
    private readonly config: OrchestratorConfig,
  ) {}

  onStart(): void {
    this.ctx.record({ event: 'scenario-start', steps: this.config.steps.length, timedFaults: this.config.timedFaults.length });
    this.config.timedFaults.forEach((timed, index) => {
      this.ctx.setTimer(timed.atNs, () => this.applyFault(timed.fault, `timed-${index}`, () => {}, `timed fault ${index}`));
    });
    this.awaitProbes([...this.config.bootedGuests], () => this.runStep(0));
  }

  onMessage(from: string, message: Message): void {
    if (message.kind !== 'control') {
      this.ctx.record({ event: 'orchestrator-ignored', from, kind: message.kind });
      return;
    }
    const data = dataOf(message.data);
    if (knownControlOp(message.op) === 'notify-request-result') {
      for (const workload of this.workloads) workload.onBindAnswer?.(from, data);
      return;
    }
    const key = this.controlKey(from, message.op, typeof data['label'] === 'string' ? data['label'] : '');
    const waiter = this.controlWaiters.get(key) ?? this.controlWaiters.get(this.controlKey(from, message.op, ''));
    if (!waiter) {
      this.ctx.record({ event: 'orchestrator-ignored', from, kind: 'control', op: message.op });
      return;
    }
    this.controlWaiters.delete(this.controlWaiters.has(key) ? key : this.controlKey(from, message.op, ''));
    this.ctx.cancelTimer(waiter.timer);
    waiter.onAnswer(data);
  }

  onObserve(events: readonly ObservedEvent[]): void {
    for (const { t, event } of events) {
      this.inbox.push({ t, event, consumed: false });
    }
    // Trimmed in halves, not one event at a time: a splice at the front moves the whole inbox, and
    // doing that per event made a long workload quadratic (64% of a 64-guest load run's CPU).
    if (this.inbox.length >= 2 * INBOX_MAX) this.inbox.splice(0, this.inbox.length - INBOX_MAX);
    this.checkWaiter(events.length);
  }

  // ---------------------------------------------------------------- steps

  /**
   * Every guest's probe (its `done` record), in whatever order they finish: the done records
   * already observed are taken in one pass over the inbox, then one waiter takes the rest as they
   * arrive. (Awaiting the guests one after another searched the inbox once per guest: with 1,000
   * guests that was a third of the orchestrator's start-up.) The bound is PROBE_TIMEOUT_NS
   * without progress; the guests still not done then are recorded and the steps go on.
   */
  private awaitProbes(guests: readonly string[], then: () => void): void {
    const left = new Set(guests);
    const since = this.causeStartNs;
    const isDone = (e: HistoryEvent) => e.type === 'record' && left.has(e.component) && e.data['event'] === 'done';
    const take = (entry: Observed) => {
      entry.consumed = true;
      if (entry.event.type === 'record') left.delete(entry.event.component);
    };
    const accepts = (entry: Observed) => !entry.consumed && entry.t >= since && isDone(entry.event);
    for (const entry of this.inbox) if (accepts(entry)) take(entry);
    const next = (): void => {
      if (left.size === 0) return then();
      // checkWaiter marks the match consumed; the rest of take is ours.
      this.awaitFresh(accepts, PROBE_TIMEOUT_NS, (entry) => {
        take(entry);
        next();
      }, () => {
        for (const guest of left) this.ctx.record({ event: 'probe-timeout', guest });
        then();
      });
    };
    next();
  }

  private runStep(index: number): void {
    const step = this.config.steps[index];
    if (!step) return this.finish();
    const startNs = this.ctx.clock.nowNs();
    if (!isAwait(step)) this.causeStartNs = startNs;
    const finish: Finish = (passed, detail) => {
      this.ctx.record({ event: 'step', index, label: step.label, passed, detail, startNs, endNs: this.ctx.clock.nowNs() });
      if (passed) this.runStep(index + 1);
      else this.skipFrom(index + 1, `not run: step ${index} (${step.label}) failed`);
    };
    this.execute(step, finish);
  }

  /** After a failed step the rest are not run: later steps assume what the failed one should have done. */
  private skipFrom(index: number, why: string): void {
    const now = this.ctx.clock.nowNs();
    for (const step of this.config.steps.slice(index)) {
      this.ctx.record({ event: 'step', index: step.index, label: step.label, passed: false, detail: why, startNs: now, endNs: now, skipped: true });
    }
    this.finish();
  }

  /**
   * The end: workloads stop, then the world is given its quiet window, so the checkers know that
   * a notification still pending then will never be delivered (WorldModel.quietAtEndNs).
   */
  private finish(): void {
    for (const workload of this.workloads) workload.stop();
    this.awaitIdle((quiet) => this.ctx.record({ event: 'done', quiet, atNs: this.ctx.clock.nowNs() }));
  }

  private execute(step: Step, finish: Finish): void {
    switch (step.kind) {
      case 'call':
        return this.call(step, finish);
      case 'await-interrupt':
        return this.awaitEvent((e) => isDelivery(e, step.to, step.intid, step.vcpu), step.withinNs, `interrupt ${step.intid} at ${step.to.name}`, finish);
      case 'await-callback':
        return this.awaitEvent((e) => isCallback(e, step.in, step.notification), step.withinNs, `callback of notification ${step.notification} in ${step.in.name}`, finish);
      case 'await-idle':
        return this.awaitIdle(finish);
      case 'await-probe':
        return this.awaitEvent((e) => e.type === 'record' && e.component === componentOf(step.in) && e.data['event'] === 'done', step.withinNs, `probe of ${step.in.name}`, finish);
      case 'expect-none-interrupt':
        return this.expectNone((e) => isDelivery(e, step.to, step.intid, step.vcpu), step.forNs, finish);
      case 'vm':
        return this.request('hypervisor', `vm-${step.op}`, step.op === 'create' ? this.vmCreateRequest(step.vm) : { name: step.vm }, finish);
      case 'vcpu':
        // Under a hypervisor a vCPU's state is the hypervisor's to change; on bare metal it is the
        // host kernel's own CPU hotplug (services/guest/guest.ts hotplug).
        if (this.config.hypervisor) return this.request('hypervisor', `vcpu-${step.op}`, { vm: step.vm, vcpu: step.vcpu }, finish);
        return this.request(step.vm, `vcpu-${step.op}`, { vcpu: step.vcpu }, finish);
      case 'sleep':
        this.ctx.setTimer(step.ns, () => finish(true, `slept ${ms(step.ns)}`));
        return;
      case 'workload':
        return this.startWorkload(step, finish);
      case 'fault':
        return this.applyFault(step.fault, `step-${step.index}`, finish, `step ${step.index}`);
    }
  }

  // ---------------------------------------------------------------- calls

  private call(step: Extract<Step, { kind: 'call' }>, finish: Finish): void {
    const judge = (regs: RegisterFile) => {
      const verdict = checkExpectation(step.fid, regs, step.expect);
      finish(verdict.passed, verdict.detail);
    };
    const onOutcome = (outcome: CallOutcome) => (outcome.ok ? judge(outcome.regs) : finish(false, `the call failed: ${outcome.reason} (${outcome.detail})`));
    const cpu = step.vcpu % this.config.cpus;
    switch (step.from.kind) {
      case 'vm':
      case 'host':
        return this.guestCall(step, judge, finish);
      case 'sp':
        return this.ctx.call('spmc', { conduit: 'relay', endpoint: step.from.id, vcpu: step.vcpu, cpu, regs: step.regs }, onOutcome);
      case 'hypervisor':
        return this.ctx.call('hypervisor', { conduit: 'relay', endpoint: 0, vcpu: step.vcpu, cpu, regs: step.regs }, onOutcome);
    }
  }

  /** A VM's (or the host's) driver makes the call on its vCPU (services/guest/controls.ts `call`). */
  private guestCall(step: Extract<Step, { kind: 'call' }>, judge: (regs: RegisterFile) => void, finish: Finish): void {
    const label = `step-${step.index}`;
    const regs = step.regs.map((r) => `0x${r.toString(16)}`);
    this.ctx.send(step.from.name, { kind: 'control', op: 'call', data: { regs, vcpu: step.vcpu, label } });
    this.awaitControl(step.from.name, 'call-result', label, (data) => {
      if (data['ok'] !== true) return finish(false, `${step.from.name} refused the call: ${String(data['why'])}`);
      const returned = data['regs'];
      if (!Array.isArray(returned) || returned.length === 0) return finish(false, `${step.from.name}'s call did not return: ${String(data['result'])}`);
      judge(returned.map((r) => BigInt(r as bigint | number | string)));
    }, finish);
  }

  private awaitControl(from: string, op: AwaitedOp, label: string, onAnswer: (data: Record<string, unknown>) => void, finish: Finish): void {
    const key = this.controlKey(from, op, label);
    const timer = this.ctx.setTimer(CONTROL_TIMEOUT_NS, () => {
      this.controlWaiters.delete(key);
      finish(false, `no ${op} from ${from} within ${ms(CONTROL_TIMEOUT_NS)}`);
    });
    this.controlWaiters.set(key, { timer, onAnswer });
  }

  private controlKey(from: string, op: string, label: string): string {
    return `${from}\u0000${op}\u0000${label}`;
  }

  // ---------------------------------------------------------------- world changes

  private vmCreateRequest(name: string): ControlData<'vm-create'> {
    const vm = this.config.vms.find((v) => v.name === name);
    if (!vm) throw new Error(`bug: the loader let an unknown VM ${name} through`);
    return { name: vm.name, id: vm.id, vcpus: vm.vcpus, component: vm.name, ...(vm.pcpus ? { pcpus: vm.pcpus } : {}) };
  }

  /** A control request answered by `<op>-result` with `ok`. */
  private request<Op extends AnsweredOp>(to: string, op: Op, data: ControlData<Op>, finish: Finish): void {
    this.ctx.send(to, controlMessage(op, data));
    this.awaitControl(to, `${op}-result`, '', (answer) => {
      const ok = answer['ok'] === true;
      finish(ok, ok ? `${op} ${shown(data)} done` : `${op} refused: ${String(answer['reason'] ?? answer['why'] ?? shown(answer))}`);
    }, finish);
  }

  private startWorkload(step: Extract<Step, { kind: 'workload' }>, finish: Finish): void {
    const target = {
      vmIds: new Map(this.config.vms.map((vm) => [vm.name, vm.id])),
      spBehaviours: new Map(this.config.sps.map((sp) => [sp.id, sp.behaviour])),
      cpus: this.config.cpus,
    };
    const workload = new Workload(this.ctx, step, target);
    this.workloads.push(workload);
    workload.start((summary) => finish(summary.refused === 0, shown(summary)));
  }

  // ---------------------------------------------------------------- faults

  private applyFault(fault: FaultSpec, id: string, finish: Finish, where: string): void {
    const ruleId = `${id}:${fault.kind}#${this.faultSerial++}`;
    const world = this.ctx.world;
    if (!world) throw new Error('bug: the orchestrator was started without world control');
    switch (fault.kind) {
      case 'swarm':
        return this.swarm(where, ruleId, finish);
      case 'spurious-interrupt':
        return this.spurious(fault, ruleId, finish);
      case 'crash':
        return this.crash(world, fault, ruleId, finish);
      case 'stall':
        return this.stall(world, fault, ruleId, finish);
      case 'hold-interrupt':
        return this.hold(fault, ruleId, finish);
      default:
        return this.installRules(world, fault, ruleId, finish);
    }
  }

  private installRules(world: WorldControl, fault: FaultSpec, ruleId: string, finish: Finish): void {
    const plan = rulesFor(fault, ruleId);
    if (plan.kind === 'not-a-rule') {
      this.ctx.record({ event: 'fault-refused', id: ruleId, fault: fault.kind, why: plan.why });
      return finish(false, plan.why);
    }
    const heal = plan.healAfterNs;
    if (heal !== null) this.pendingHeals++; // from now: the world is not idle until it heals
    world.installFaults(plan.rules, () => {
      this.ctx.record({ event: 'fault-installed', id: ruleId, fault: fault.kind, rules: plan.rules.map((r) => r.id), spec: shown(fault) });
      if (heal !== null) {
        this.pendingHeals--;
        this.healLater(heal, () => world.removeFaults(plan.rules.map((r) => r.id), () => this.ctx.record({ event: 'fault-healed', id: ruleId, fault: fault.kind })));
      }
      finish(true, `${fault.kind} installed as ${ruleId}`);
    });
  }

  /**
   * A crash: the component's state is gone. A guest's crash is its VM's: the toolstack destroys
   * the domain (Xen's ffa_domain_teardown: VM_DESTROYED to subscribed SPs, BITMAP_DESTROY) and,
   * with restart-after, creates it again, and the fresh kernel probes from scratch. Any other
   * component restarts fresh from its configuration.
   */
  private crash(world: WorldControl, fault: Extract<FaultSpec, { kind: 'crash' }>, id: string, finish: Finish): void {
    const vm = this.config.vms.find((v) => v.name === fault.component);
    const underHypervisor = vm !== undefined && this.config.hypervisor;
    const restartAfter = fault.restartAfterNs;
    if (restartAfter !== null) this.pendingHeals++;
    world.crash(fault.component, `fault ${id}`, () => {
      if (underHypervisor) this.ctx.send('hypervisor', { kind: 'control', op: 'vm-destroy', data: { name: fault.component } });
      this.ctx.record({ event: 'fault-installed', id, fault: fault.kind, rules: [], spec: shown(fault) });
      if (restartAfter !== null) {
        this.pendingHeals--;
        this.healLater(restartAfter, () =>
          world.restart(fault.component, `fault ${id} healed`, () => {
            if (underHypervisor) this.ctx.send('hypervisor', { kind: 'control', op: 'vm-create', data: this.vmCreateRequest(fault.component) });
            this.ctx.record({ event: 'fault-healed', id, fault: fault.kind });
          }),
        );
      }
      finish(true, `${fault.component} crashed${restartAfter === null ? '' : `, restarting after ${ms(restartAfter)}`}`);
    });
  }

  private stall(world: WorldControl, fault: Extract<FaultSpec, { kind: 'stall' }>, id: string, finish: Finish): void {
    this.pendingHeals++;
    world.stall(fault.component, () => {
      this.pendingHeals--;
      this.ctx.record({ event: 'fault-installed', id, fault: fault.kind, rules: [], spec: shown(fault) });
      this.healLater(fault.forNs, () => world.resume(fault.component, () => this.ctx.record({ event: 'fault-healed', id, fault: fault.kind })));
      finish(true, `${fault.component} stalled for ${ms(fault.forNs)}`);
    });
  }

  /** The INTID disabled at the GIC: its interrupts stay pending while it is masked, then it is enabled again. */
  private hold(fault: Extract<FaultSpec, { kind: 'hold-interrupt' }>, id: string, finish: Finish): void {
    this.ctx.send('gic', { kind: 'control', op: 'gic-configure', data: { intid: fault.intid, enabled: false } });
    this.pendingHeals++;
    // gic-sync: the GIC answers once it has taken the change, so the next step cannot race it.
    this.ctx.send('gic', { kind: 'control', op: 'gic-sync', data: null });
    this.awaitControl('gic', 'gic-synced', '', () => {
      this.pendingHeals--;
      this.ctx.record({ event: 'fault-installed', id, fault: fault.kind, rules: [], spec: shown(fault) });
      this.healLater(fault.forNs, () => {
        this.ctx.send('gic', { kind: 'control', op: 'gic-configure', data: { intid: fault.intid, enabled: true } });
        this.ctx.record({ event: 'fault-healed', id, fault: fault.kind });
      });
      finish(true, `INTID ${fault.intid} held at the GIC for ${ms(fault.forNs)}`);
    }, finish);
  }

  /** A fault's heal, after `delayNs`; until then the world does not count as idle (a held interrupt is quiet, not done). */
  private healLater(delayNs: number, heal: () => void): void {
    this.pendingHeals++;
    this.ctx.setTimer(delayNs, () => {
      this.pendingHeals--;
      heal();
    });
  }

  /** A swarm: the faults the runner drew for this seed, applied together. */
  private swarm(where: string, id: string, finish: Finish): void {
    const drawn = this.config.swarms.find((swarm) => swarm.where === where);
    if (!drawn) throw new Error(`bug: no swarm was drawn for ${where}`);
    this.ctx.record({ event: 'swarm', id, where, faults: drawn.faults.map((fault) => shown(fault)) });
    drawn.faults.forEach((fault, index) => this.applyFault(fault, `${id}.${index}`, () => {}, `${where}.${index}`));
    finish(true, `swarm of ${drawn.faults.length} faults: ${drawn.faults.map((f) => f.kind).join(', ') || 'none drawn'}`);
  }

  /** A spurious interrupt: raised at the GIC for a target that nothing made pending. */
  private spurious(fault: Extract<FaultSpec, { kind: 'spurious-interrupt' }>, id: string, finish: Finish): void {
    const to = fault.to;
    const virtual = to.kind === 'vm';
    const irq = virtual
      ? { kind: 'irq' as const, op: 'raise' as const, intid: fault.intid, group: 'nonsecure' as const, cpu: -1, vm: to.id, vcpu: fault.vcpu }
      : { kind: 'irq' as const, op: 'raise' as const, intid: fault.intid, group: 'nonsecure' as const, cpu: fault.vcpu % this.config.cpus, vm: -1, vcpu: -1 };
    this.ctx.send('gic', irq);
    this.ctx.record({ event: 'fault-installed', id, fault: fault.kind, rules: [], spec: shown(fault) });
    finish(true, `spurious interrupt ${fault.intid} raised for ${componentOf(to)}`);
  }

  // ---------------------------------------------------------------- awaiting what others record

  private awaitEvent(matches: (e: HistoryEvent) => boolean, withinNs: number, what: string, finish: Finish): void {
    const startNs = this.ctx.clock.nowNs();
    const grace = this.config.runtime === 'ws' ? WS_OBSERVATION_GRACE_NS : 0;
    this.await(
      matches,
      withinNs + grace,
      (entry) => {
        const late = entry.t - startNs > withinNs;
        finish(!late, late ? `${what} came ${ms(entry.t - startNs)} after the await began, later than ${ms(withinNs)}` : `${what} (t=${ms(entry.t)})`);
      },
      () => finish(false, `no ${what} within ${ms(withinNs)}`),
    );
  }

  private expectNone(matches: (e: HistoryEvent) => boolean, forNs: number, finish: Finish): void {
    const startNs = this.ctx.clock.nowNs();
    const grace = this.config.runtime === 'ws' ? WS_OBSERVATION_GRACE_NS : 0;
    this.ctx.setTimer(forNs + grace, () => {
      const seen = this.inbox.find((entry) => entry.t >= startNs && entry.t <= startNs + forNs && matches(entry.event));
      finish(seen === undefined, seen ? `unexpected: ${describeEvent(seen.event)} at t=${ms(seen.t)}` : `none in ${ms(forNs)}`);
    });
  }

  private awaitIdle(finish: (passed: boolean, detail: string) => void): void {
    const quiet = IDLE_QUIET_NS[this.config.runtime];
    const startNs = this.ctx.clock.nowNs();
    const poll = () => {
      const now = this.ctx.clock.nowNs();
      const last = this.inbox.at(-1)?.t ?? 0;
      if (now - last >= quiet && this.pendingHeals === 0) return finish(true, `quiet for ${ms(quiet)}`);
      if (now - startNs > IDLE_TIMEOUT_NS) return finish(false, `the world did not go quiet within ${ms(IDLE_TIMEOUT_NS)}`);
      this.ctx.setTimer(quiet, poll);
    };
    this.ctx.setTimer(quiet, poll);
  }

  /** The first unconsumed observed event since the cause step began, now or when it arrives. */
  private await(matches: (e: HistoryEvent) => boolean, timeoutNs: number, onMatch: (entry: Observed) => void, onTimeout: () => void): void {
    const since = this.causeStartNs;
    const accepts = (entry: Observed) => !entry.consumed && entry.t >= since && matches(entry.event);
    const found = this.inbox.find(accepts);
    if (found) {
      found.consumed = true;
      return onMatch(found);
    }
    this.awaitFresh(accepts, timeoutNs, onMatch, onTimeout);
  }

  /** The first event observed from now on that `accepts` takes (the inbox so far is not searched). */
  private awaitFresh(accepts: (entry: Observed) => boolean, timeoutNs: number, onMatch: (entry: Observed) => void, onTimeout: () => void): void {
    const timer = this.ctx.setTimer(timeoutNs, () => {
      this.waiter = undefined;
      onTimeout();
    });
    this.waiter = { accepts, onMatch, timer };
  }

  /**
   * The waiter against the `fresh` events just observed: the older ones were all tried when it was
   * set (scanning the whole inbox per batch made the probe wait quadratic in the guests). A match
   * may set the next waiter, which goes on with the rest of the batch.
   */
  private checkWaiter(fresh: number): void {
    for (let index = Math.max(0, this.inbox.length - fresh); index < this.inbox.length && this.waiter; index++) {
      const waiter = this.waiter;
      const entry = this.inbox[index] as Observed;
      if (!waiter.accepts(entry)) continue;
      entry.consumed = true;
      this.waiter = undefined;
      this.ctx.cancelTimer(waiter.timer);
      waiter.onMatch(entry);
    }
  }
}

function isAwait(step: Step): boolean {
  return step.kind === 'await-interrupt' || step.kind === 'await-callback' || step.kind === 'await-idle' || step.kind === 'await-probe' || step.kind === 'expect-none-interrupt';
}

/** The GIC delivered `intid` to the endpoint (a vCPU of a VM; a physical CPU of the hypervisor or host). */
function isDelivery(event: HistoryEvent, to: Endpoint, intid: number | null, vcpu: number | null): boolean {
  if (event.type !== 'deliver' || event.from !== 'gic' || event.to !== componentOf(to)) return false;
  const irq = event.message;
  if (irq.kind !== 'irq' || irq.op !== 'deliver') return false;
  if (intid !== null && irq.intid !== intid) return false;
  if (vcpu === null) return true;
  return to.kind === 'vm' ? irq.vcpu === vcpu : irq.cpu === vcpu;
}

function isCallback(event: HistoryEvent, receiver: Endpoint, notification: number): boolean {
  return event.type === 'record' && event.component === componentOf(receiver) && event.data['event'] === 'notification-callback' && event.data['id'] === notification;
}

function describeEvent(event: HistoryEvent): string {
  if (event.type === 'deliver' && event.message.kind === 'irq') return `interrupt ${event.message.intid} delivered to ${event.to}`;
  if (event.type === 'record') return `${event.component} recorded ${String(event.data['event'])}`;
  return event.type;
}

export const create: ComponentFactory<OrchestratorConfig> = (ctx, config) => new Orchestrator(ctx, config);
