/**
 * A call step's `expect` (pass 3, meaning; docs/scenarios.md "expect forms"), in the form
 * expect.ts compares: fields named as the ABI's codec decodes them, registers as bigints. A call
 * without `expect` expects nothing (`any`): it is recorded, never judged.
 */
import { FFA_FIDS } from '../../../../shared/ffa/index.ts';
import { closest } from '../../../../shared/config/zod-kit.ts';
import type { ScenarioSource, ValuePath } from '../errors.ts';
import { SUCCESS_FIELD_SCHEMAS, SUCCESS_FIELDS, type ExpectationInput, type SuccessFieldKind } from '../schema.ts';
import type { Expectation } from '../types.ts';
import type { CallTarget } from './calls.ts';
import type { Resolver } from './endpoints.ts';
import { Problems } from './problems.ts';
import { validate } from './shape.ts';
import { hex, versionText } from './values.ts';

export function expectation(input: ExpectationInput, target: CallTarget, path: ValuePath, resolver: Resolver): Expectation {
  if (input === 'success' || input === 'any') return { kind: input };
  if ('error' in input) return { kind: 'error', code: input.error };
  if ('version' in input) return versionExpectation(input.version, target, [...path, 'version'], resolver.source);
  if ('regs' in input) return { kind: 'regs', regs: registerExpectation(input.regs, [...path, 'regs'], resolver.source) };
  return { kind: 'success-fields', fields: successFields(input.success, target, [...path, 'success'], resolver) };
}

function versionExpectation(value: string | number, target: CallTarget, path: ValuePath, source: ScenarioSource): Expectation {
  if (target.fid !== FFA_FIDS.FFA_VERSION) {
    throw source.error(path, `is for FFA_VERSION, which returns its version in w0; for ${target.abi ?? hex(target.fid)} expect success, { success: { … } } or { regs: { … } }`, 'key');
  }
  return { kind: 'version', version: value === 'NOT_SUPPORTED' ? value : versionText(value, path, source, ' or NOT_SUPPORTED') };
}

function registerExpectation(regs: Readonly<Record<string, number | bigint>>, path: ValuePath, source: ScenarioSource): Record<string, bigint> {
  return Object.fromEntries(
    Object.entries(regs).map(([name, value]) => {
      const big = BigInt(value);
      if (name.startsWith('w') && big > 0xffff_ffffn) throw source.error([...path, name], `${name} is 32 bits: must be at most 0xffffffff, got ${source.written([...path, name], big)} (write x${name.slice(1)} for all 64 bits)`);
      return [name, big];
    }),
  );
}

function successFields(fields: Readonly<Record<string, unknown>>, target: CallTarget, path: ValuePath, resolver: Resolver): Record<string, unknown> {
  const abi = target.abi ?? hex(target.fid);
  const table = target.abi === null ? undefined : SUCCESS_FIELDS[target.abi];
  if (target.fid === FFA_FIDS.FFA_VERSION) throw resolver.source.error(path, 'FFA_VERSION returns its version in w0: write expect: { version: "1.2" }', 'key');
  if (table === undefined) throw resolver.source.error(path, `${abi} returns no fields to compare: write expect: success, or { regs: { w2: … } } for raw registers`, 'key');
  // Every field is judged before any is refused.
  const problems = new Problems();
  const expected = Object.entries(fields).map(([field, value]) => [field, problems.attempt(() => successFieldOf(field, value, table, target, [...path, field], resolver))] as const);
  problems.throwIfAny();
  return Object.fromEntries(expected);
}

function successFieldOf(field: string, value: unknown, table: Readonly<Record<string, SuccessFieldKind>>, target: CallTarget, path: ValuePath, resolver: Resolver): unknown {
  const kind = Object.hasOwn(table, field) ? table[field] : undefined;
  if (kind === undefined) {
    const guess = closest(field, Object.keys(table));
    throw resolver.source.error(path, `${target.abi ?? hex(target.fid)} has no result field '${field}': ${guess === null ? '' : `did you mean ${guess}? `}its fields are ${Object.keys(table).join(', ')}`, 'key');
  }
  return successField(kind, value, path, resolver);
}

/** An expected field in the form the codec decodes it (expect.ts compares the two). */
function successField(kind: SuccessFieldKind, value: unknown, path: ValuePath, resolver: Resolver): unknown {
  const { source } = resolver;
  switch (kind) {
    case 'u64':
    case 'bitmap32':
      return BigInt(validate(SUCCESS_FIELD_SCHEMAS[kind], value, source, path));
    case 'u32':
    case 'u16':
    case 'boolean':
      return validate(SUCCESS_FIELD_SCHEMAS[kind], value, source, path);
    case 'id':
      return resolver.argumentId(validate(SUCCESS_FIELD_SCHEMAS.id, value, source, path), path);
    case 'payload': {
      // The codec decodes all five registers: a shorter list means the rest are zero.
      const payload = validate(SUCCESS_FIELD_SCHEMAS.payload, value, source, path).map((item) => BigInt(item));
      return [...payload, ...new Array<bigint>(5 - payload.length).fill(0n)];
    }
    case 'info-lists':
      return validate(SUCCESS_FIELD_SCHEMAS['info-lists'], value, source, path).map((list, index) => ({
        id: resolver.argumentId(list.id, [...path, index, 'id']),
        vcpus: list.vcpus ?? [],
      }));
    case 'message': {
      const message = validate(SUCCESS_FIELD_SCHEMAS.message, value, source, path);
      return {
        ...message,
        ...(message.sender === undefined ? {} : { sender: resolver.argumentId(message.sender, [...path, 'sender']) }),
        ...(message.receiver === undefined ? {} : { receiver: resolver.argumentId(message.receiver, [...path, 'receiver']) }),
        ...(message.uuid === undefined ? {} : { uuid: message.uuid.toLowerCase() }),
      };
    }
    case 'partitions':
      return validate(SUCCESS_FIELD_SCHEMAS.partitions, value, source, path).map((partition, index) => ({
        ...partition,
        ...(partition.uuid === undefined ? {} : { uuid: partition.uuid.toLowerCase() }),
        id: resolver.argumentId(partition.id, [...path, index, 'id']),
      }));
  }
}

