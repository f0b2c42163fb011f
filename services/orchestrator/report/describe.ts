/**
 * One-line names for what a history holds: an FF-A call by its ABI, a return by what it means
 * (decodeResult), an interrupt frame by its op and INTID. The trace and the sequence view both
 * speak this way, so a reader sees the same words in either.
 */
import { decodeResult } from '../../../shared/ffa/errors.ts';
import { abiNameOf } from '../../../shared/ffa/function-ids.ts';
import { hex } from '../../../shared/ffa/format.ts';
import type { RegisterFile } from '../../../shared/ffa/registers.ts';
import type { HistoryEvent } from '../../../shared/runtime/history.ts';
import type { InterruptMessage, Message } from '../../../shared/protocol/messages.ts';
import { bigintAsHex } from './escape.ts';

/** The ABI of a call's x0, or its function ID in hex when no ABI has it. */
export function abiOfRegs(regs: RegisterFile): string {
  const fid = regs[0] ?? 0n;
  return abiNameOf(fid) ?? `fid ${hex(fid)}`;
}

/** "FFA_SUCCESS_32", "FFA_ERROR(DENIED)", "FFA_MSG_SEND_DIRECT_RESP_32", or w0 in hex. */
export function resultOfRegs(regs: RegisterFile): string {
  const decoded = decodeResult(regs);
  if (decoded.kind === 'error') return `FFA_ERROR(${decoded.name ?? decoded.code})`;
  const fid = decoded.fid;
  return abiNameOf(fid) ?? hex(BigInt.asUintN(32, BigInt(fid)));
}

/** Where an interrupt frame points: a physical CPU, or a VM's vCPU. */
export function irqTarget(irq: InterruptMessage): string {
  if (irq.vm >= 0) return irq.vcpu >= 0 ? `vm ${irq.vm} vcpu ${irq.vcpu}` : `vm ${irq.vm}`;
  return irq.cpu >= 0 ? `cpu ${irq.cpu}` : 'any cpu';
}

/** A message in a few words: "call FFA_NOTIFICATION_GET #12", "irq raise 8 → cpu 0". */
export function describeMessage(message: Message): string {
  switch (message.kind) {
    case 'call':
      return `call ${abiOfRegs(message.regs)} #${message.id} (${message.conduit}, vcpu ${message.vcpu}, cpu ${message.cpu})`;
    case 'return':
      return `return ${resultOfRegs(message.regs)} #${message.id}`;
    case 'irq':
      return `irq ${message.op} ${message.intid} (${message.group}) → ${irqTarget(message)}`;
    case 'lifecycle':
      return `lifecycle ${message.event} ${message.subject} [${message.args.join(', ')}]`;
    case 'control':
      return `control ${message.op} ${shortJson(message.data, 80)}`;
    case 'protocol-error':
      return `protocol-error ${message.code}: ${message.reason}`;
  }
}

/** JSON of a value (bigints in hex), cut to `max` characters. */
export function shortJson(value: unknown, max: number): string {
  let text: string;
  try {
    text = JSON.stringify(value, bigintAsHex) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A record's name: its `event` field when it has one. */
export function recordName(data: Record<string, unknown>): string {
  return typeof data.event === 'string' ? data.event : 'record';
}

/** Any history event in one line, as the sequence view and the evidence tables show it. */
export function describeEvent(event: HistoryEvent): string {
  switch (event.type) {
    case 'send':
    case 'deliver':
      return `${event.type} ${event.from} → ${event.to}: ${describeMessage(event.message)}`;
    case 'fault':
      return `fault ${event.action} (rule ${event.rule}) ${event.from} → ${event.to}: ${describeMessage(event.message)}`;
    case 'refused':
      return `refused (${event.reason}) ${event.from} → ${event.to}: ${describeMessage(event.message)}`;
    case 'component':
      return `${event.component} ${event.event}${event.detail ? `: ${event.detail}` : ''}`;
    case 'call-failed':
      return `${event.component}: call #${event.id} to ${event.to} failed (${event.reason})`;
    case 'record': {
      const { event: _name, ...rest } = event.data;
      return `${event.component} ${recordName(event.data)} ${shortJson(rest, 160)}`;
    }
  }
}
