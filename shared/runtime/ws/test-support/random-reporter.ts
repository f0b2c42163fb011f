/** Test component: records its first draws from ctx.random, to compare the streams of two runtimes. */
import type { Component, ComponentContext, ComponentFactory } from '../../component.ts';

export const create: ComponentFactory<unknown> = (ctx: ComponentContext): Component => ({
  onStart() {
    ctx.record({ event: 'draws', values: [ctx.random.nextU32(), ctx.random.nextU32(), ctx.random.intBelow(1000)] });
    ctx.record({ event: 'done' });
  },
  onMessage() {},
});
