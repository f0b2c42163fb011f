/**
 * Test component: the shared scripted driver's calls (shared/runtime/test-world/driver.ts, same
 * `driver-result` records, so driverResults() reads them), plus control-message steps, which a
 * workload sends to an SP behaviour between calls. A control step is sent on the same link as the
 * calls, so it reaches the SPMC after the previous call's return and before the next call.
 */
import type { CallOutcome, Component, ComponentContext, ComponentFactory } from '../../../shared/runtime/component.ts';
import type { Message } from '../../../shared/runtime/messages.ts';
import type { DriverStep } from '../../../shared/runtime/test-world/driver.ts';

export type ScriptStep = ({ kind: 'call' } & DriverStep) | { kind: 'control'; to: string; op: string; data: unknown; label: string };

export interface ScriptedEndpointConfig {
  steps: ScriptStep[];
}

export const create: ComponentFactory<ScriptedEndpointConfig> = (ctx: ComponentContext, config: ScriptedEndpointConfig): Component => {
  const run = (index: number): void => {
    const step = config.steps[index];
    if (!step) {
      ctx.record({ event: 'done' });
      return;
    }
    if (step.kind === 'control') {
      ctx.send(step.to, { kind: 'control', op: step.op, data: step.data });
      ctx.record({ event: 'script-control', index, label: step.label });
      run(index + 1);
      return;
    }
    ctx.setTimer(step.delayNs ?? 0, () => {
      const request = { conduit: step.conduit, endpoint: step.endpoint, vcpu: step.vcpu, cpu: step.cpu, regs: step.regs };
      ctx.call(step.to, request, (outcome: CallOutcome) => {
        if (outcome.ok) ctx.record({ event: 'driver-result', index, label: step.label, ok: true, regs: outcome.regs });
        else ctx.record({ event: 'driver-result', index, label: step.label, ok: false, reason: outcome.reason });
        run(index + 1);
      });
    });
  };
  return {
    onStart: () => run(0),
    onMessage(from: string, message: Message) {
      ctx.record({ event: 'driver-received', from, message });
    },
  };
};
