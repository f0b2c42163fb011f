/**
 * Test-world caller: on each of `vcpus` vCPUs, issues `callsPerVcpu` calls to `target` one after
 * another (a vCPU waits for its return before the next call, as an SMC does), all vCPUs at once.
 * Each vCPU step is its own timer event, after a think time drawn from the component's seeded
 * stream, because vCPUs run independently: the order in which their calls interleave is then
 * the scheduler's choice under sim (per seed) and the machine's under ws.
 */
import type { CallOutcome, Component, ComponentContext, ComponentFactory } from '../component.ts';
import type { Message, RegisterFile } from '../../protocol/messages.ts';

export interface CallerConfig {
  target: string;
  endpoint: number;
  vcpus: number;
  callsPerVcpu: number;
  /** x0 of each call. */
  fid: number;
  /** Upper bound of the think time before each call, drawn uniformly (0: none). */
  thinkNsMax: number;
}

const ALL_ONES = (1n << 64n) - 1n;

/** x1..x17 of call `n` on `vcpu`: all-ones, a walking pattern, and the call's coordinates. */
function argumentRegisters(fid: number, vcpu: number, n: number): RegisterFile {
  const regs: RegisterFile = [BigInt(fid), ALL_ONES];
  for (let i = 2; i < 18; i++) regs.push(BigInt.asUintN(64, (0x0123_4567_89ab_cdefn << BigInt(i)) ^ BigInt(vcpu * 1000 + n)));
  return regs;
}

export const create: ComponentFactory<CallerConfig> = (ctx: ComponentContext, config: CallerConfig): Component => {
  let vcpusDone = 0;
  const issue = (vcpu: number, n: number): void => {
    if (n >= config.callsPerVcpu) {
      ctx.record({ event: 'caller-done', vcpu });
      if (++vcpusDone === config.vcpus) ctx.record({ event: 'done' });
      return;
    }
    const regs = argumentRegisters(config.fid, vcpu, n);
    ctx.call(config.target, { conduit: 'smc', endpoint: config.endpoint, vcpu, cpu: vcpu, regs }, (outcome: CallOutcome) => {
      const echoed = outcome.ok && outcome.regs.slice(1).every((r, i) => r === regs[i + 1]);
      ctx.record({ event: 'caller-return', vcpu, n, ok: outcome.ok, echoed });
      step(vcpu, n + 1);
    });
  };
  const step = (vcpu: number, n: number): void => {
    const thinkNs = config.thinkNsMax > 0 ? ctx.random.intBelow(config.thinkNsMax + 1) : 0;
    ctx.setTimer(thinkNs, () => issue(vcpu, n));
  };
  return {
    onStart() {
      for (let vcpu = 0; vcpu < config.vcpus; vcpu++) step(vcpu, 0);
    },
    onMessage(from: string, message: Message) {
      ctx.log.warn({ from, kind: message.kind }, 'caller ignores unsolicited messages');
    },
  };
};
