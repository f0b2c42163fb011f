/**
 * struct ffa_drv_info (drivers/firmware/arm_ffa/driver.c) for one boot of the guest: what ffa_init
 * learnt (version, own ID, buffer size, feature flags), the notification state (bitmap created,
 * the SRI and NPI mapped and requested, enabled), the partition table (partition_info, with each
 * partition's schedule-receiver callback), the notifier table (notifier_hash), and the work items.
 * A reboot throws it away and starts a new one.
 */
import { FFA_VERSION_1_2, type BufferContent, type BufferWrite, type PartitionInfo, type RegisterFile } from '../../shared/ffa/index.ts';
import type { ComponentContext } from '../../shared/runtime/component.ts';
import type { RecordData } from '../../shared/protocol/records.ts';

/** The records a guest also tells its observers (guest-event control messages). */
export type Milestone = Extract<RecordData, { event: 'done' | 'notification-callback' | 'optee-bottom-half' | 'sched-recv-callback' }>;
import type { ValidGuestConfig } from './config.ts';
import { describeResult, FirmwareConduit, type CallResult } from './conduit.ts';
import type { GuestGicPort } from './gic-port.ts';
import type { LogLine, Variant } from './variants.ts';
import { assertProbeInvariants, initialProbeState, probeTransition, type ProbeState, type StepOutcome } from './probe-state.ts';
import type { VcpuSet, WorkStruct } from './vcpus.ts';

/** ffa_sched_recv_cb(vcpu, is_per_vcpu, cb_data), run on vCPU `cpu`; `done` when it returns. */
export type SchedRecvCallback = (vcpu: number, perVcpu: boolean, cpu: number, done: () => void) => void;

/** ffa_notifier_cb(notify_id, cb_data), run on vCPU `cpu` (workqueue or IPI context). */
export type NotifierCallback = (id: number, cpu: number) => void;

/** One entry of partition_info: a device (struct ffa_dev_part_info) and its scheduler callback. */
export interface PartitionEntry {
  readonly info: PartitionInfo;
  /** ffa_setup_host_partition's device for the driver's own ID. */
  readonly isHost: boolean;
  schedRecv: SchedRecvCallback | null;
}

/** enum notify_type: which GET bitmap a notifier's bits come from (ffa_notify_type_get). */
export type NotifyType = 'sp' | 'vm' | 'fwk';

/** struct notifier_cb_info. */
export interface NotifierEntry {
  readonly id: number;
  readonly type: NotifyType;
  /** The device (partition ID) that requested it. */
  readonly device: number;
  readonly callback: NotifierCallback;
}

/** The notification part of ffa_drv_info. */
export interface NotificationState {
  bitmapCreated: boolean;
  /** notif_enabled: the notifier API works. */
  enabled: boolean;
  /** The INTID mapped from FEATURES(SRI) / FEATURES(NPI) and requested, or null. */
  sriIntid: number | null;
  npiIntid: number | null;
}

const PR_FMT = 'ARM FF-A: ';

/** What a probe-call record shows beyond the ABI: a value, and a result other than describeResult's. */
export type ProbeShow = (result: CallResult) => { result?: string; value?: unknown };

export class DriverState {
  /** Where ffa_init is (probe-state.ts); only advanceProbe changes it. */
  private probeState: ProbeState;
  /** drv_info->version: the negotiated FF-A version. */
  version = FFA_VERSION_1_2;
  /** drv_info->vm_id; null until FFA_ID_GET answered. */
  vmId: number | null = null;
  rxtxBufferSize = 4096;
  /**
   * drv_info->rx_buffer as the driver reads it: what the firmware last wrote there (partition
   * descriptors, an indirect message), carried to this side by the return of the call that wrote
   * it (shared/ffa/buffer-content.ts); null before anything was written.
   */
  rxBuffer: BufferContent | null = null;
  memOpsNative = false;
  directReq2Supported = false;
  readonly notifications: NotificationState = { bitmapCreated: false, enabled: false, sriIntid: null, npiIntid: null };
  readonly partitions = new Map<number, PartitionEntry>();
  private readonly notifiers = new Map<string, NotifierEntry>();
  /** sched_recv_irq_work (v6.9: irq_work) and notif_pcpu_work, created when the IRQs are requested. */
  schedRecvWork: WorkStruct | null = null;
  notifPcpuWork: WorkStruct | null = null;
  readonly conduit: FirmwareConduit;

