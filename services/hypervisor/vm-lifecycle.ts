/**
 * VM life cycle (docs/ffa-reference.md §5.2; Xen ffa.c ffa_domain_init / ffa_domain_teardown,
 * ffa_partinfo.c ffa_partinfo_domain_init / _destroy, ffa_notif.c ffa_notif_domain_init /
 * _destroy), and vCPUs going online and offline.
 *
 * Requests come from config.vms at start, from registering guests (registration.ts), and as
 * control messages from config.controllers:
 *   vm-create {name, id?, vcpus, component?, pcpus?} · vm-destroy {name} · vm-reboot {name} ·
 *   vcpu-online {vm, vcpu, pcpu?} · vcpu-offline {vm, vcpu}
 * They run one at a time, in arrival order, from a bounded queue (Xen's toolstack serialises
 * domain creation); each outcome is recorded (vm-created, vm-refused, vm-destroyed, vm-rebooted,
 * vcpu-online, vcpu-offline, lifecycle-refused) and answered to the requester with the control
 * message `<op>-result` {name, ok, reason, …}. Nothing runs before the firmware probe is done.
 *
 * Creation: VM_CREATED to each SP that subscribed, then BITMAP_CREATE(vm, vcpus); any failure
 * refuses the VM, after Xen's teardown of what was done. Destruction: the vCPUs stop (GIC
 * vm-destroyed), BITMAP_DESTROY (result ignored), then VM_DESTROYED to the subscribed SPs that
 * were told of the creation, resent after INTERRUPTED or RETRY every teardownRetryDelayNs.
 */
import { FFA_FIDS, hex, registers } from '../../shared/ffa/index.ts';
import type { LifecycleAnswer } from '../../shared/protocol/control.ts';
import { CONFIG_LIMITS, HypervisorConfigError, validateVm, type ValidVm } from './config.ts';
import { sendVmAvailability } from './direct-messaging.ts';
import { codeName, describeResult, returnCode, type FirmwareLink } from './firmware.ts';
import type { HypervisorState } from './guest-call.ts';
import { onVcpuOnline } from './notifications.ts';
import { placementOf, placeVcpus } from './vcpus.ts';
import { Vm, type GuestAdvert } from './vm-table.ts';
import { tearDownGuestBuffers } from './rx-tx-buffers.ts';

export type LifecycleOp = 'vm-create' | 'vm-destroy' | 'vm-reboot' | 'vcpu-online' | 'vcpu-offline';
export const LIFECYCLE_OPS: readonly LifecycleOp[] = ['vm-create', 'vm-destroy', 'vm-reboot', 'vcpu-online', 'vcpu-offline'];

export type LifecycleRequest =
  /** `advert`: the VM is a registered guest's (vm-assigned to the GIC before its vCPUs go online). */
  | { readonly op: 'vm-create'; readonly vm: ValidVm; readonly advert?: GuestAdvert }
  | { readonly op: 'vm-destroy'; readonly name: string }
  | { readonly op: 'vm-reboot'; readonly name: string }
  | { readonly op: 'vcpu-online'; readonly name: string; readonly vcpu: number; readonly pcpu: number | null }
  | { readonly op: 'vcpu-offline'; readonly name: string; readonly vcpu: number };

/** The answer's data (`<op>-result`, shared/protocol/control.ts): plain values only (control data may not hold `undefined`). */
export type LifecycleResult = LifecycleAnswer;

type Done = (result: LifecycleResult) => void;

/** The CPU the hypervisor's life-cycle SMCs run on (the toolstack's, on the boot CPU). */
const LIFECYCLE_CPU = 0;

function ok(fields: Record<string, string | number | boolean | null> = {}): LifecycleResult {
  return { ...fields, ok: true, reason: null };
}

function refused(reason: string, fields: Record<string, string | number | boolean | null> = {}): LifecycleResult {
  return { ...fields, ok: false, reason };
}

// ---------------------------------------------------------------- requests from control data

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nameField(data: Record<string, unknown>, key: string): string | null {
  const value = data[key];
  return typeof value === 'string' && value.length > 0 && value.length <= CONFIG_LIMITS.nameLengthMax ? value : null;
}

function indexField(data: Record<string, unknown>, key: string, max: number): number | null {
  const value = data[key];
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max ? value : null;
}

