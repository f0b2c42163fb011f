/**
 * The guest's vCPUs and the work that runs on them. Each vCPU is online or offline, runs on a
 * physical CPU, and executes one work item at a time: an SMC/HVC is synchronous, so a vCPU has at
 * most one FF-A call in flight. Work items (the probe, an interrupt's bottom half, a notifier call,
 * an IPI) start after a seeded delay, so the vCPUs of a guest interleave differently per seed
 * under the sim runtime and concurrently under ws.
 *
 * Linux's shapes are kept where the driver depends on them:
 * - WorkStruct is a work_struct: queue_work_on() does nothing while the item is pending (the
 *   WORK_STRUCT_PENDING bit), and a work item that is running is queued again where it runs
 *   (workqueue non-reentrancy), whatever CPU was asked for;
 * - an IPI (smp_call_function_single) runs before queued work on its target; sent to an offline
 *   CPU it is lost (generic_exec_single: -ENXIO);
 * - when a CPU goes offline its pending work moves to an online CPU (workqueue_offline_cpu
 *   unbinds the per-CPU pool), and what was running finishes first.
 */
import type { ComponentContext } from '../../shared/runtime/component.ts';

export type WorkKind = 'work' | 'ipi';

export interface WorkItem {
  readonly name: string;
  readonly kind: WorkKind;
  /** Runs on vCPU `vcpu`; calls `done` exactly once, when the vCPU may take the next item. */
  run(vcpu: number, done: () => void): void;
}

/** Where a vCPU's executor is: nothing to do, a start scheduled after the jitter, or an item running. */
type ExecutorState = 'idle' | 'scheduled' | 'running';

class Vcpu {
  online = false;
  executor: ExecutorState = 'idle';
  readonly queue: WorkItem[] = [];

  constructor(
    readonly index: number,
    public pcpu: number,
  ) {}
}

export interface VcpuLimits {
  readonly workJitterNs: number;
  readonly maxQueuedWorkPerVcpu: number;
}

export class VcpuSet {
  private readonly vcpus: Vcpu[];
  /** Bumped by reset(): continuations of an earlier boot are dropped. */
  private generation = 0;

  constructor(
    private readonly ctx: ComponentContext,
    placement: readonly number[],
    private readonly limits: VcpuLimits,
  ) {
    this.vcpus = placement.map((pcpu, index) => new Vcpu(index, pcpu));
  }

  get count(): number {
    return this.vcpus.length;
  }

  has(index: number): boolean {
    return Number.isInteger(index) && index >= 0 && index < this.vcpus.length;
  }

  isOnline(index: number): boolean {
    return this.vcpu(index).online;
  }

  pcpuOf(index: number): number {
    return this.vcpu(index).pcpu;
  }

  /** The vCPU running on physical CPU `pcpu` (bare metal: the CPU itself), if any. */
  onPcpu(pcpu: number): number | null {
    return this.vcpus.find((vcpu) => vcpu.pcpu === pcpu)?.index ?? null;
  }

  onlineIndexes(): number[] {
    return this.vcpus.filter((vcpu) => vcpu.online).map((vcpu) => vcpu.index);
  }

  firstOnline(): number | null {
    return this.vcpus.find((vcpu) => vcpu.online)?.index ?? null;
  }

  /** Queue `item` on vCPU `index`; an IPI goes before queued work. False when refused (recorded). */
  enqueue(index: number, item: WorkItem): boolean {
    const vcpu = this.vcpu(index);
    if (item.kind === 'ipi' && !vcpu.online) {
      this.ctx.record({ event: 'ipi-lost', vcpu: index, work: item.name, reason: 'target vCPU offline' });
      return false;
    }
    if (vcpu.queue.length >= this.limits.maxQueuedWorkPerVcpu) {
      this.ctx.record({ event: 'work-refused', vcpu: index, work: item.name, reason: 'queue full' });
      return false;
    }
    if (item.kind === 'ipi') vcpu.queue.unshift(item);
    else vcpu.queue.push(item);
    this.kick(vcpu);
    return true;
  }

  /** The vCPU runs (again) on `pcpu`; queued work resumes. */
  setOnline(index: number, pcpu: number): void {
    const vcpu = this.vcpu(index);
    vcpu.online = true;
    vcpu.pcpu = pcpu;
    this.kick(vcpu);
  }

  /** The vCPU stops: its IPIs are lost, its queued work moves to the first online vCPU (or waits for it). */
  setOffline(index: number): void {
    const vcpu = this.vcpu(index);
    vcpu.online = false;
    const target = this.firstOnline();
    for (const item of vcpu.queue.splice(0)) {
      if (item.kind === 'ipi') {
        this.ctx.record({ event: 'ipi-lost', vcpu: index, work: item.name, reason: 'vCPU went offline' });
      } else if (target === null) {
        vcpu.queue.push(item);
      } else {
        this.ctx.record({ event: 'work-migrated', work: item.name, from: index, to: target });
        this.enqueue(target, item);
      }
    }
  }

  /** A new boot: every vCPU offline, every queue empty, running items forgotten. */
  reset(): void {
    this.generation++;
    for (const vcpu of this.vcpus) {
      vcpu.online = false;
      vcpu.executor = 'idle';
      vcpu.queue.length = 0;
    }
  }

  private kick(vcpu: Vcpu): void {
    if (!vcpu.online || vcpu.executor !== 'idle' || vcpu.queue.length === 0) return;
    vcpu.executor = 'scheduled';
    const generation = this.generation;
    const delayNs = this.limits.workJitterNs === 0 ? 0 : this.ctx.random.intBelow(this.limits.workJitterNs + 1);
    this.ctx.setTimer(delayNs, () => {
      if (generation !== this.generation) return;
      vcpu.executor = 'idle';
      this.startNext(vcpu, generation);
    });
  }

  private startNext(vcpu: Vcpu, generation: number): void {
    if (!vcpu.online) return;
    const item = vcpu.queue.shift();
    if (!item) return;
    vcpu.executor = 'running';
    let finished = false;
    item.run(vcpu.index, () => {
      if (finished) throw new Error(`bug: work ${item.name} on vCPU ${vcpu.index} finished twice`);
      finished = true;
      if (generation !== this.generation) return;
      vcpu.executor = 'idle';
      this.kick(vcpu);
    });
  }

  private vcpu(index: number): Vcpu {
    const vcpu = this.vcpus[index];
    if (!vcpu) throw new Error(`bug: vCPU ${index} does not exist (${this.vcpus.length} vCPUs)`);
    return vcpu;
  }
}

/**
 * A work_struct: one instance, queued on a CPU's workqueue. queueOn() returns false when it is
 * already pending (the kernel's queue_work_on); a running instance is queued again on its own CPU.
 */
export class WorkStruct {
  private pending = false;
  private runningOn: number | null = null;

  constructor(
    readonly name: string,
    private readonly vcpus: VcpuSet,
    private readonly body: (vcpu: number, done: () => void) => void,
  ) {}

  queueOn(vcpu: number): boolean {
    if (this.pending) return false;
    // A running instance is queued again where it runs, while that CPU is online.
    const target = this.runningOn !== null && this.vcpus.isOnline(this.runningOn) ? this.runningOn : vcpu;
    this.pending = true;
    const queued = this.vcpus.enqueue(target, {
      name: this.name,
      kind: 'work',
      run: (cpu, done) => {
        this.pending = false;
        this.runningOn = cpu;
        this.body(cpu, () => {
          this.runningOn = null;
          done();
        });
      },
    });
    if (!queued) this.pending = false;
    return queued;
  }
}
