/**
 * Test component with a deliberate bug: it records an event, then throws, either in onStart or
 * from a timer shortly after. The ws supervisor must record the crash and not hang.
 */
import type { Component, ComponentContext, ComponentFactory } from '../../component.ts';

export interface CrasherConfig {
  when: 'start' | 'timer';
}

export const create: ComponentFactory<CrasherConfig> = (ctx: ComponentContext, config: CrasherConfig): Component => {
  const crash = (): never => {
    ctx.record({ event: 'about-to-crash' });
    throw new Error('deliberate bug in the crasher component');
  };
  return {
    onStart() {
      if (config.when === 'start') crash();
      ctx.setTimer(5_000_000, crash);
    },
    onMessage() {},
  };
};
