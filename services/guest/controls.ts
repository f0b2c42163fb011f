/**
 * Control messages from config.controllers (tests, scenarios, the orchestrator): client-driver
 * calls of the notifier API, and raw FF-A calls. Each runs as a work item on the vCPU the data
 * names (default 0), is recorded, and is answered to the sender with `<op>-result`:
 *   notify-request    {sender, id, perVcpu?, vcpu?}           → notifier-result {result: errno}
 *   notify-relinquish {sender, id, vcpu?}                     → notifier-result
 *   notify-send       {receiver, id, perVcpu?, targetVcpu?, vcpu?} → notifier-result
 *   sched-recv-register {partition}                           → notifier-result
 *   call              {abi, args?} | {regs}, tx?, vcpu?, label? → raw-result {result, regs, memory}
 * (vcpu-online / vcpu-offline are the guest's own: guest.ts.)
 */
import { bufferWriteProblem, codecForAbi, hex, isRegisterFile, registers, REGISTER_COUNT, type BufferContent, type RegisterFile } from '../../shared/ffa/index.ts';
import { assertNever } from '../../shared/protocol/assert-never.ts';
import type { ControlOp, NotifierAnswer, RawCallAnswer } from '../../shared/protocol/control.ts';
import type { ControlMessage } from '../../shared/protocol/messages.ts';
import { describeResult, errnoName } from './conduit.ts';
import type { DriverState } from './driver-state.ts';
import { notifyRelinquish, notifyRequest, notifySend, schedRecvCallbackRegister } from './notifier-api.ts';

/** The driver's control ops (shared/protocol/control.ts declares their data and answers). */
export const DRIVER_CONTROL_OPS = ['notify-request', 'notify-relinquish', 'notify-send', 'sched-recv-register', 'call'] as const satisfies readonly ControlOp[];
export type DriverControlOp = (typeof DRIVER_CONTROL_OPS)[number];

type Data = Record<string, unknown>;
/** What a driver op answers its requester, before the guest adds `ok: true`. */
export type DriverAnswer = Omit<NotifierAnswer, 'ok'> | Omit<RawCallAnswer, 'ok'>;
type Reply = (answer: DriverAnswer) => void;

function isData(value: unknown): value is Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integerField(data: Data, key: string, max: number, fallback?: number): number | null {
  const value = data[key] ?? fallback;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max ? value : null;
}

function booleanField(data: Data, key: string): boolean | null {
  const value = data[key] ?? false;
  return typeof value === 'boolean' ? value : null;
}

/** A register value given as a bigint, a safe integer or a "0x…" string. */
function registerValue(value: unknown): bigint | null {
  if (typeof value === 'bigint') return value >= 0n && value < 1n << 64n ? value : null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^0x[0-9a-f]{1,16}$/i.test(value)) return BigInt(value);
  return null;
}

/** The registers of a `call`: raw values, or an ABI's codec with named args. */
function callRegisters(data: Data): RegisterFile | string {
  if (Array.isArray(data['regs'])) {
    const values = data['regs'].map(registerValue);
    if (values.length === 0 || values.length > REGISTER_COUNT || values.some((v) => v === null)) return `regs must be 1..${REGISTER_COUNT} register values`;
    const [fid = 0n, ...rest] = values as bigint[];
    return registers(fid, ...rest);
  }
  const codec = typeof data['abi'] === 'string' ? codecForAbi(data['abi']) : null;
  if (!codec) return 'data needs regs or a known abi';
  try {
    const regs = codec.encodeCall(isData(data['args']) ? data['args'] : {});
    return isRegisterFile(regs) ? regs : 'the args did not encode';
  } catch (error) {
    if (error instanceof RangeError) return error.message;
    throw error;
  }
}

/** What a control op will run, or why it will not. */
type Plan = { readonly vcpu: number; readonly run: (d: DriverState, vcpu: number, reply: Reply, finished: () => void) => void } | { readonly why: string };

type NotifierFields = Omit<NotifierAnswer, 'ok' | 'op' | 'result' | 'errno'>;

function errnoReply(d: DriverState, op: NotifierAnswer['op'], fields: NotifierFields, reply: Reply, finished: () => void): (errno: number) => void {
  return (errno) => {
    const data = { ...fields, op, result: errno, errno: errnoName(errno) };
    d.ctx.record({ event: 'notifier-result', ...data });
    reply(data);
    finished();
  };
}

