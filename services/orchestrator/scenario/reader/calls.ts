/**
 * Call steps (pass 3, meaning): who calls which ABI, and its registers, encoded from named args
 * through the ABI's codec (shared/ffa abi-codec.ts) or given raw. A numeric endpoint ID in args is
 * taken as is (conformance tests call with IDs that do not exist); a name must name an endpoint.
 */
import {
  abiNameOf,
  BIND_FLAGS,
  codecForAbi,
  codecForFid,
  featuresIdFromName,
  FFA_FIDS,
  fidOf,
  GET_FLAGS,
  isUuid,
  MESSAGE_HEADER_SIZE_V1_2,
  MSG_SEND2_FLAGS,
  NIL_UUID,
  registers,
  SET_FLAGS,
  type AnyAbiCodec,
  type ArgKind,
  type BufferContent,
  type FlagTable,
  type RegisterFile,
} from '../../../../shared/ffa/index.ts';
import { closest, show } from '../../../../shared/config/zod-kit.ts';
import type { ScenarioError, ScenarioSource, ValuePath } from '../errors.ts';
import type { ArgValue, StepInput, TxInput } from '../schema.ts';
import type { Endpoint } from '../types.ts';
import type { Resolver } from './endpoints.ts';
import { allOf, Problems } from './problems.ts';
import { expectation } from './expectations.ts';
import type { StepBody } from './steps.ts';
import type { PendingCalls, RequestEnds } from './pending-calls.ts';
import { hex, versionArgument } from './values.ts';

export interface CallTarget {
  abi: string | null;
  fid: number;
  codec: AnyAbiCodec | null;
}

const ABI_NAMES = Object.keys(FFA_FIDS);

export function callTarget(call: string | number, path: ValuePath, resolver: Resolver): CallTarget {
  if (typeof call === 'number') return { abi: abiNameOf(call), fid: call, codec: codecForFid(call) };
  const fid = fidOf(call);
  if (fid !== null) return { abi: call, fid, codec: codecForAbi(call) };
  const guess = fidOf(`FFA_${call}`) !== null ? `FFA_${call}` : closest(call, ABI_NAMES);
  const hint = guess === null ? '' : `did you mean ${guess}? `;
  throw resolver.source.error(path, `unknown ABI '${call}': ${hint}write an FF-A ABI name (FFA_NOTIFICATION_SET, …) or a function ID number`);
}

type CallInput = Extract<StepInput, { from: unknown }>;

/**
 * A call step; the caller, the ABI, its registers and its expectation are each judged, and
 * refused together. `pending` knows the calls earlier steps made without waiting (`async`), which
 * this one may make or answer.
 */
export function callStep(input: CallInput, index: number, resolver: Resolver, pending: PendingCalls): Extract<StepBody, { kind: 'call' }> {
  const path: ValuePath = ['steps', index];
  const [caller, [target, answered, regs, expect]] = allOf(
    () => callerOf(input, path, resolver),
    () => {
      const target = callTarget(input.call, [...path, 'call'], resolver);
      const answered = input.answers === undefined ? null : answeredCall(input, input.answers, target, index, path, resolver, pending);
      const withEnds = answered === null ? input : withResponseEnds(input, answered.ends);
      return [target, answered, ...allOf(() => callRegisters(withEnds, target, path, resolver), () => expectation(input.expect ?? 'any', target, [...path, 'expect'], resolver))] as const;
    },
  );
  const { from, vcpu } = caller;
  const tx = input.tx === undefined ? null : txContent(input.tx, [...path, 'tx'], resolver);
  const made = input.async ?? null;
  if (made !== null) pending.make({ name: made, index, fid: target.fid, regs, expect: input.expect === undefined ? null : expect }, [...path, 'async']);
  const label = `${target.abi ?? hex(target.fid)} from ${from.name} (vCPU ${vcpu})${made === null ? '' : ` as ${made}`}${answered === null ? '' : `, answering ${answered.judgement.name}`}`;
  return { kind: 'call', from, vcpu, abi: target.abi, fid: target.fid, regs, tx, expect: made === null ? expect : { kind: 'any' }, async: made, answers: answered?.judgement ?? null, label };
}

/**
 * `tx:`, what the caller's TX buffer holds (shared/ffa/buffer-content.ts), endpoints resolved to
 * IDs as in args (a number is taken as is). A message's payload starts right after the v1.2
 * header unless `offset` says otherwise.
 */
