/**
 * The orchestrator (docs/design.md §2): the experimenter around a world. It runs a scenario's
 * steps one after another, as a component like the others, so the same steps mean the same under
 * sim (virtual time) and ws (real time). It makes calls as the scenario's endpoints (a guest's
 * `call` control for a VM or the host, the SPMC's relay for an SP, the raw hypervisor's relay for
 * `hypervisor`), asks the hypervisor for VM and vCPU changes, drives workloads, installs faults
 * through ctx.world (apply-faults.ts), and waits for what the others record: it observes their
 * history (awaiting.ts).
 *
 * Records: scenario-start; a `step` record per step {index, label, passed, detail, startNs,
 * endNs, and a call's returned registers}; fault-installed / fault-healed / fault-refused; workload; done. The runner reads the
 * step records back from the history; the checkers read everything else.
 */
import { bufferWriteProblem, decodeResult, hex, txWrite, type BufferWrite } from '../../shared/ffa/index.ts';
import type { CallOutcome, Component, ComponentContext, ComponentFactory, ObservedEvent } from '../../shared/runtime/component.ts';
import type { Message } from '../../shared/protocol/messages.ts';
import { FaultApplier } from './apply-faults.ts';
import { OrchestratorAwaiting } from './awaiting.ts';
import { type OrchestratorConfig, vmCreateRequest } from './config.ts';
import { checkCallStep, checkExpectation, shown } from './expect.ts';
import { type CallAnswer, PendingAnswers } from './pending-answers.ts';
import { rxFields, rxFieldsExpected, rxMissing, rxOwnerOf } from './rx-buffer.ts';
import type { Endpoint, Expectation, PendingCallJudgement, Step } from './scenario/types.ts';
import { type Finish, ms, returnedRegisters } from './step-outcome.ts';
import { Workload } from './workload.ts';
import { controlMessage, type AnsweredOp, type ControlData } from '../../shared/protocol/control.ts';

type CallStep = Extract<Step, { kind: 'call' }>;

function dataOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

class Orchestrator implements Component {
  private readonly awaiting: OrchestratorAwaiting;
  private readonly faults: FaultApplier;
  private readonly workloads: Workload[] = [];
  private readonly pending = new PendingAnswers();

  constructor(
    private readonly ctx: ComponentContext,
    private readonly config: OrchestratorConfig,
  ) {
    this.awaiting = new OrchestratorAwaiting(ctx, config.runtime, config.steps, config.bootedGuests);
    this.faults = new FaultApplier(ctx, config, this.awaiting);
  }

  onStart(): void {
    this.ctx.record({ event: 'scenario-start', steps: this.config.steps.length, timedFaults: this.config.timedFaults.length });
    this.config.timedFaults.forEach((timed, index) => {
      this.ctx.setTimer(timed.atNs, () => this.faults.apply(timed.fault, `timed-${index}`, () => {}, `timed fault ${index}`));
    });
    this.awaiting.awaitProbes(this.config.bootedGuests, () => this.runStep(0));
  }

  onMessage(from: string, message: Message): void {
    if (message.kind !== 'control') {
      this.ctx.record({ event: 'orchestrator-ignored', from, kind: message.kind });
      return;
    }
    if (!this.awaiting.answer(from, message.op, dataOf(message.data))) this.ctx.record({ event: 'orchestrator-ignored', from, kind: 'control', op: message.op });
  }

  onObserve(events: readonly ObservedEvent[]): void {
    this.awaiting.observe(events);
    for (const { t, event } of events) {
      this.faults.observe(t, event);
      for (const workload of this.workloads) workload.observe(t, event);
    }
  }

  // ---------------------------------------------------------------- steps

