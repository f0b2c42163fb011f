/**
 * Where an interrupt is: at a physical CPU (its banked SGIs/PPIs, or an SPI routed there), or at
 * a VM's vCPU (virtual interrupts). Frames say it with cpu / vm / vcpu and -1 for "none"
 * (messages.ts); records say it with the same field names, only the ones that apply.
 */

export interface PhysicalTarget {
  readonly kind: 'physical';
  readonly cpu: number;
}

export interface VirtualTarget {
  readonly kind: 'virtual';
  readonly vm: number;
  readonly vcpu: number;
}

export type Target = PhysicalTarget | VirtualTarget;

/** The record fields that name a target. */
export function targetFields(target: Target): { cpu: number } | { vm: number; vcpu: number } {
  return target.kind === 'physical' ? { cpu: target.cpu } : { vm: target.vm, vcpu: target.vcpu };
}

