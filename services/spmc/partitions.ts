/**
 * The partition table built from the world description (design docs/scenarios.md
 * world.spmc.partitions), with each SP vCPU's message-loop state.
 */
import type { PartitionInfo } from '../../shared/ffa/index.ts';
import type { HeldCall } from './call-context.ts';
import { partitionProperties, type MessagingMethod, type ResolvedPartition, type SpBehaviourName } from './config.ts';
import type { RegisterFile } from '../../shared/ffa/index.ts';

/** A direct request delivered to a raw SP, whose response the scenario owes (through the relay). */
export interface DeliveredRequest {
  readonly sender: number;
  readonly regs: RegisterFile;
  /** The call to complete with the response. */
  readonly caller: HeldCall;
  /** Whether the SP has read it yet (its relay FFA_MSG_WAIT returned it). */
  fetched: boolean;
}

/**
 * One SP execution context. FF-A's "waiting" state (Hafnium VCPU_STATE_WAITING) is
 * `handling === null && blockedOn === null`: only then can it take a direct request or FFA_RUN;
 * otherwise the sender gets BUSY (Hafnium api_ffa_msg_send_direct_req, docs/ffa-reference.md §2.7).
 */
export class SpVcpu {
  /** A direct request this vCPU received and has not answered yet (raw SPs only). */
  handling: DeliveredRequest | null = null;
  /** The endpoint this vCPU sent a direct request to and still waits for (Hafnium VCPU_STATE_BLOCKED). */
  blockedOn: number | null = null;
  /** A raw SP's relay FFA_MSG_WAIT with nothing to read yet: answered by the next request. */
  parkedWait: HeldCall | null = null;

  get isWaiting(): boolean {
    return this.handling === null && this.blockedOn === null;
  }
}

export class Partition {
  readonly id: number;
  readonly name: string;
  readonly uuid: string;
  readonly behaviour: SpBehaviourName;
  readonly notifications: boolean;
  readonly messaging: readonly MessagingMethod[];
  readonly vcpus: readonly SpVcpu[];
  /** The FF-A version the SP runs at: its manifest's, until it calls FFA_VERSION. */
  version: number;

  constructor(config: ResolvedPartition) {
    this.id = config.id;
    this.name = config.name;
    this.uuid = config.uuid;
    this.behaviour = config.behaviour;
    this.notifications = config.notifications;
    this.messaging = config.messaging;
    this.version = config.ffaVersion;
    this.vcpus = Array.from({ length: config.vcpus }, () => new SpVcpu());
  }

  supports(method: MessagingMethod): boolean {
    return this.messaging.includes(method);
  }

  /**
   * The execution context a message from `cpu` runs on: vCPU 0 of a UP partition, the vCPU pinned
   * to that CPU for an MP one (Hafnium api.c api_ffa_get_vm_vcpu); undefined when there is none.
   */
  vcpuForCpu(cpu: number): { index: number; vcpu: SpVcpu } | undefined {
    const index = this.vcpus.length === 1 ? 0 : cpu;
    const vcpu = this.vcpus[index];
    return vcpu ? { index, vcpu } : undefined;
  }

  /** Partition properties as FFA_PARTITION_INFO_GET reports them (Linux arm_ffa.h FFA_PARTITION_*). */
  properties(): number {
    return partitionProperties(this.messaging, this.notifications);
  }

  info(): PartitionInfo {
    return { id: this.id, vcpus: this.vcpus.length, properties: this.properties(), uuid: this.uuid };
  }
}

export class PartitionTable {
  private readonly byId: ReadonlyMap<number, Partition>;
  readonly all: readonly Partition[];

  constructor(configs: readonly ResolvedPartition[]) {
    this.all = configs.map((config) => new Partition(config));
    this.byId = new Map(this.all.map((partition) => [partition.id, partition]));
  }

  find(id: number): Partition | undefined {
    return this.byId.get(id);
  }

  /** The OP-TEE logical SP, if the world has one. */
  optee(): Partition | undefined {
    return this.all.find((partition) => partition.behaviour === 'optee');
  }
}