/** A control message's request, or why it is not one; a bad request is the requester's problem, not a bug. */
export function requestFromControl(op: LifecycleOp, data: unknown, hv: HypervisorState): LifecycleRequest | { readonly why: string } {
  if (!isObject(data)) return { why: 'data must be an object' };
  const { cpus, maxVcpusPerVm } = hv.config;
  switch (op) {
    case 'vm-create':
      try {
        return { op, vm: validateVm('data', data, { cpus, maxVcpusPerVm }) };
      } catch (error) {
        if (error instanceof HypervisorConfigError) return { why: error.message };
        throw error;
      }
    case 'vm-destroy':
    case 'vm-reboot': {
      const name = nameField(data, 'name');
      return name === null ? { why: 'data.name must be a VM name' } : { op, name };
    }
    case 'vcpu-online':
    case 'vcpu-offline': {
      const name = nameField(data, 'vm');
      const vcpu = indexField(data, 'vcpu', maxVcpusPerVm - 1);
      if (name === null || vcpu === null) return { why: 'data needs vm (a VM name) and vcpu (an index)' };
      if (op === 'vcpu-offline') return { op, name, vcpu };
      const pcpu = data['pcpu'] === undefined || data['pcpu'] === null ? null : indexField(data, 'pcpu', cpus - 1);
      if (pcpu === null && data['pcpu'] !== undefined && data['pcpu'] !== null) return { why: `data.pcpu must be a CPU below ${cpus}` };
      return { op, name, vcpu, pcpu };
    }
  }
}

function nameOf(request: LifecycleRequest): string {
  return request.op === 'vm-create' ? request.vm.name : request.name;
}

// ---------------------------------------------------------------- the queue

interface Queued {
  readonly request: LifecycleRequest;
  /** Who asked (gets `<op>-result`); null for config.vms and the hypervisor's own requests. */
  readonly requester: string | null;
  /** The hypervisor's own follow-up once the request is answered (registration.ts). */
  readonly onResult: Done | null;
}

/** Waiting for the probe, idle, or carrying one request out. */
type QueueState = 'waiting-for-firmware' | 'idle' | 'busy';

export class Lifecycle {
  private readonly queue: Queued[] = [];
  private state: QueueState = 'waiting-for-firmware';