  constructor(
    readonly ctx: ComponentContext,
    readonly config: ValidGuestConfig,
    readonly variant: Variant,
    readonly vcpus: VcpuSet,
    readonly gic: GuestGicPort,
    readonly bootVcpu: number,
  ) {
    this.conduit = new FirmwareConduit(ctx, config.firmware, config.conduit, vcpus, () => this.vmId ?? config.vmId ?? 0);
    this.probeState = initialProbeState(variant.automatic);
  }

  get probe(): ProbeState {
    return this.probeState;
  }

  /** ffa_init's step ended with `outcome`: on to the next (probe-state.ts has the order), checked. */
  advanceProbe(outcome: StepOutcome): ProbeState {
    this.probeState = probeTransition(this.probeState, outcome);
    const facts = { vmId: this.vmId, hasOwnPartition: this.vmId !== null && this.partitions.has(this.vmId) };
    assertProbeInvariants(this.probeState, facts, this.variant.automatic);
    return this.probeState;
  }

  /** The ID the driver calls as: its own once ID_GET answered. */
  get ownId(): number {
    if (this.vmId === null) throw new Error('bug: the driver used its own ID before FFA_ID_GET');
    return this.vmId;
  }

  /** A call on `vcpu` (with `tx` in the TX buffer); a write into this driver's RX buffer that comes back is kept in rxBuffer first. */
  invoke(vcpu: number, regs: RegisterFile, done: (result: CallResult) => void, tx: BufferContent | null = null): void {
    this.conduit.invoke(vcpu, regs, (result) => {
      if (result.kind === 'returned' && result.memory !== null) this.takeWrite(result.memory);
      done(result);
    }, tx);
  }

  /** Only a write into its own RX buffer lands in it; anything else is recorded and dropped. */
  private takeWrite(memory: BufferWrite): void {
    const own = this.vmId ?? this.config.vmId ?? 0;
    if (memory.buffer === 'rx' && memory.owner === own) {
      this.rxBuffer = memory.content;
      return;
    }
    this.ctx.record({ event: 'memory-ignored', buffer: memory.buffer, owner: memory.owner, own, kind: memory.content.kind });
  }

  /**
   * One ffa_init step: the call, and a `probe-call` record of what it asked and what came back
   * (`show` gives the record's value, and may name the result when it is not SUCCESS/an error).
   */
  probeCall(vcpu: number, regs: RegisterFile, what: { abi: string; arg?: string }, done: (result: CallResult) => void, show?: ProbeShow): void {
    this.invoke(vcpu, regs, (result) => {
      const shown = show?.(result) ?? {};
      this.ctx.record({
        event: 'probe-call',
        abi: what.abi,
        ...(what.arg === undefined ? {} : { arg: what.arg }),
        result: shown.result ?? describeResult(result),
        ...(shown.value === undefined ? {} : { value: shown.value }),
      });
      done(result);
    });
  }

  /** pr_info / pr_err: the kernel log line, in the component log and the history. */
  log(line: LogLine, prefix = PR_FMT): void {
    const text = `${prefix}${line.text}`;
    if (line.level === 'err') this.ctx.log.error(text);
    else this.ctx.log.info(text);
    this.ctx.record({ event: 'driver-log', level: line.level, text });
  }

  /** A milestone, recorded and told to the observers (guest-event control messages). */
  announce(data: Milestone): void {
    this.ctx.record(data);
    for (const observer of this.config.observers) {
      this.ctx.send(observer, { kind: 'control', op: 'guest-event', data: { guest: this.config.name, ...data } });
    }
  }

  // ---------------------------------------------------------------- notifier_hash

  notifier(id: number, type: NotifyType): NotifierEntry | undefined {
    return this.notifiers.get(`${type}:${id}`);
  }

  addNotifier(entry: NotifierEntry): void {
    this.notifiers.set(`${entry.type}:${entry.id}`, entry);
  }

  removeNotifier(id: number, type: NotifyType): void {
    this.notifiers.delete(`${type}:${id}`);
  }

  /** Stop: late returns of this boot's calls are dropped. */
  retire(): void {
    this.conduit.retire();
  }
}

/** ffa_notify_type_get: bit 15 set → an SP. */
export function notifyTypeOf(device: number): NotifyType {
  return (device & 0x8000) !== 0 ? 'sp' : 'vm';
}
