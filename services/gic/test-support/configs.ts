/** The GIC configuration the tests share: 2 CPUs, 8 SPIs, and the rights of a small world. */
import type { GicConfig, GicRights } from '../config.ts';

/** VM 2 is "vm1" (FF-A ID = domid + 1, docs/design.md §2). */
export const VM1_ID = 2;
export const VM2_ID = 3;

export const RIGHTS: Record<string, GicRights> = {
  // The SPMC: secure, raises the SRI and its own secure SGIs, receives secure interrupts.
  spmc: { raisePhysical: true, subscribePhysical: 'all', world: 'secure' },
  // The hypervisor: its CPUs' non-secure interrupts, SGIs between its CPUs, virtual injection, configuration.
  hypervisor: { raisePhysical: true, subscribePhysical: 'all', raiseVirtual: 'any', configure: true },
  // A second observer of CPU 0 only (fan-out).
  monitor: { subscribePhysical: [0] },
  // A guest: its own VM's virtual interrupts only.
  vm1: { subscribeVirtual: [VM1_ID] },
  vm2: { subscribeVirtual: [VM2_ID] },
};

export function gicConfig(overrides: Partial<GicConfig> = {}): GicConfig {
  return { cpus: 2, spis: 8, rights: RIGHTS, ...overrides };
}