  constructor(
    private readonly hv: HypervisorState,
    private readonly link: FirmwareLink,
    private readonly mediates: boolean,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  get busy(): boolean {
    return this.state === 'busy';
  }

  /** The probe is done (or there is none): requests may run. */
  open(): void {
    if (this.state === 'waiting-for-firmware') this.state = 'idle';
    this.runNext();
  }

  submit(request: LifecycleRequest, requester: string | null, onResult: Done | null = null): void {
    if (this.queue.length >= this.hv.config.maxQueuedLifecycleOps) {
      this.report(request.op, requester, refused(`${this.queue.length} life-cycle requests are already queued`, { name: nameOf(request) }), onResult);
      return;
    }
    this.queue.push({ request, requester, onResult });
    this.runNext();
  }

  /** The names of the VMs queued for creation with `component` as their guest component. */
  queuedCreatesFor(component: string): string[] {
    return this.queue.flatMap(({ request }) => (request.op === 'vm-create' && request.vm.component === component ? [request.vm.name] : []));
  }

  /** A request that could not even be read: refused at once. */
  refuseUnreadable(op: LifecycleOp, requester: string, why: string): void {
    this.report(op, requester, refused(why, { name: null }));
  }

  private runNext(): void {
    if (this.state !== 'idle') return;
    const next = this.queue.shift();
    if (next === undefined) return;
    this.state = 'busy';
    this.perform(next.request, (result) => {
      this.report(next.request.op, next.requester, result, next.onResult);
      this.state = 'idle';
      this.runNext();
    });
  }

  private report(op: LifecycleOp, requester: string | null, result: LifecycleResult, onResult: Done | null = null): void {
    if (!result.ok) this.hv.ctx.record({ event: 'lifecycle-refused', op, ...result });
    if (requester !== null) this.hv.ctx.send(requester, { kind: 'control', op: `${op}-result`, data: { ...result } });
    onResult?.(result);
  }

  private perform(request: LifecycleRequest, done: Done): void {
    switch (request.op) {
      case 'vm-create':
        return this.create(request.vm, request.advert ?? null, false, done);
      case 'vm-destroy':
        return this.destroy(request.name, done);
      case 'vm-reboot':
        return this.reboot(request.name, done);
      case 'vcpu-online':
        return done(this.vcpuOnline(request.name, request.vcpu, request.pcpu));
      case 'vcpu-offline':
        return done(this.vcpuOffline(request.name, request.vcpu));
    }
  }

  // ---------------------------------------------------------------- create (ffa_domain_init)

  /** Why the VM cannot even be tried, or null. */
  private creationRefusal(spec: ValidVm, id: number | null): string | null {
    const { hv } = this;
    if (this.mediates && hv.firmware.state === 'absent') return 'no usable FF-A firmware (ffa_domain_init: -ENODEV)';
    if (hv.vms.named(spec.name)) return `a VM named ${spec.name} exists`;
    if (id === null) return 'no free VM ID';
    if (hv.vms.find(id)) return `VM ID ${id} is in use`;
    if (hv.vms.size >= hv.config.maxVms) return `the VM table is full (${hv.config.maxVms})`;
    return null;
  }

  private create(spec: ValidVm, advert: GuestAdvert | null, rebooted: boolean, done: Done): void {
    const { hv } = this;
    const id = spec.id ?? hv.vms.freeId(CONFIG_LIMITS.vmIdMax);
    const refusal = this.creationRefusal(spec, id);
    if (refusal !== null || id === null) {
      hv.ctx.record({ event: 'vm-refused', name: spec.name, id, reason: refusal });
      return done(refused(refusal ?? 'no free VM ID', { name: spec.name, id }));
    }
    const vm = new Vm(spec.name, id, spec.component, placeVcpus(spec.vcpus, spec.pcpus, hv.config.cpus));
    vm.advert = advert;
    hv.vms.add(vm);
    if (!this.mediates) return done(this.start(vm, rebooted));
    this.domainInit(vm, (failure) => {
      if (failure === null) return done(this.start(vm, rebooted));
      // "ffa_domain_teardown() will be called if ffa_domain_init() returns an error".
      this.teardown(vm, () => {
        hv.vms.remove(vm);
        hv.ctx.record({ event: 'vm-refused', name: vm.name, id: vm.id, reason: failure });
        if (rebooted) hv.gic.vmDestroyed(vm, true);
        done(refused(failure, { name: vm.name, id: vm.id }));
      });
    });
  }

  /**
   * The domain is unpaused: every vCPU online where it was placed, the GIC and the guest told. A
   * registered guest's component is assigned the VM at the GIC first (again after a reboot: the
   * GIC dropped the grant with vm-destroyed), so nothing raised for a vCPU misses it.
   */
  private start(vm: Vm, rebooted: boolean): LifecycleResult {
    const { hv } = this;
    vm.state = 'running';
    if (rebooted) hv.gic.vmRebooted(vm);
    if (vm.advert !== null) hv.gic.vmAssigned(vm);
    for (const vcpu of vm.vcpus) hv.gic.vcpuOnline(vm, vcpu.index, vcpu.pcpu);
    const fields = { name: vm.name, id: vm.id, component: vm.component, vcpus: placementOf(vm.vcpus) };
    hv.ctx.record(rebooted ? { event: 'vm-rebooted', ...fields } : { event: 'vm-created', ...fields });
    return ok({ name: vm.name, id: vm.id });
  }

  /**
   * ffa_domain_init: ffa_partinfo_domain_init (VM_CREATED to each subscriber, in list order,
   * stopping at the first failure), then ffa_notif_domain_init (BITMAP_CREATE). `onDone` gets
   * null, or why the VM is refused.
   */
  private domainInit(vm: Vm, onDone: (failure: string | null) => void): void {
    const { firmware } = this.hv;
    if (!firmware.supports('FFA_MSG_SEND_DIRECT_REQ_32')) return this.createBitmap(vm, onDone);
    const subscribers = firmware.vmCreatedSubscribers();
    const tell = (index: number): void => {
      const sp = subscribers[index];
      if (sp === undefined) {
        vm.destroyNotices = this.destroyNotices(subscribers.length);
        return this.createBitmap(vm, onDone);
      }
      sendVmAvailability(this.hv, this.link, { sp, vm: vm.id, message: 'VM_CREATED', cpu: LIFECYCLE_CPU }, (status) => {
        if (status === 0) return tell(index + 1);
        vm.destroyNotices = this.destroyNotices(index);
        onDone(`VM_CREATED to ${hex(sp)} failed: ${codeName(status)} (ffa_partinfo_domain_init: -EIO)`);
      });
    };
    tell(0);
  }

  /**
   * ffa_partinfo.c vm_destroy_bitmap_init: every VM_DESTROYED subscriber, except those subscribed
   * to VM_CREATED that were never told of the creation (past the first `createdTold`).
   */
  private destroyNotices(createdTold: number): number[] {
    const untold = new Set(this.hv.firmware.vmCreatedSubscribers().slice(createdTold));
    return this.hv.firmware.vmDestroyedSubscribers().filter((sp) => !untold.has(sp));
  }

  /** ffa_notif_domain_init: with firmware notifications, BITMAP_CREATE(vm, max_vcpus); any error is -ENOMEM. */
  private createBitmap(vm: Vm, onDone: (failure: string | null) => void): void {
    if (!this.hv.firmware.notificationsEnabled) return onDone(null);
    const regs = registers(FFA_FIDS.FFA_NOTIFICATION_BITMAP_CREATE, vm.id, vm.vcpus.length);
    this.link.call(regs, LIFECYCLE_CPU, (result) => {
      const code = returnCode(result);
      this.hv.ctx.record({ event: 'fw-call', purpose: 'vm-create', abi: 'FFA_NOTIFICATION_BITMAP_CREATE', vm: vm.id, vcpus: vm.vcpus.length, result: describeResult(result), status: codeName(code) });
      onDone(code === 0 ? null : `BITMAP_CREATE failed: ${codeName(code)} (ffa_notif_domain_init: -ENOMEM)`);
    });
  }

  // ---------------------------------------------------------------- destroy (ffa_domain_teardown)

  private destroy(name: string, done: Done): void {
    const vm = this.runningVm(name);
    if (typeof vm === 'string') return done(refused(vm, { name }));
    this.stopAndTearDown(vm, true, () => {
      this.hv.ctx.record({ event: 'vm-destroyed', name: vm.name, id: vm.id });
      done(ok({ name: vm.name, id: vm.id }));
    });
  }

  /** Destroy, then create again with the same name, ID, vCPUs, component and placement. */
  private reboot(name: string, done: Done): void {
    const vm = this.runningVm(name);
    if (typeof vm === 'string') return done(refused(vm, { name }));
    const spec: ValidVm = { name: vm.name, id: vm.id, vcpus: vm.vcpus.length, component: vm.component, pcpus: vm.vcpus.map((v) => v.pcpu) };
    this.stopAndTearDown(vm, false, () => this.create(spec, vm.advert, true, done));
  }

  private runningVm(name: string): Vm | string {
    const vm = this.hv.vms.named(name);
    if (!vm) return `no VM named ${name}`;
    if (vm.state !== 'running') return `VM ${name} is ${vm.state}`;
    return vm;
  }

  /** The vCPUs stop (the GIC drops the VM's virtual interrupts), then the FF-A teardown. */
  private stopAndTearDown(vm: Vm, tellGuest: boolean, onDone: () => void): void {
    vm.state = 'destroying';
    this.hv.gic.vmDestroyed(vm, tellGuest);
    this.teardown(vm, () => {
      this.hv.vms.remove(vm);
      onDone();
    });
  }

  /** ffa_domain_teardown: ffa_rxtx_domain_destroy, ffa_notif_domain_destroy, ffa_domain_teardown_continue. */
  private teardown(vm: Vm, onDone: () => void): void {
    vm.state = 'destroying';
    if (!this.mediates) {
      vm.buffers = null;
      return onDone();
    }
    tearDownGuestBuffers(this.hv, this.link, vm, LIFECYCLE_CPU, () => this.destroyBitmap(vm, () => this.tellDestroyed(vm, 0, onDone)));
  }

  /** "Call bitmap_destroy even if bitmap create failed as the SPMC will return a DENIED error that we will ignore." */
  private destroyBitmap(vm: Vm, next: () => void): void {
    if (!this.hv.firmware.notificationsEnabled) return next();
    const regs = registers(FFA_FIDS.FFA_NOTIFICATION_BITMAP_DESTROY, vm.id);
    this.link.call(regs, LIFECYCLE_CPU, (result) => {
      this.hv.ctx.record({ event: 'fw-call', purpose: 'vm-destroy', abi: 'FFA_NOTIFICATION_BITMAP_DESTROY', vm: vm.id, result: describeResult(result), status: codeName(returnCode(result)), ignored: true });
      next();
    });
  }

  /**
   * ffa_partinfo_domain_destroy: VM_DESTROYED to each SP still owed one; an SP that answered
   * INTERRUPTED or RETRY is kept for another pass after the delay (ffa_teardown_timer), at most
   * config.teardownRetries more passes.
   */
  private tellDestroyed(vm: Vm, pass: number, onDone: () => void): void {
    const owed = [...vm.destroyNotices];
    const keep: number[] = [];
    const tell = (index: number): void => {
      const sp = owed[index];
      if (sp === undefined) return this.afterDestroyedPass(vm, keep, pass, onDone);
      sendVmAvailability(this.hv, this.link, { sp, vm: vm.id, message: 'VM_DESTROYED', cpu: LIFECYCLE_CPU }, (status) => {
        if (status !== 0 && isRetryable(status)) keep.push(sp);
        tell(index + 1);
      });
    };
    tell(0);
  }

  private afterDestroyedPass(vm: Vm, keep: number[], pass: number, onDone: () => void): void {
    vm.destroyNotices = keep;
    if (keep.length === 0) return onDone();
    if (pass >= this.hv.config.teardownRetries) {
      this.hv.ctx.record({ event: 'vm-teardown-abandoned', vm: vm.id, sps: keep, passes: pass + 1 });
      return onDone();
    }
    this.hv.ctx.record({ event: 'vm-teardown-retry', vm: vm.id, sps: keep, pass: pass + 1 });
    this.hv.ctx.setTimer(this.hv.config.teardownRetryDelayNs, () => this.tellDestroyed(vm, pass + 1, onDone));
  }

  // ---------------------------------------------------------------- vCPUs

  private vcpuOnline(name: string, index: number, pcpu: number | null): LifecycleResult {
    const vm = this.runningVm(name);
    if (typeof vm === 'string') return refused(vm, { name, vcpu: index });
    const vcpu = vm.vcpu(index);
    if (!vcpu) return refused(`VM ${name} has no vCPU ${index}`, { name, vcpu: index });
    const wasOnline = vcpu.online;
    vcpu.online = true;
    vcpu.pcpu = pcpu ?? vcpu.pcpu;
    this.hv.gic.vcpuOnline(vm, vcpu.index, vcpu.pcpu);
    this.hv.ctx.record({ event: 'vcpu-online', vm: vm.id, name: vm.name, vcpu: vcpu.index, pcpu: vcpu.pcpu, moved: wasOnline });
    if (!wasOnline) onVcpuOnline(this.hv, vm, vcpu);
    return ok({ name, vcpu: index, pcpu: vcpu.pcpu });
  }

  private vcpuOffline(name: string, index: number): LifecycleResult {
    const vm = this.runningVm(name);
    if (typeof vm === 'string') return refused(vm, { name, vcpu: index });
    const vcpu = vm.vcpu(index);
    if (!vcpu) return refused(`VM ${name} has no vCPU ${index}`, { name, vcpu: index });
    if (vcpu.online) {
      vcpu.online = false;
      this.hv.gic.vcpuOffline(vm, vcpu.index, vcpu.pcpu);
      this.hv.ctx.record({ event: 'vcpu-offline', vm: vm.id, name: vm.name, vcpu: vcpu.index, pcpu: vcpu.pcpu });
    }
    return ok({ name, vcpu: index });
  }
}

/** ffa_partinfo_domain_destroy: "For these two error codes the hypervisor is expected to resend". */
function isRetryable(status: number): boolean {
  return codeName(status) === 'INTERRUPTED' || codeName(status) === 'RETRY';
}