function txContent(input: TxInput, path: ValuePath, resolver: Resolver): BufferContent {
  if ('message' in input) {
    const { sender, receiver, size, offset, uuid } = input.message;
    const at = [...path, 'message'];
    return {
      kind: 'message',
      sender: resolver.argumentId(sender, [...at, 'sender']),
      receiver: resolver.argumentId(receiver, [...at, 'receiver']),
      offset: offset ?? MESSAGE_HEADER_SIZE_V1_2,
      size,
      uuid: uuid?.toLowerCase() ?? NIL_UUID,
    };
  }
  const { endpoint, tx, rx, pageCount } = input.rxtxDescriptor;
  return { kind: 'rxtx-descriptor', endpoint: resolver.argumentId(endpoint, [...path, 'rxtxDescriptor', 'endpoint']), tx: BigInt(tx), rx: BigInt(rx), pageCount };
}

/** `answers: NAME`: the pending direct request this response answers (pending-calls.ts). */
function answeredCall(input: CallInput, name: string, target: CallTarget, index: number, path: ValuePath, resolver: Resolver, pending: PendingCalls) {
  if (input.async !== undefined) throw resolver.source.error([...path, 'async'], 'a response answers a pending call and hands the CPU on: it cannot also be left pending (remove async or answers)', 'key');
  return pending.answer(name, resolver.find(input.from), target.fid, index, path);
}

/** A response's sender and receiver default to the request's receiver and requester. */
function withResponseEnds(input: CallInput, ends: RequestEnds): CallInput {
  if (input.regs !== undefined) return input;
  return { ...input, args: { sender: ends.receiver, receiver: ends.sender, ...input.args } };
}

/** Who calls, on which vCPU: an endpoint that can make calls of its own here. */
function callerOf(input: CallInput, path: ValuePath, resolver: Resolver): { from: Endpoint; vcpu: number } {
  const from = resolver.endpoint(input.from, [...path, 'from']);
  if (from.kind === 'hypervisor' && resolver.world.hypervisor.profile !== 'raw') {
    throw resolver.source.error(
      [...path, 'from'],
      `the hypervisor makes calls of its own only with world.hypervisor.profile: raw; the ${resolver.world.hypervisor.profile} profile makes its own SMCs, so a scenario cannot make them for it (use raw, or call from a VM)`,
    );
  }
  const vcpu = input.vcpu ?? 0;
  resolver.checkVcpu(from, vcpu, [...path, 'vcpu']);
  return { from, vcpu };
}

function callRegisters(input: CallInput, target: CallTarget, path: ValuePath, resolver: Resolver): RegisterFile {
  const { source } = resolver;
  if (input.args !== undefined && input.regs !== undefined) throw source.error([...path, 'regs'], 'give args or regs, not both: args are encoded into registers, regs are the registers themselves', 'key');
  if (input.regs !== undefined) return registers(target.fid, ...input.regs.map((value) => BigInt(value)));
  if (target.codec === null) {
    if (input.args === undefined) return registers(target.fid);
    throw source.error([...path, 'args'], `${target.abi ?? hex(target.fid)} has no codec in shared/ffa, so it takes no named args: give raw regs: [x1, x2, …]`, 'key');
  }
  return encodeArgs(target.codec, input.args ?? {}, path, resolver);
}

function encodeArgs(codec: AnyAbiCodec, args: Readonly<Record<string, ArgValue>>, stepPath: ValuePath, resolver: Resolver): RegisterFile {
  const argsPath = [...stepPath, 'args'];
  // Every argument is judged before any is refused: a file with two wrong args hears of both.
  const problems = new Problems();
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    const kind = Object.hasOwn(codec.args, key) ? codec.args[key] : undefined;
    if (kind === undefined) problems.note(resolver.source.error([...argsPath, key], unknownArgument(codec, key), 'key'));
    else converted[key] = problems.attempt(() => argument(kind, value, [...argsPath, key], resolver));
  }
  problems.throwIfAny();
  try {
    return codec.encodeCall(converted);
  } catch (error) {
    // Encoders check that each field fits its bits (abi-codec.ts); anything else they throw is a bug.
    if (!(error instanceof RangeError)) throw error;
    throw encoderRefusal(error, codec, args, stepPath, resolver.source);
  }
}

function unknownArgument(codec: AnyAbiCodec, key: string): string {
  const known = Object.keys(codec.args);
  if (known.length === 0) return `${codec.abi} takes no arguments: remove args`;
  const guess = closest(key, known);
  return `${codec.abi} takes no argument '${key}': ${guess === null ? '' : `did you mean ${guess}? `}it takes ${known.join(', ')}`;
}

