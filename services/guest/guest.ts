/**
 * The guest component (docs/design.md §2, the `guest` row): a Linux-like kernel at EL1 with the
 * FF-A driver (drivers/firmware/arm_ffa/driver.c) in one of the variants of variants.ts, and,
 * optionally, OP-TEE's FF-A client driver (drivers/tee/optee/ffa_abi.c). It runs in a VM under the
 * hypervisor (calls on conduit 'hvc', virtual interrupts) or as the bare-metal host (calls to the
 * SPMD on 'smc', physical interrupts, FF-A ID 0).
 *
 * Protocol with the other components:
 * - FF-A calls: to config.firmware, one at a time per vCPU, carrying the vCPU and its physical CPU
 *   (conduit.ts); the firmware decides who calls by the link.
 * - GIC (gic-port.ts): one subscription for all of its interrupts; each delivery is acknowledged,
 *   handled (a requested SRI/NPI queues its work; anything else is recorded as unhandled), then
 *   ended. A delivery for a vCPU the guest holds offline is replayed when it comes back.
 * - Lifecycle from the hypervisor, subject = config.name: vcpu-online [vm, vcpu, pcpu] (the first
 *   one boots the kernel when boot = on-vcpu-online), vcpu-offline [vm, vcpu, pcpu],
 *   vm-destroyed [vm] (everything stops), vm-rebooted [vm] (a fresh boot at the next vcpu-online).
 * - Control from config.controllers: controls.ts, plus vcpu-online {vcpu, pcpu?} and
 *   vcpu-offline {vcpu} on bare metal (the kernel's own CPU hotplug).
 * - Registration (config.registration): at start, control register {vcpus, url, driver} to
 *   config.firmware (the hypervisor, services/hypervisor registration.ts), answered by it alone
 *   with register-result {ok, reason, name, id}. The hypervisor creates the VM (named after this
 *   component) and assigns its virtual interrupts to this component at the GIC, so the guest never
 *   subscribes to them itself; it learns its VM ID from vcpu-online's args. No retry after a
 *   refusal, and no new registration after vm-destroyed: the hypervisor's toolstack stand-in only
 *   makes the VM the guest asked for once.
 * - Observers (config.observers) get `guest-event` control messages: done, notification-callback,
 *   optee-bottom-half, sched-recv-callback.
 *
 * Records (stable field names, read by checkers):
 * - probe: guest-config, vcpu-state {vcpu, online, pcpu}, probe-call {abi, arg?, result, value?},
 *   driver-log {level, text} (the kernel's pr_info/pr_err), probe-failed {why},
 *   notifications-enabled {sri, npi, bitmapCreated} / notifications-disabled {reason},
 *   partitions {ids, host, hostCallback}, partition-list-mismatch, vm-id-mismatch, done {outcome};
 * - interrupts: irq-handled {intid, kind, vcpu}, irq-unhandled {intid, vcpu, reason},
 *   irq-deferred / irq-replayed {intid, vcpu}, work-already-pending {work, vcpu}, work-migrated,
 *   work-refused, ipi-lost;
 * - notifications: info-get {vcpu, iteration, result, morePending, lists, idsSkipped},
 *   info-get-loop-bound {vcpu, iterations}, sched-recv-invalid-partition {partition},
 *   sched-recv-callback, notification-get {vcpu, result, sp, vm, spm, hyp} (bitmaps as "0x…"),
 *   notification-callback {id, type, vcpu, sender}, notification-dropped {id, type, vcpu, reason};
 * - OP-TEE client: optee-call {service, result, data0}, optee-notify-request {id, result},
 *   optee-async-notif {id}, optee-client {result, bottomHalf}, optee-bottom-half {id, vcpu},
 *   optee-notif-wake {id};
 * - controls: notifier-result {op, …, result, errno}, raw-result {label, vcpu, fid, result, regs},
 *   control-refused; life cycle: guest-rebooted, guest-destroyed, guest-recreated, lifecycle-refused;
 *   registration: guest-registering {vcpus, url, driver}, guest-registered {id},
 *   registration-refused {reason};
 *   call-failed {vcpu, fid, reason} (a call that never returned), peer-protocol-error.
 */
