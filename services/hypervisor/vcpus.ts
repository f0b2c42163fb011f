/**
 * vCPUs: which physical CPU each one runs on and whether it is online (Xen: is_vcpu_online,
 * v->processor). Placement is the hypervisor's to decide; the GIC learns it from lifecycle
 * messages (`vcpu-online` [vm, vcpu, pcpu], `vcpu-offline` [vm, vcpu, pcpu]) and the guest
 * component from the same messages with its VM's name as subject.
 */

export interface Vcpu {
  readonly index: number;
  /** Online: it runs (and may call, and may take the NPI). Offline: Xen's vCPU down (PSCI CPU_OFF). */
  online: boolean;
  /** The physical CPU it runs on while online, and will run on when it comes back. */
  pcpu: number;
}

/** vCPU i on `pcpus[i]`, or on CPU i mod cpus; every vCPU online, as after domain unpause. */
export function placeVcpus(count: number, pcpus: readonly number[] | null, cpus: number): Vcpu[] {
  return Array.from({ length: count }, (_, index) => ({ index, online: true, pcpu: pcpus?.[index] ?? index % cpus }));
}

/** Xen ffa_notif.c notif_vm_pend_intr: `for_each_vcpu(d, v) if ( is_vcpu_online(v) )`. */
export function firstOnlineVcpu(vcpus: readonly Vcpu[]): Vcpu | undefined {
  return vcpus.find((vcpu) => vcpu.online);
}

export function placementOf(vcpus: readonly Vcpu[]): { vcpu: number; pcpu: number; online: boolean }[] {
  return vcpus.map((vcpu) => ({ vcpu: vcpu.index, pcpu: vcpu.pcpu, online: vcpu.online }));
}
