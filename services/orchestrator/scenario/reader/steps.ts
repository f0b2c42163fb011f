/**
 * The steps (pass 3, meaning), one kind each: calls (calls.ts), awaits, expect-none, faults
 * (faults.ts), workloads, sleeps and changes to VMs and vCPUs. Where a step names who acts or
 * receives (`from`, `to`, `in`), the endpoint must exist, and be of a kind that can.
 */
import type { ValuePath } from '../errors.ts';
import type { StepInput } from '../schema.ts';
import { ratePerSecond } from '../value-shapes.ts';
import type { Step, VmDescription } from '../types.ts';
import { callStep } from './calls.ts';
import { expectation } from './expectations.ts';
import type { PendingCalls } from './pending-calls.ts';
import type { Resolver } from './endpoints.ts';
import { faultLabel, faultSpec } from './faults.ts';
import { ns } from './values.ts';

/** A step before its index and location: each kind's own fields and its label. */
export type StepBody = Step extends infer S ? (S extends Step ? Omit<S, 'index' | 'location'> : never) : never;
type AwaitInput = Extract<StepInput, { await: unknown }>;

function awaitStep(input: AwaitInput, index: number, resolver: Resolver, pending: PendingCalls): StepBody {
  const path: ValuePath = ['steps', index];
  switch (input.await) {
    case 'interrupt': {
      const to = resolver.endpoint(input.to, [...path, 'to']);
      if (input.vcpu !== undefined) resolver.checkVcpu(to, input.vcpu, [...path, 'vcpu']);
      const at = input.vcpu === undefined ? to.name : `${to.name} (vCPU ${input.vcpu})`;
      return { kind: 'await-interrupt', to, vcpu: input.vcpu ?? null, intid: input.intid, withinNs: ns(input.within), label: `await interrupt ${input.intid} at ${at}` };
    }
    case 'callback': {
      const endpoint = resolver.endpointOfKind(input.in, [...path, 'in'], ['vm', 'host'], 'a VM or the host (callbacks run in a guest driver)');
      return { kind: 'await-callback', in: endpoint, notification: input.notification, withinNs: ns(input.within), label: `await callback ${input.notification} in ${endpoint.name}` };
    }
    case 'idle':
      return { kind: 'await-idle', label: 'await idle' };
    case 'probe': {
      const endpoint = resolver.endpointOfKind(input.in, [...path, 'in'], ['vm', 'host'], 'a VM or the host (a guest kernel probes)');
      return { kind: 'await-probe', in: endpoint, withinNs: ns(input.within), label: `await probe of ${endpoint.name}` };
    }
    case 'message': {
      const endpoint = resolver.endpointOfKind(input.in, [...path, 'in'], ['vm', 'host'], 'a VM or the host (a guest driver reads its RX buffer)');
      const from = input.from === undefined ? null : resolver.endpoint(input.from, [...path, 'from']);
      const by = from === null ? '' : ` from ${from.name}`;
      return { kind: 'await-message', in: endpoint, from, withinNs: ns(input.within), label: `await a message${by} read in ${endpoint.name}` };
    }
    case 'call':
      return awaitCallStep(input, index, resolver, pending);
  }
}

/** `{ await: call, call: NAME }`: the expectation reads against the pending call's ABI. */
function awaitCallStep(input: Extract<AwaitInput, { await: 'call' }>, index: number, resolver: Resolver, pending: PendingCalls): StepBody {
  const path: ValuePath = ['steps', index];
  // An unknown name is await()'s to refuse; the expectation reads against the pending call's ABI.
  const target = pending.targetOf(input.call);
  const expect = input.expect === undefined || target === null ? null : expectation(input.expect, target, [...path, 'expect'], resolver);
  const call = pending.await(input.call, expect, index, path);
  const within = input.within === undefined ? '' : ` within ${input.within}`;
  return { kind: 'await-call', call, withinNs: input.within === undefined ? null : ns(input.within), label: `await the answer to ${input.call}${within}` };
}

type ExpectNoneInput = Extract<StepInput, { 'expect-none': unknown }>;

