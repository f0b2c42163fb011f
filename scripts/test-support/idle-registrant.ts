/**
 * Test component: a guest that registers with the hypervisor and then does nothing (it never
 * probes its FF-A driver, so it never records `done`), or advertises a URL where nothing listens.
 * The attach must leave it out of the run and name it (services/orchestrator/run/attach-guests.ts).
 */
import type { Component, ComponentContext, ComponentFactory } from '../../shared/runtime/component.ts';

export interface IdleRegistrantConfig {
  hypervisor: string;
  /** The URL it advertises: its own (it answers, but never probes) or a dead one. */
  url: string;
  vcpus: number;
}

export const create: ComponentFactory<IdleRegistrantConfig> = (ctx: ComponentContext, config: IdleRegistrantConfig): Component => ({
  onStart() {
    ctx.send(config.hypervisor, { kind: 'control', op: 'register', data: { vcpus: config.vcpus, url: config.url, driver: null } });
  },
  onMessage(from, message) {
    ctx.record({ event: 'message-ignored', from, kind: message.kind });
  },
});
