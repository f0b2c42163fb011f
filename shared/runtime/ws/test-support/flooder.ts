/**
 * Test component for backpressure: on start it sends `count` control frames of about 4 KiB to
 * `target` as fast as it can, then one call, and records what the call got back.
 */
import type { Component, ComponentContext, ComponentFactory } from '../../component.ts';
import { REGISTER_COUNT } from '../../../protocol/messages.ts';

export interface FlooderConfig {
  target: string;
  count: number;
}

const PAYLOAD = 'x'.repeat(4000);

export const create: ComponentFactory<FlooderConfig> = (ctx: ComponentContext, config: FlooderConfig): Component => ({
  onStart() {
    for (let i = 0; i < config.count; i++) ctx.send(config.target, { kind: 'control', op: 'flood', data: { i, payload: PAYLOAD } });
    const regs = new Array<bigint>(REGISTER_COUNT).fill(0n);
    ctx.call(config.target, { conduit: 'smc', endpoint: 1, vcpu: 0, cpu: 0, regs }, (outcome) => {
      ctx.record({ event: 'flood-call', ok: outcome.ok, reason: outcome.ok ? '' : outcome.reason });
    });
  },
  onMessage() {},
});