/** Turns a control message into a plan; `vcpus` bounds the vCPU indexes. */
export function planControl(op: DriverControlOp, message: ControlMessage, vcpus: number): Plan {
  const data = message.data;
  if (!isData(data)) return { why: 'data must be an object' };
  const vcpu = integerField(data, 'vcpu', vcpus - 1, 0);
  if (vcpu === null) return { why: `data.vcpu must be a vCPU below ${vcpus}` };
  const id = integerField(data, 'id', 0xffff);
  switch (op) {
    case 'notify-request': {
      const sender = integerField(data, 'sender', 0xffff);
      const perVcpu = booleanField(data, 'perVcpu');
      if (sender === null || id === null || perVcpu === null) return { why: 'data needs sender, id and an optional perVcpu' };
      return { vcpu, run: (d, cpu, reply, done) => notifyRequest(d, cpu, sender, perVcpu, id, () => {}, errnoReply(d, op, { sender, id, perVcpu, vcpu: cpu }, reply, done)) };
    }
    case 'notify-relinquish': {
      const sender = integerField(data, 'sender', 0xffff);
      if (sender === null || id === null) return { why: 'data needs sender and id' };
      return { vcpu, run: (d, cpu, reply, done) => notifyRelinquish(d, cpu, sender, id, errnoReply(d, op, { sender, id, vcpu: cpu }, reply, done)) };
    }
    case 'notify-send': {
      const receiver = integerField(data, 'receiver', 0xffff);
      const perVcpu = booleanField(data, 'perVcpu');
      const target = integerField(data, 'targetVcpu', 0xffff, 0);
      if (receiver === null || id === null || perVcpu === null || target === null) return { why: 'data needs receiver, id, and optional perVcpu, targetVcpu' };
      return {
        vcpu,
        run: (d, cpu, reply, done) => notifySend(d, cpu, receiver, id, perVcpu, target, errnoReply(d, op, { receiver, id, perVcpu, targetVcpu: target, vcpu: cpu }, reply, done)),
      };
    }
    case 'sched-recv-register': {
      const partition = integerField(data, 'partition', 0xffff);
      if (partition === null) return { why: 'data needs partition' };
      return {
        vcpu,
        run: (d, _cpu, reply, done) => {
          const errno = schedRecvCallbackRegister(d, partition, (target, perVcpu, cpu, finished) => {
            d.announce({ event: 'sched-recv-callback', partition, vcpu: target, perVcpu, onVcpu: cpu });
            finished();
          });
          errnoReply(d, op, { partition }, reply, done)(errno);
        },
      };
    }
    case 'call': {
      const regs = callRegisters(data);
      if (typeof regs === 'string') return { why: regs };
      const tx = txContent(data);
      if (typeof tx === 'string') return { why: tx };
      const label = typeof data['label'] === 'string' ? data['label'] : '';
      return { vcpu, run: (d, cpu, reply, done) => rawCall(d, cpu, regs, tx, label, reply, done) };
    }
    default:
      return assertNever(op, 'the guest control switch');
  }
}

/** A `call`'s `tx`: what the caller puts in its TX buffer (shared/ffa/buffer-content.ts), checked as the wire checks it; null when absent. */
function txContent(data: Data): BufferContent | null | string {
  if (data['tx'] === undefined) return null;
  const problem = bufferWriteProblem({ buffer: 'tx', owner: 0, content: data['tx'] }, 'call');
  return problem === undefined ? (data['tx'] as BufferContent) : `tx: ${problem}`;
}

function rawCall(d: DriverState, cpu: number, regs: RegisterFile, tx: BufferContent | null, label: string, reply: Reply, finished: () => void): void {
  d.invoke(cpu, regs, (result) => {
    const returned = result.kind === 'returned' ? result.regs : [];
    const memory = result.kind === 'returned' ? result.memory : null;
    d.ctx.record({
      event: 'raw-result',
      label,
      vcpu: cpu,
      fid: hex(regs[0] ?? 0n),
      result: describeResult(result),
      regs: returned.slice(0, 8).map((r) => hex(r)),
    });
    reply({ label, vcpu: cpu, result: describeResult(result), regs: returned, memory });
    finished();
  }, tx);
}
