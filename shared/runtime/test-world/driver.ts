/**
 * A scripted driver: issues a fixed list of calls, one after another (each waits for its
 * return), and records every result and every message it receives. Tests and, later, the
 * scenario runner use it to drive components exactly as an endpoint would, through the runtime,
 * never by poking a component's internals. It records `{ event: 'done' }` when the script ends.
 *
 * Each call step names the component to call and the caller identity the call carries: a VM or
 * host on the SMC/HVC conduit, or an SP on the `relay` conduit (an SP's call as its SPMC receives
 * it). A control step sends a one-way control message (e.g. a workload asking an SP behaviour to
 * send); on the same link as the calls, it arrives after the previous call's return and before the
 * next call.
 *
 * The steps run on the scripted-actor kernel (../scripted-actor): the driver awaits only its
 * calls' returns, so it keeps nothing it receives.
 */
import type { CallOutcome, Component, ComponentContext, ComponentFactory } from '../component.ts';
import type { BufferWrite, Conduit, Message, RegisterFile, SentMessage } from '../../protocol/messages.ts';
import type { HistoryEntry } from '../history.ts';
import { Awaiting, runScript, type StepPerformer } from '../scripted-actor/index.ts';

export interface DriverStep {
  to: string;
  conduit: Conduit;
  endpoint: number;
  vcpu: number;
  cpu: number;
  regs: RegisterFile;
  /** The caller's TX buffer as the callee reads it (messages.ts CallMessage.memory); absent: none. */
  memory?: BufferWrite;
  /** Shown in the history beside the result. */
  label: string;
  /** Wait this long (runtime time) before the call. */
  delayNs?: number;
}

/** A one-way control message, recorded as `driver-control`: any op and data, not only control.ts's. */
export interface DriverControlStep {
  control: string;
  to: string;
  data: unknown;
  label: string;
}

export interface DriverConfig {
  steps: (DriverStep | DriverControlStep)[];
}

export interface DriverResult {
  index: number;
  label: string;
  ok: boolean;
  /** The returned registers when ok; absent otherwise. */
  regs?: RegisterFile;
  /** What the call wrote into an RX buffer on the caller's side (null: nothing); absent when not ok. */
  memory?: BufferWrite | null;
  reason?: string;
}

/** One call in flight at a time, and nothing kept. */
const DRIVER_LIMITS = { inboxMax: 1, waitersMax: 1 };

export const create: ComponentFactory<DriverConfig> = (ctx: ComponentContext, config: DriverConfig): Component => {
  const awaiting = new Awaiting<never>(ctx, DRIVER_LIMITS);
  const perform: StepPerformer<DriverStep | DriverControlStep> = (step, index, next) => {
    if ('control' in step) {
      // Sent as given, unchecked (tests send unknown ops and malformed data on purpose).
      ctx.send(step.to, { kind: 'control', op: step.control, data: step.data } as SentMessage);
      ctx.record({ event: 'driver-control', index, label: step.label });
      return next();
    }
    ctx.setTimer(step.delayNs ?? 0, () => {
      const request = { conduit: step.conduit, endpoint: step.endpoint, vcpu: step.vcpu, cpu: step.cpu, regs: step.regs, memory: step.memory ?? null };
      awaiting.call(step.label, step.to, request, (outcome: CallOutcome) => {
        if (outcome.ok) ctx.record({ event: 'driver-result', index, label: step.label, ok: true, regs: outcome.regs, memory: outcome.memory });
        else ctx.record({ event: 'driver-result', index, label: step.label, ok: false, reason: outcome.reason });
        next();
      });
    });
  };
  return {
    onStart: () => runScript(config.steps, perform, () => ctx.record({ event: 'done' })),
    onMessage(from: string, message: Message) {
      ctx.record({ event: 'driver-received', from, message });
    },
  };
};

/** The driver's results, in step order, from a run's history. */
export function driverResults(entries: readonly HistoryEntry[], driver = 'driver'): DriverResult[] {
  return entries.flatMap((entry) => {
    const { event } = entry;
    if (event.type !== 'record' || event.component !== driver || event.data.event !== 'driver-result') return [];
    return [event.data as unknown as DriverResult];
  });
}
