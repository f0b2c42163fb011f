/**
 * Test-world callee: answers every call with FFA_SUCCESS_64 and the caller's x1..x17 echoed back,
 * so a round trip proves every register crossed both ways bit for bit.
 */
import type { Component, ComponentContext, ComponentFactory } from '../component.ts';
import type { Message } from '../../protocol/messages.ts';

/** FFA_SUCCESS_64 (docs/ffa-reference.md §1.1). Local to the test world: it does not depend on shared/ffa. */
const SUCCESS_64 = 0xc4000061n;

export interface EchoConfig {
  /** Record a semantic event per call answered (the history then shows the callee's view). */
  recordCalls: boolean;
}

export const create: ComponentFactory<EchoConfig> = (ctx: ComponentContext, config: EchoConfig): Component => ({
  onStart() {},
  onMessage(from: string, message: Message) {
    if (message.kind !== 'call') {
      ctx.log.warn({ from, kind: message.kind }, 'echo ignores non-call messages');
      return;
    }
    if (config.recordCalls) ctx.record({ event: 'echo', from, id: message.id, vcpu: message.vcpu });
    ctx.reply(from, message, [SUCCESS_64, ...message.regs.slice(1)]);
  },
});