function expectNoneStep(input: ExpectNoneInput, path: ValuePath, resolver: Resolver): StepBody {
  const to = resolver.endpoint(input.to, [...path, 'to']);
  if (input.vcpu !== undefined) resolver.checkVcpu(to, input.vcpu, [...path, 'vcpu']);
  const what = input.intid === undefined ? 'interrupt' : `interrupt ${input.intid}`;
  return { kind: 'expect-none-interrupt', to, vcpu: input.vcpu ?? null, intid: input.intid ?? null, forNs: ns(input.for), label: `expect no ${what} at ${to.name} for ${input.for}` };
}

function vmOf(ref: string | number, path: ValuePath, resolver: Resolver): VmDescription {
  const endpoint = resolver.endpointOfKind(ref, path, ['vm', 'host'], 'a VM');
  const vm = resolver.world.vms.find((candidate) => candidate.name === endpoint.name);
  if (vm === undefined) throw new Error(`bug: endpoint ${endpoint.name} has no VM`);
  return vm;
}

type WorkloadInput = Extract<StepInput, { workload: unknown }>;

function workloadStep(input: WorkloadInput, path: ValuePath, resolver: Resolver): StepBody {
  const senders = input.senders?.map((ref, index) => resolver.endpointOfKind(ref, [...path, 'senders', index], ['sp'], 'a partition (SPs send)').id) ?? resolver.spIds();
  const receivers =
    input.receivers === undefined || input.receivers === 'all'
      ? resolver.vmNames()
      : input.receivers.map((ref, index) => vmOf(ref, [...path, 'receivers', index], resolver).name);
  if (input.count !== undefined && input.duration !== undefined) throw resolver.source.error([...path, 'duration'], 'give count or duration, not both', 'key');
  if (input.count === undefined && input.duration === undefined) throw resolver.source.error(path, 'a workload needs an end: add count: N or duration: 5s');
  const end = input.count === undefined ? `for ${input.duration}` : `${input.count} notifications`;
  return {
    kind: 'workload',
    senders,
    receivers,
    ratePerSecond: ratePerSecond(input.rate) ?? 0,
    count: input.count ?? null,
    durationNs: input.duration === undefined ? null : ns(input.duration),
    drainNs: input.drain === undefined ? null : ns(input.drain),
    label: `workload notifications at ${input.rate}, ${end}`,
  };
}

function stepBody(input: StepInput, index: number, resolver: Resolver, pending: PendingCalls): StepBody {
  const path: ValuePath = ['steps', index];
  if ('await' in input) return awaitStep(input, index, resolver, pending);
  if ('from' in input) return callStep(input, index, resolver, pending);
  if ('expect-none' in input) return expectNoneStep(input, path, resolver);
  if ('fault' in input) return { kind: 'fault', fault: faultSpec(input, path, resolver), label: faultLabel(input) };
  if ('workload' in input) return workloadStep(input, path, resolver);
  if ('sleep' in input) return { kind: 'sleep', ns: ns(input.sleep), label: `sleep ${input.sleep}` };
  if ('vcpu' in input) {
    const vm = vmOf(input.vm, [...path, 'vm'], resolver);
    if (input.id >= vm.vcpus) throw resolver.source.error([...path, 'id'], `must be below ${vm.vcpus}: ${vm.name} has ${vm.vcpus} vCPUs`);
    return { kind: 'vcpu', op: input.vcpu, vm: vm.name, vcpu: input.id, label: `vcpu ${input.vcpu} ${vm.name} vCPU ${input.id}` };
  }
  const vm = vmOf(input.name, [...path, 'name'], resolver);
  if (resolver.bareMetal) throw resolver.source.error([...path, 'vm'], `there is no hypervisor to ${input.vm} VMs under hypervisor: none (the host is the machine); CPU hotplug is { vcpu: offline, vm: host, id: N }`);
  return { kind: 'vm', op: input.vm, vm: vm.name, label: `vm ${input.vm} ${vm.name}` };
}

/** One step, read in the order of the steps: `pending` carries the calls earlier ones left pending. */
export function normalizeStep(input: StepInput, index: number, resolver: Resolver, pending: PendingCalls): Step {
  return { ...stepBody(input, index, resolver, pending), index, location: resolver.source.location(['steps', index]) };
}