import type { Component, ComponentContext, ComponentFactory } from '../../shared/runtime/component.ts';
import { answerMessage, answerOpOf, isOneOf, knownControlOp } from '../../shared/protocol/control.ts';
import type { CallMessage, ControlMessage, InterruptMessage, LifecycleMessage, Message } from '../../shared/protocol/messages.ts';
import { ffaError } from '../../shared/ffa/index.ts';
import { describeConfig, validateGuestConfig, type GuestConfig, type ValidGuestConfig } from './config.ts';
import { DRIVER_CONTROL_OPS, planControl, type DriverAnswer } from './controls.ts';
import { ffaInit } from './driver-probe.ts';
import { DriverState } from './driver-state.ts';
import { GuestGicPort, type InterruptInstance } from './gic-port.ts';
import { takeInterrupt } from './notifications.ts';
import { probeOpteeClient } from './optee-client.ts';
import { VARIANTS, type Variant } from './variants.ts';
import { VcpuSet } from './vcpus.ts';

export type { GuestConfig } from './config.ts';

/** The kernel's life: not booted yet, running (a driver exists), or its VM is gone. */
type GuestPhase = 'waiting-for-boot' | 'running' | 'destroyed';

/** A registering guest's standing with the hypervisor (none: configured, it never registers). */
type RegistrationState = 'none' | 'pending' | 'registered' | 'refused';

/** Under a hypervisor the interrupts are virtual; on bare metal (the SPMD's SMC conduit) physical. */
function instanceOf(config: ValidGuestConfig): InterruptInstance {
  return config.boot === 'on-vcpu-online' ? 'virtual' : 'physical';
}

class Guest implements Component {
  private readonly variant: Variant;
  private readonly vcpus: VcpuSet;
  private readonly gic: GuestGicPort;
  private phase: GuestPhase = 'waiting-for-boot';
  private driver: DriverState | null = null;
  /** INTIDs delivered while the guest held the vCPU offline (Linux replays a pending edge IRQ on enable). */
  private readonly deferred = new Map<number, Set<number>>();
  private registration: RegistrationState = 'none';
  /** A registering guest's VM ID, from the hypervisor's vcpu-online; null until then. */
  private assignedVmId: number | null = null;

  constructor(
    private readonly ctx: ComponentContext,
    private readonly config: ValidGuestConfig,
  ) {
    this.variant = VARIANTS[config.variant];
    this.vcpus = new VcpuSet(ctx, config.placement, config.policies);
    this.gic = new GuestGicPort(ctx, config.gic, instanceOf(config));
  }

  onStart(): void {
    this.ctx.record({ event: 'guest-config', ...describeConfig(this.config), interrupts: this.gic.instance });
    if (this.config.registration) return this.register();
    if (this.gic.instance === 'physical') this.gic.subscribePhysical();
    else if (this.config.vmId !== null) this.gic.subscribeVirtual(this.config.vmId);
    if (this.config.boot !== 'at-start') return;
    this.config.placement.forEach((pcpu, vcpu) => this.setVcpuOnline(vcpu, pcpu));
  }

  onMessage(from: string, message: Message): void {
    switch (message.kind) {
      case 'irq':
        return this.onIrq(from, message);
      case 'lifecycle':
        return this.onLifecycle(from, message);
      case 'control':
        return this.onControl(from, message);
      case 'call':
        return this.refuseCall(from, message);
      case 'protocol-error':
        this.ctx.record({ event: 'peer-protocol-error', from, code: message.code, reason: message.reason });
        return;
      case 'return':
        this.ctx.record({ event: 'message-ignored', from, kind: message.kind });
        return;
    }
  }

  // ---------------------------------------------------------------- boot

