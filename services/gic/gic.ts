/**
 * The GIC broker (docs/design.md §2, the `gic` row): a GICv3 with a distributor, one
 * redistributor and CPU interface per physical CPU, and a virtual CPU interface per VM vCPU.
 * Components raise, acknowledge and end interrupts through it; it delivers each interrupt to the
 * components subscribed to its target, within the rights config.rights gives them. Every raise,
 * merge, hold, release, delivery, acknowledge, EOI and refusal is recorded in the history.
 *
 * The message protocol is in dispatcher.ts; the state machine in interrupt-state.ts.
 */
import type { Component, ComponentContext, ComponentFactory } from '../../shared/runtime/component.ts';
import type { Message } from '../../shared/protocol/messages.ts';
import { type GicConfig, type ValidGicConfig, validateGicConfig } from './config.ts';
import { Dispatcher } from './dispatcher.ts';
import { Distributor } from './distributor.ts';
import { PhysicalInterrupts } from './physical-interrupts.ts';
import { redistributorsFor } from './redistributor.ts';
import { Subscriptions } from './subscriptions.ts';
import { VirtualInterfaces } from './virtual-interface.ts';
import { VirtualInterrupts } from './virtual-interrupts.ts';

export type { GicConfig, GicRights, InterruptSetting } from './config.ts';

/** The configuration as printed at start, so a run names everything needed to replay it. */
function startRecord(config: ValidGicConfig): Record<string, unknown> {
  return {
    cpus: config.cpus,
    spis: config.spis,
    donatedSgis: [...config.donatedSgis],
    sriIntid: config.sriIntid,
    sriPriority: config.sriPriority,
    defaultPriority: config.defaultPriority,
    maxVms: config.maxVms,
    maxVcpusPerVm: config.maxVcpusPerVm,
    listRegisters: config.listRegisters,
    heldQueueMax: config.heldQueueMax,
    virtualPriority: config.virtualPriority,
    rights: [...config.rights.keys()],
  };
}

function dispatcherFor(ctx: ComponentContext, config: ValidGicConfig): Dispatcher {
  const subscriptions = new Subscriptions(config.rights, config.cpus);
  const physical = new PhysicalInterrupts(new Distributor(config), redistributorsFor(config.cpus), subscriptions, ctx);
  const interfaces = new VirtualInterfaces(config.maxVms, config.maxVcpusPerVm, config.listRegisters, config.heldQueueMax);
  const virtual = new VirtualInterrupts(interfaces, subscriptions, config.virtualPriority, config.cpus, ctx);
  return new Dispatcher(physical, virtual, ctx);
}

export const create: ComponentFactory<GicConfig> = (ctx: ComponentContext, input: GicConfig): Component => {
  const config = validateGicConfig(input);
  const dispatcher = dispatcherFor(ctx, config);
  return {
    onStart() {
      ctx.record({ event: 'gic-start', ...startRecord(config) });
    },
    onMessage(from: string, message: Message) {
      dispatcher.dispatch(from, message);
    },
  };
};
