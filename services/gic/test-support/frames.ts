/** Builders for the frames and script steps the GIC's tests send (see irq-actor.ts). */
import type { InterruptGroup, InterruptMessage, InterruptOp, Message } from '../../../shared/protocol/messages.ts';
import type { ActorStep, MessagePattern } from './irq-actor.ts';

/** A physical interrupt frame: vm = vcpu = -1. */
export function physical(op: InterruptOp, intid: number, cpu: number, group: InterruptGroup = 'nonsecure'): InterruptMessage {
  return { kind: 'irq', op, intid, group, cpu, vm: -1, vcpu: -1 };
}

/** A virtual interrupt frame: cpu = -1. */
export function virtual(op: InterruptOp, intid: number, vm: number, vcpu: number): InterruptMessage {
  return { kind: 'irq', op, intid, group: 'nonsecure', cpu: -1, vm, vcpu };
}

export function lifecycle(event: string, ...args: number[]): Message {
  return { kind: 'lifecycle', event, subject: 'vm', args };
}

export function configure(data: Record<string, unknown>): Message {
  return { kind: 'control', op: 'gic-configure', data };
}

export const send = (message: Message, to?: string): ActorStep => (to === undefined ? { do: 'send', message } : { do: 'send', message, to });

/** Wait for a delivery of this physical INTID on this CPU. */
export const awaitPhysical = (intid: number, cpu: number): ActorStep => ({
  do: 'await',
  match: { kind: 'irq', op: 'deliver', intid, cpu, vm: -1 },
});

/** Wait for a delivery of this virtual INTID to this vCPU. */
export const awaitVirtual = (intid: number, vm: number, vcpu: number): ActorStep => ({
  do: 'await',
  match: { kind: 'irq', op: 'deliver', intid, vm, vcpu },
});

/** A handler's whole turn: acknowledge, then end (the frames already built for one interrupt). */
export const ackAndEnd = (ack: InterruptMessage, eoi: InterruptMessage): ActorStep[] => [send(ack), send(eoi)];

/** Wait for the next delivery of this physical INTID on this CPU, then acknowledge and end it. */
export const handlePhysical = (intid: number, cpu: number): ActorStep[] => [awaitPhysical(intid, cpu), ...ackAndEnd(physical('ack', intid, cpu), physical('eoi', intid, cpu))];

/** Wait for the next delivery of this virtual INTID to this vCPU, then acknowledge and end it. */
export const handleVirtual = (intid: number, vm: number, vcpu: number): ActorStep[] => [awaitVirtual(intid, vm, vcpu), ...ackAndEnd(virtual('ack', intid, vm, vcpu), virtual('eoi', intid, vm, vcpu))];

export const awaitMatch = (match: MessagePattern): ActorStep => ({ do: 'await', match });
export const awaitRefusal = (code: string): ActorStep => ({ do: 'await', match: { kind: 'protocol-error', code } });
export const sync: ActorStep = { do: 'sync' };
export const settle: ActorStep = { do: 'settle' };
export const signal = (to: string, name: string): ActorStep => ({ do: 'signal', to, name });
export const awaitSignal = (name: string): ActorStep => ({ do: 'await-signal', name });