  /** The kernel runs: ffa_init on the boot vCPU, then the OP-TEE client, then `done`. */
  private boot(bootVcpu: number): void {
    this.phase = 'running';
    const d = new DriverState(this.ctx, this.driverConfig(), this.variant, this.vcpus, this.gic, bootVcpu);
    this.driver = d;
    if (!this.variant.automatic) {
      d.announce({ event: 'done', outcome: 'raw', vcpu: bootVcpu });
      return;
    }
    this.vcpus.enqueue(bootVcpu, {
      name: 'ffa_init',
      kind: 'work',
      run: (cpu, finished) =>
        ffaInit(d, cpu, (ok) => {
          finished();
          if (ok && this.config.opteeClient) this.probeClients(d, cpu);
          else d.announce({ event: 'done', outcome: ok ? 'ready' : 'failed', vcpu: cpu });
        }),
    });
  }

  /** A registered guest's driver expects the ID the hypervisor gave (FFA_ID_GET is checked against it). */
  private driverConfig(): ValidGuestConfig {
    return this.config.registration ? { ...this.config, vmId: this.assignedVmId } : this.config;
  }

  /** Client drivers bind after ffa_init registered the bus devices (their own work item). */
  private probeClients(d: DriverState, cpu: number): void {
    this.vcpus.enqueue(cpu, {
      name: 'optee_ffa_probe',
      kind: 'work',
      run: (vcpu, finished) =>
        probeOpteeClient(d, vcpu, () => {
          finished();
          d.announce({ event: 'done', outcome: 'ready', vcpu });
        }),
    });
  }

  // ---------------------------------------------------------------- vCPUs

  private setVcpuOnline(vcpu: number, pcpu: number): void {
    if (this.phase === 'destroyed') this.reborn();
    this.vcpus.setOnline(vcpu, pcpu);
    this.ctx.record({ event: 'vcpu-state', vcpu, online: true, pcpu });
    if (this.phase === 'waiting-for-boot') this.boot(vcpu);
    this.replayDeferred(vcpu);
  }

  /**
   * The VM was destroyed and the hypervisor created it again under this name (a toolstack's
   * `xl create` after `xl destroy`): a fresh kernel boots at its first vCPU, with its virtual
   * interrupts subscribed again (the GIC dropped them with the old VM).
   */
  private reborn(): void {
    this.phase = 'waiting-for-boot';
    if (this.gic.instance === 'virtual' && this.config.vmId !== null) this.gic.subscribeVirtual(this.config.vmId);
    this.ctx.record({ event: 'guest-recreated' });
  }

  private setVcpuOffline(vcpu: number): void {
    this.vcpus.setOffline(vcpu);
    this.ctx.record({ event: 'vcpu-state', vcpu, online: false, pcpu: this.vcpus.pcpuOf(vcpu) });
  }

  private replayDeferred(vcpu: number): void {
    const intids = this.deferred.get(vcpu);
    if (!intids) return;
    this.deferred.delete(vcpu);
    for (const intid of intids) {
      this.ctx.record({ event: 'irq-replayed', intid, vcpu });
      this.handleInterrupt(intid, vcpu);
    }
  }

  // ---------------------------------------------------------------- interrupts

  private onIrq(from: string, frame: InterruptMessage): void {
    if (frame.op !== 'deliver' || from !== this.config.gic) {
      this.ctx.record({ event: 'message-ignored', from, kind: 'irq', op: frame.op });
      return;
    }
    const vcpu = this.gic.instance === 'virtual' ? (this.vcpus.has(frame.vcpu) ? frame.vcpu : null) : this.vcpus.onPcpu(frame.cpu);
    this.gic.acknowledge(frame);
    if (vcpu === null) this.ctx.record({ event: 'irq-unhandled', intid: frame.intid, vcpu: frame.vcpu, cpu: frame.cpu, reason: 'no such vCPU here' });
    else this.handleInterrupt(frame.intid, vcpu);
    this.gic.endOfInterrupt(frame);
  }