  private runStep(index: number): void {
    const step = this.config.steps[index];
    if (!step) return this.finish();
    const startNs = this.ctx.clock.nowNs();
    if (!isAwait(step)) this.awaiting.startCause(startNs);
    let finished = false;
    const finish: Finish = (passed, detail, returned) => {
      if (finished) throw new Error(`bug: step ${index} (${step.label}) finished twice`);
      finished = true;
      const registers = returned === undefined ? {} : { returned: returnedRegisters(returned) };
      this.ctx.record({ event: 'step', index, label: step.label, passed, detail, startNs, endNs: this.ctx.clock.nowNs(), ...registers });
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
    this.awaiting.awaitIdle(this.faults, (quiet) => this.ctx.record({ event: 'done', quiet, atNs: this.ctx.clock.nowNs() }));
  }

  private execute(step: Step, finish: Finish): void {
    switch (step.kind) {
      case 'call':
        return this.call(step, finish);
      case 'await-interrupt':
      case 'await-callback':
      case 'await-probe':
      case 'await-message':
        return this.awaiting.awaitEvent(step, finish);
      case 'await-call':
        return this.awaitCall(step, finish);
      case 'await-idle':
        return this.awaiting.awaitIdle(this.faults, finish);
      case 'expect-none-interrupt':
        return this.awaiting.expectNone(step, finish);
      case 'vm':
        return this.request('hypervisor', `vm-${step.op}`, step.op === 'create' ? vmCreateRequest(this.config, step.vm) : { name: step.vm }, finish);
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
        return this.faults.apply(step.fault, `step-${step.index}`, finish, `step ${step.index}`);
      default:
        return assertNever(step);
    }
  }

  // ---------------------------------------------------------------- calls

  /**
   * A call step: made, then judged on its answer; with `async`, made and passed at once, its
   * answer kept for the step that awaits or answers it; with `answers`, judged on its own return
   * and then on the answer to the pending request it answers.
   */
  private call(step: CallStep, finish: Finish): void {
    const name = step.async;
    if (name !== null) {
      this.pending.made(name);
      this.makeCall(step, (answer) => {
        this.ctx.record({ event: 'pending-call-answer', name, step: step.index, ...(answer.ok ? { w0: hex(answer.regs[0] ?? 0n) } : { failed: answer.detail }) });
        this.pending.answered(name, { ...answer, atNs: this.ctx.clock.nowNs() });
      });
      return finish(true, `made as ${name}; a later step takes its answer`);
    }
    this.makeCall(step, (answer) => {
      if (!answer.ok) return finish(false, answer.detail);
      const rx = this.readRxBuffer(step.abi, step.expect, step.from, answer);
      if (typeof rx === 'string') return finish(false, rx, answer.regs);
      const verdict = checkCallStep(step, answer.regs, rx);
      if (!verdict.passed || step.answers === null) return finish(verdict.passed, verdict.detail, answer.regs);
      this.judgePendingAnswer(step.answers, (passed, detail) => finish(passed, `${verdict.detail}; ${detail}`, answer.regs));
    });
  }

  /**
   * What the caller finds in its RX buffer after a successful call whose expectation reads it
   * (rx-buffer.ts): what the return carried into it; why it cannot be read, as a detail.
   */
  private readRxBuffer(abi: string | null, expect: Expectation, from: Endpoint, answer: Extract<CallAnswer, { ok: true }>): Record<string, unknown> | string {
    const expected = rxFieldsExpected(abi, expect);
    if (expected.length === 0 || decodeResult(answer.regs).kind !== 'success') return {};
    const read = rxFields(answer.memory, rxOwnerOf(from));
    const missing = rxMissing(expected, read, from.name);
    return missing === null ? read : `success, but ${missing}`;
  }

  /** Makes the step's call as its endpoint, its TX buffer holding `tx`; `onAnswer` runs once, with the return or why there is none. */
  private makeCall(step: CallStep, onAnswer: (answer: CallAnswer) => void): void {
    const onOutcome = (outcome: CallOutcome) => onAnswer(outcome.ok ? outcome : { ok: false, detail: `the call failed: ${outcome.reason} (${outcome.detail})` });
    const cpu = step.vcpu % this.config.cpus;
    const memory = step.tx === null ? null : txWrite(rxOwnerOf(step.from), step.tx);
    switch (step.from.kind) {
      case 'vm':
      case 'host':
        return this.guestCall(step, onAnswer);
      case 'sp':
        return this.ctx.call('spmc', { conduit: 'relay', endpoint: step.from.id, vcpu: step.vcpu, cpu, regs: step.regs, memory }, onOutcome);
      case 'hypervisor':
        return this.ctx.call('hypervisor', { conduit: 'relay', endpoint: 0, vcpu: step.vcpu, cpu, regs: step.regs, memory }, onOutcome);
    }
  }

  /** A VM's (or the host's) driver makes the call on its vCPU (services/guest/controls.ts `call`). */
  private guestCall(step: CallStep, onAnswer: (answer: CallAnswer) => void): void {
    const label = `step-${step.index}`;
    const guest = step.from.name;
    const regs = step.regs.map((r) => `0x${r.toString(16)}`);
    this.ctx.send(guest, { kind: 'control', op: 'call', data: { regs, vcpu: step.vcpu, label, ...(step.tx === null ? {} : { tx: step.tx }) } });
    this.awaiting.awaitControl(guest, 'call-result', label, (data) => {
      if (data['ok'] !== true) return onAnswer({ ok: false, detail: `${guest} refused the call: ${String(data['why'])}` });
      const returned = data['regs'];
      if (!Array.isArray(returned) || returned.length === 0) return onAnswer({ ok: false, detail: `${guest}'s call did not return: ${String(data['result'])}` });
      const memory = data['memory'] ?? null;
      if (bufferWriteProblem(memory) !== undefined) return onAnswer({ ok: false, detail: `${guest}'s call-result carries malformed memory: ${String(bufferWriteProblem(memory))}` });
      onAnswer({ ok: true, regs: returned.map((r) => BigInt(r as bigint | number | string)), memory: memory as BufferWrite | null });
    }, (_passed, detail) => onAnswer({ ok: false, detail }));
  }

  /** `await: call`: the pending call's answer, judged; with `within`, it must come that soon after the step began. */
  private awaitCall(step: Extract<Step, { kind: 'await-call' }>, finish: Finish): void {
    const { withinNs, call } = step;
    const startNs = this.ctx.clock.nowNs();
    let timer: number | null = null;
    let open = true;
    const end: Finish = (passed, detail) => {
      if (!open) return;
      open = false;
      if (timer !== null) this.ctx.cancelTimer(timer);
      finish(passed, detail);
    };
    this.judgePendingAnswer(call, (passed, detail, atNs) => {
      const late = withinNs !== null && atNs - startNs > withinNs;
      end(passed && !late, late ? `${detail}, but ${ms(atNs - startNs)} after the await began, later than ${ms(withinNs)}` : detail);
    });
    if (open && withinNs !== null) timer = this.ctx.setTimer(withinNs, () => end(false, `no answer to ${call.name} within ${ms(withinNs)}`));
  }

  /** The pending call's answer judged by its expectation, when it comes (now, if it came). */
  private judgePendingAnswer(call: PendingCallJudgement, judged: (passed: boolean, detail: string, atNs: number) => void): void {
    this.pending.whenAnswered(call.name, (answer) => {
      if (!answer.ok) return judged(false, `the answer to ${call.name}: ${answer.detail}`, answer.atNs);
      const verdict = checkExpectation(call.fid, answer.regs, call.expect);
      judged(verdict.passed, `the answer to ${call.name}: ${verdict.detail}`, answer.atNs);
    });
  }

  // ---------------------------------------------------------------- world changes

  /** A control request answered by `<op>-result` with `ok`. */
  private request<Op extends AnsweredOp>(to: string, op: Op, data: ControlData<Op>, finish: Finish): void {
    this.ctx.send(to, controlMessage(op, data));
    this.awaiting.awaitControl(to, `${op}-result`, '', (answer) => {
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
    const workload = new Workload(this.ctx, step, target, this.awaiting);
    this.workloads.push(workload);
    workload.start((summary) => {
      const { drainNs } = step;
      if (drainNs === null) return finish(summary.refused === 0, shown(summary));
      this.drain(step.label, drainNs, workload, (drained) => finish(summary.refused === 0, `${shown(summary)}; ${drained}`));
    });
  }

  /**
   * After a load workload (one with `drain:`) the world runs on until it is quiet, every bit it
   * made pending seen delivered (or, with one not seen delivered, quiet for longer: nothing left
   * in flight that could deliver it), or the drain's bound passes. The `drain` record marks the
   * end: no-lost-notification judges the workload's notifications there, so one delivered late
   * is late (a latency figure), not lost.
   */
  private drain(label: string, boundNs: number, workload: Workload, done: (detail: string) => void): void {
    const startNs = this.ctx.clock.nowNs();
    this.awaiting.awaitQuiet(boundNs, this.faults, (quiet) => {
      const endNs = this.ctx.clock.nowNs();
      const settled = workload.settled();
      this.ctx.record({ event: 'drain', label, startNs, endNs, quiet, settled, boundNs });
      const how = !quiet ? `the drain ended after ${ms(boundNs)} with the world still busy` : settled ? `drained: quiet ${ms(endNs - startNs)} after the last arrival` : `the world went quiet ${ms(endNs - startNs)} after the last arrival with notifications still pending`;
      done(how);
    }, () => workload.settled());
  }
}

/** Steps that wait for what an earlier step caused: they do not move the time their events count from. */
function isAwait(step: Step): boolean {
  return (
    step.kind === 'await-interrupt' ||
    step.kind === 'await-callback' ||
    step.kind === 'await-idle' ||
    step.kind === 'await-probe' ||
    step.kind === 'await-message' ||
    step.kind === 'await-call' ||
    step.kind === 'expect-none-interrupt'
  );
}

/** A step kind added to the scenario format but not here fails to compile, instead of hanging the run. */
function assertNever(step: never): never {
  throw new Error(`bug: a step of unknown kind ${String((step as { kind: unknown }).kind)}`);
}

export const create: ComponentFactory<OrchestratorConfig> = (ctx, config) => new Orchestrator(ctx, config);
