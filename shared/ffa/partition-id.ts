/**
 * FF-A endpoint IDs (docs/ffa-reference.md §1.5): 16 bits, bit 15 set = secure world by convention
 * (Xen FFA_ID_IS_SECURE, TF-A ffa_is_secure_world_id, Linux FFA_SECURE_PARTITION_ID_FLAG).
 */
import { hex } from './format.ts';

export const SECURE_ID_BIT = 0x8000;

/** ID 0: the hypervisor (Hafnium HF_HYPERVISOR_VM_ID); also TF-A's FFA_NS_ENDPOINT_ID for a bare kernel. */
export const HYPERVISOR_ID = 0;
/** The SPMC manifest `spmc_id` on every TF-A FVP manifest, and Hafnium HF_SPMC_VM_ID. */
export const SPMC_ID = 0x8000;
/** TF-A SPMD_DIRECT_MSG_ENDPOINT_ID and Hafnium HF_SPMD_VM_ID. */
export const SPMD_ID = 0xffff;
/** OP-TEE's logical SP: the first free ID above the SPMC (thread_spmc.c spmc_init), derived, not observed. */
export const OPTEE_SP_ID = 0x8001;

export function isEndpointId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id <= 0xffff;
}

export function isSecureId(id: number): boolean {
  return (id & SECURE_ID_BIT) !== 0;
}

/** Xen ffa_private.h ffa_get_vm_id(): domain ID + 1, so Dom0 is VM 1 and 0 stays the hypervisor's. */
export function vmIdFromDomid(domid: number): number {
  if (!Number.isInteger(domid) || domid < 0 || domid >= SECURE_ID_BIT - 1) throw new RangeError(`domid ${domid} has no normal-world VM ID`);
  return domid + 1;
}

export function domidFromVmId(vmId: number): number {
  if (!isEndpointId(vmId) || vmId === HYPERVISOR_ID || isSecureId(vmId)) throw new RangeError(`${hex(vmId)} is not a VM ID`);
  return vmId - 1;
}

/** w1 as most ABIs carry two IDs: high in [31:16], low in [15:0] (Linux PACK_TARGET_INFO). */
export function packTargetInfo(high: number, low: number): number {
  if (!isEndpointId(high)) throw new RangeError(`target info high half ${high} is not 16-bit`);
  if (!isEndpointId(low)) throw new RangeError(`target info low half ${low} is not 16-bit`);
  return ((high << 16) | low) >>> 0;
}

export function unpackTargetInfo(w1: number): { high: number; low: number } {
  return { high: (w1 >>> 16) & 0xffff, low: w1 & 0xffff };
}