  private handleInterrupt(intid: number, vcpu: number): void {
    if (this.phase !== 'running') {
      this.ctx.record({ event: 'irq-unhandled', intid, vcpu, reason: `guest ${this.phase}` });
      return;
    }
    if (!this.vcpus.isOnline(vcpu)) {
      this.ctx.record({ event: 'irq-deferred', intid, vcpu });
      const set = this.deferred.get(vcpu) ?? new Set<number>();
      set.add(intid);
      this.deferred.set(vcpu, set);
      return;
    }
    if (this.driver && takeInterrupt(this.driver, intid, vcpu)) return;
    this.ctx.record({ event: 'irq-unhandled', intid, vcpu, reason: 'no handler requested for this INTID' });
  }

  // ---------------------------------------------------------------- lifecycle

  private onLifecycle(from: string, message: LifecycleMessage): void {
    if (message.subject !== this.config.name) {
      this.ctx.record({ event: 'message-ignored', from, kind: 'lifecycle', lifecycle: message.event, subject: message.subject });
      return;
    }
    const [vm = -1, vcpu = -1, pcpu = -1] = message.args;
    switch (message.event) {
      case 'vcpu-online':
        if (!this.vcpus.has(vcpu) || !Number.isInteger(pcpu) || pcpu < 0) return this.refuseLifecycle(from, message, 'args are [vm, vcpu, pcpu]');
        if (this.config.registration && Number.isInteger(vm) && vm > 0) this.assignedVmId = vm;
        return this.setVcpuOnline(vcpu, pcpu);
      case 'vcpu-offline':
        if (!this.vcpus.has(vcpu)) return this.refuseLifecycle(from, message, 'args are [vm, vcpu, pcpu]');
        return this.setVcpuOffline(vcpu);
      case 'vm-destroyed':
        return this.stop('destroyed');
      case 'vm-rebooted':
        return this.stop('waiting-for-boot');
      default:
        return this.refuseLifecycle(from, message, 'not an event the guest follows');
    }
  }

  private refuseLifecycle(from: string, message: LifecycleMessage, why: string): void {
    this.ctx.record({ event: 'lifecycle-refused', from, lifecycle: message.event, args: message.args, why });
  }

  /** The VM stopped: this boot's work and calls are forgotten (a reboot boots again at vcpu-online). */
  private stop(next: 'destroyed' | 'waiting-for-boot'): void {
    this.driver?.retire();
    this.driver = null;
    this.vcpus.reset();
    this.deferred.clear();
    this.phase = next;
    this.ctx.record({ event: next === 'destroyed' ? 'guest-destroyed' : 'guest-rebooted' });
  }

  // ---------------------------------------------------------------- control

  private onControl(from: string, message: ControlMessage): void {
    const op = knownControlOp(message.op);
    if (from === this.config.gic && op === 'gic-synced' && this.gic.onSynced(message.data)) return;
    if (op === 'register-result') return this.onRegisterResult(from, message);
    if (!this.config.controllers.has(from)) return this.refuseControl(from, message, 'not a controller of this guest');
    if (op === 'vcpu-online' || op === 'vcpu-offline') return this.hotplug(from, op, message);
    if (op === null || !isOneOf(DRIVER_CONTROL_OPS, op)) return this.refuseControl(from, message, 'unknown op');
    const d = this.driver;
    if (!d || this.phase !== 'running') return this.refuseControl(from, message, `the kernel is ${this.phase}`);
    const plan = planControl(op, message, this.vcpus.count);
    if ('why' in plan) return this.refuseControl(from, message, plan.why);
    const reply = (answer: DriverAnswer) => this.ctx.send(from, answerMessage(op, { ok: true, ...answer }));
    this.vcpus.enqueue(plan.vcpu, { name: `control ${op}`, kind: 'work', run: (cpu, finished) => plan.run(d, cpu, reply, finished) });
  }

  // ---------------------------------------------------------------- registration

