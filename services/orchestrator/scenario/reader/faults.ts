/**
 * Faults (pass 3, meaning), as steps or timed (`{ at: 10ms, fault: … }`), their targets resolved
 * to endpoints and components. A timed fault is read both ways the format's line allows: the
 * fault's keys beside `at` (`{ at: 10ms, fault: drop-interrupt, intid: 8 }`) or a fault step
 * under `fault` (`{ at: 10ms, fault: { fault: drop-interrupt, intid: 8 } }`).
 */
import type { ValuePath } from '../errors.ts';
import type { FaultInput, TimedFaultInput } from '../schema.ts';
import type { Endpoint, FaultSpec, TimedFault } from '../types.ts';
import { callTarget } from './calls.ts';
import type { Resolver } from './endpoints.ts';
import { ns } from './values.ts';

export function faultSpec(input: FaultInput, path: ValuePath, resolver: Resolver): FaultSpec {
  const at = (key: string): ValuePath => [...path, key];
  const target = (ref: string | number | undefined): Endpoint | null => (ref === undefined ? null : resolver.endpoint(ref, at('to')));
  const limits = (fault: { count?: number; probability?: number }) => ({ count: fault.count ?? null, probability: fault.probability ?? null });
  switch (input.fault) {
    case 'drop-interrupt':
    case 'duplicate-interrupt':
      return { kind: input.fault, intid: input.intid, to: target(input.to), ...limits(input) };
    case 'delay-interrupt':
      return { kind: input.fault, intid: input.intid, to: target(input.to), byNs: ns(input.by), ...limits(input) };
    case 'spurious-interrupt': {
      const to = resolver.endpoint(input.to, at('to'));
      const vcpu = input.vcpu ?? 0;
      resolver.checkVcpu(to, vcpu, at('vcpu'));
      return { kind: input.fault, intid: input.intid, to, vcpu };
    }
    case 'fail-call':
      return { kind: input.fault, fid: callFilter(input.call, at('call'), resolver), between: between(input.between, at('between'), resolver), error: input.error, ...limits(input) };
    case 'delay-call':
      return { kind: input.fault, fid: callFilter(input.call, at('call'), resolver), between: between(input.between, at('between'), resolver), byNs: ns(input.by), ...limits(input) };
    case 'cut-link':
      return { kind: input.fault, between: between(input.between, at('between'), resolver), forNs: ns(input.for) };
    case 'crash': {
      const restart = input['restart-after'];
      return { kind: input.fault, component: resolver.component(input.component, at('component')), restartAfterNs: restart === undefined ? null : ns(restart) };
    }
    case 'stall':
      return { kind: input.fault, component: resolver.component(input.component, at('component')), forNs: ns(input.for) };
    case 'hold-interrupt':
      return { kind: input.fault, intid: input.intid, forNs: ns(input.for) };
    case 'swarm':
      return { kind: input.fault, intensity: input.intensity };
  }
}

/** The calls a call fault matches: null for any call. */
function callFilter(call: string | number | undefined, path: ValuePath, resolver: Resolver): number | null {
  if (call === undefined || call === 'any') return null;
  return callTarget(call, path, resolver).fid;
}

function between(pair: readonly [string | number, string | number], path: ValuePath, resolver: Resolver): [string, string] {
  const a = resolver.component(pair[0], [...path, 0]);
  const b = resolver.component(pair[1], [...path, 1]);
  if (a === b) throw resolver.source.error([...path, 1], `names ${a} again: a link joins two different components`);
  return [a, b];
}

export function faultLabel(input: FaultInput): string {
  if ('to' in input) return `fault ${input.fault} intid ${input.intid}${input.to === undefined ? '' : ` to ${input.to}`}`;
  if ('intid' in input) return `fault ${input.fault} intid ${input.intid}`;
  if ('between' in input) return `fault ${input.fault} between ${input.between.join(' and ')}`;
  if ('component' in input) return `fault ${input.fault} ${input.component}`;
  return `fault ${input.fault}`;
}

export function timedFault(input: TimedFaultInput, index: number, resolver: Resolver): TimedFault {
  const path: ValuePath = ['faults', index];
  const fault = typeof input.fault === 'object' ? faultSpec(input.fault, [...path, 'fault'], resolver) : faultSpec(input, path, resolver);
  return { atNs: ns(input.at), fault, location: resolver.source.location(path) };
}