/** The encoder's RangeError ("sender must be an integer in 0..2^16-1, got 70000") at the argument it names. */
function encoderRefusal(error: RangeError, codec: AnyAbiCodec, args: Readonly<Record<string, ArgValue>>, stepPath: ValuePath, source: ScenarioSource): ScenarioError {
  const key = Object.keys(codec.args)
    .filter((name) => error.message.startsWith(name))
    .sort((a, b) => b.length - a.length)[0];
  const argsPath = [...stepPath, 'args'];
  const given = Object.keys(args).length > 0;
  if (key === undefined) return source.error(given ? argsPath : [...stepPath, 'call'], `${codec.abi} cannot encode these args: ${error.message}`);
  if (!Object.hasOwn(args, key)) {
    return source.error(given ? argsPath : [...stepPath, 'call'], `${codec.abi} needs the argument '${key}' (${ARG_WORDING[codec.args[key] ?? 'u32']}): add it to args`, given ? 'key' : 'value');
  }
  // "payload[2] must be a bigint in …": the element's own path, in the file's words.
  const rest = error.message.slice(key.length);
  const element = /^\[(\d+)\]/.exec(rest);
  const path = element ? [...argsPath, key, Number(element[1])] : [...argsPath, key];
  const detail = rest.slice(element ? element[0].length : 0).trim().replace('a bigint', 'an integer');
  return source.error(path, `${source.asWritten(detail, path)} (does not fit ${codec.abi}'s registers)`);
}

const ARG_WORDING: Readonly<Record<ArgKind, string>> = {
  endpoint: 'an endpoint name or ID',
  u16: 'a 16-bit number',
  u32: 'a 32-bit number',
  u64: 'a 64-bit value',
  version: 'a version such as "1.2", or any 32-bit number',
  'feature-id': 'a function ID, an ABI name, or NPI, SRI, MEI, NOTIFICATION',
  'bind-flags': 'flag names or a number',
  'set-flags': 'flag names or a number',
  'get-flags': 'flag names or a number',
  'send2-flags': 'flag names or a number',
  uuid: 'a UUID',
  boolean: 'true or false',
  payload: 'a list of up to 5 register values',
};

const FLAG_TABLES: Readonly<Record<'bind-flags' | 'set-flags' | 'get-flags' | 'send2-flags', FlagTable>> = {
  'bind-flags': BIND_FLAGS,
  'set-flags': SET_FLAGS,
  'get-flags': GET_FLAGS,
  'send2-flags': MSG_SEND2_FLAGS,
};

/** One named argument as its codec takes it (abi-codec.ts ArgKind); range checks are the encoder's. */
function argument(kind: ArgKind, value: ArgValue, path: ValuePath, resolver: Resolver): unknown {
  const { source } = resolver;
  const refuse = (what: string): never => {
    throw source.error(path, `must be ${what}, got ${source.written(path, value)}`);
  };
  switch (kind) {
    case 'endpoint':
      return resolver.argumentId(value, path);
    case 'u16':
    case 'u32':
      return typeof value === 'number' ? value : refuse(ARG_WORDING[kind]);
    case 'u64':
      return u64Value(value, path, source);
    case 'version':
      return versionArgument(value, path, source);
    case 'feature-id':
      return featureId(value, path, source);
    case 'bind-flags':
    case 'set-flags':
    case 'get-flags':
    case 'send2-flags':
      return flags(FLAG_TABLES[kind], value, path, source);
    case 'uuid':
      return typeof value === 'string' && isUuid(value) ? value.toLowerCase() : refuse('a UUID such as 486178e0-e7f8-11e3-bc5e-0002a5d5c51b');
    case 'boolean':
      return typeof value === 'boolean' ? value : refuse('true or false');
    case 'payload':
      return Array.isArray(value) ? value.map((item, index) => u64Value(item, [...path, index], source)) : refuse(ARG_WORDING.payload);
  }
}

function u64Value(value: unknown, path: ValuePath, source: ScenarioSource): bigint {
  const big = typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : typeof value === 'bigint' ? value : null;
  if (big === null || big < 0n || big > 0xffff_ffff_ffff_ffffn) throw source.error(path, `must be an unsigned 64-bit integer (decimal or 0x hex), got ${source.written(path, value)}`);
  return big;
}

function featureId(value: ArgValue, path: ValuePath, source: ScenarioSource): number {
  if (typeof value === 'number') return value;
  const id = typeof value === 'string' ? featuresIdFromName(value) : null;
  if (id === null) throw source.error(path, `must be a feature (NPI, SRI, MEI, NOTIFICATION), an ABI name or a function ID, got ${source.written(path, value)}`);
  return id;
}

/** `[perVcpu, delaySri]` through the flag table, or a plain number (tests of reserved bits). */
function flags(table: FlagTable, value: ArgValue, path: ValuePath, source: ScenarioSource): number {
  if (typeof value === 'number') return value;
  const names = Object.keys(table);
  if (!Array.isArray(value)) throw source.error(path, `must be a list of flag names (${names.join(', ')}) or a number, got ${source.written(path, value)}`);
  return value.reduce<number>((bits, name, index) => {
    const bit = typeof name === 'string' && Object.hasOwn(table, name) ? table[name] : undefined;
    if (bit === undefined) throw source.error([...path, index], `unknown flag ${show(name)}: the flags here are ${names.join(', ')}`);
    return (bits | bit) >>> 0;
  }, 0);
}