  /** The simulation's stand-in for the toolstack's `xl create`: ask the hypervisor for a VM. */
  private register(): void {
    const data = { vcpus: this.config.vcpus, url: this.config.advertiseUrl, driver: this.config.variant };
    this.registration = 'pending';
    this.ctx.record({ event: 'guest-registering', ...data });
    this.ctx.send(this.config.firmware, { kind: 'control', op: 'register', data });
  }

  private onRegisterResult(from: string, message: ControlMessage): void {
    if (from !== this.config.firmware) return this.refuseControl(from, message, `register-result comes from the firmware component (${this.config.firmware}) only`);
    if (this.registration !== 'pending') return this.refuseControl(from, message, 'no registration pending');
    const data = (typeof message.data === 'object' && message.data !== null ? message.data : {}) as Record<string, unknown>;
    const { ok, id, reason } = data;
    if (ok === true && typeof id === 'number' && Number.isInteger(id)) {
      this.registration = 'registered';
      this.ctx.record({ event: 'guest-registered', id });
      return;
    }
    if (ok !== false) return this.refuseControl(from, message, 'data needs ok (a boolean) and, when ok, id (an integer)');
    this.registration = 'refused';
    this.ctx.record({ event: 'registration-refused', reason: typeof reason === 'string' ? reason : null });
    // This guest will never run: a service's log is where its operator looks (a full VM table, say).
    this.ctx.log.error({ reason }, 'the hypervisor refused to register this guest: it has no VM and will not run');
  }

  /** Bare metal CPU hotplug: the kernel's own decision (under a hypervisor it is the hypervisor's). */
  private hotplug(from: string, op: 'vcpu-online' | 'vcpu-offline', message: ControlMessage): void {
    if (this.gic.instance !== 'physical') return this.refuseControl(from, message, 'vCPUs are the hypervisor\'s to take online or offline');
    const data = (typeof message.data === 'object' && message.data !== null ? message.data : {}) as Record<string, unknown>;
    const vcpu = data['vcpu'];
    if (typeof vcpu !== 'number' || !this.vcpus.has(vcpu)) return this.refuseControl(from, message, 'data.vcpu must be a vCPU index');
    const online = op === 'vcpu-online';
    // CPU hotplug: the CPU interface stops (ffa_cpuhp_pcpu_irq_disable) or starts taking
    // interrupts; the answer waits until the GIC has taken the change.
    if (online) {
      const pcpu = typeof data['pcpu'] === 'number' ? data['pcpu'] : this.vcpus.pcpuOf(vcpu);
      this.setVcpuOnline(vcpu, pcpu);
      this.gic.setPhysicalCpu(pcpu, true);
    } else {
      this.gic.setPhysicalCpu(this.vcpus.pcpuOf(vcpu), false);
      this.setVcpuOffline(vcpu);
    }
    this.gic.sync(() => this.ctx.send(from, answerMessage(op, { ok: true, vcpu, online })));
  }

  /** The answer carries the request's label, so a controller waiting for that request hears of the refusal. */
  private refuseControl(from: string, message: ControlMessage, why: string): void {
    this.ctx.record({ event: 'control-refused', from, op: message.op, why });
    const data = typeof message.data === 'object' && message.data !== null ? (message.data as Record<string, unknown>) : {};
    const label = typeof data['label'] === 'string' ? { label: data['label'] } : {};
    this.ctx.send(from, { kind: 'control', op: answerOpOf(message.op), data: { ok: false, why, ...label } });
  }

  /** A guest takes no FF-A calls. */
  private refuseCall(from: string, call: CallMessage): void {
    this.ctx.record({ event: 'call-refused', from, why: 'a guest takes no FF-A calls' });
    this.ctx.reply(from, call, ffaError('NOT_SUPPORTED'));
  }
}

export const create: ComponentFactory<GuestConfig> = (ctx: ComponentContext, config: GuestConfig): Component =>
  new Guest(ctx, validateGuestConfig(config, ctx.name));
