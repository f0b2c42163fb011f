/** Test component: one call to `target`, then `{ event: 'done' }` with whether it was echoed. */
import type { Component, ComponentContext, ComponentFactory } from '../../component.ts';
import { REGISTER_COUNT } from '../../../protocol/messages.ts';

export interface OneCallConfig {
  target: string;
}

export const create: ComponentFactory<OneCallConfig> = (ctx: ComponentContext, config: OneCallConfig): Component => ({
  onStart() {
    const regs = Array.from({ length: REGISTER_COUNT }, (_, i) => (1n << 64n) - 1n - BigInt(i));
    ctx.call(config.target, { conduit: 'hvc', endpoint: 2, vcpu: 0, cpu: 0, regs }, (outcome) => {
      const echoed = outcome.ok && outcome.regs.slice(1).every((r, i) => r === regs[i + 1]);
      ctx.record({ event: 'done', ok: outcome.ok, echoed });
    });
  },
  onMessage() {},
});
