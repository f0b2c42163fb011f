/**
 * Hypervisor profiles (docs/design.md §5 `hypervisor: xen | raw | none`):
 * - xen: Xen's FF-A mediator (xen/arch/arm/tee/ffa*.c, docs/ffa-reference.md §5): it probes the firmware at
 *   start, sends VM_CREATED/VM_DESTROYED and creates/destroys each VM's notification bitmaps,
 *   mediates every guest FF-A call, and takes the SRI;
 * - raw: nothing automatic, like TF-A Tests' tftf at NS-EL2: no probe, no FF-A calls of its own,
 *   no guest mediation (guest calls get SMCCC NOT_SUPPORTED as from a domain without a TEE
 *   mediator). It takes the SRI (config rawSriIntid) on every CPU and records it, as tftf's
 *   schedule_receiver_interrupt_handler does (test_ffa_notifications.c), but runs no INFO_GET
 *   loop; a controller makes SMCs through it on conduit 'relay', for any
 *   normal-world ID. VMs and vCPUs are still placed and reported (lifecycle is not FF-A);
 * - none: bare metal. The hypervisor component is absent from the world: the host kernel (the
 *   guest component with ID 0) calls the SPMD directly. Nothing is built here for it; a config
 *   naming it is refused so a world cannot include a hypervisor that should not be there.
 */
import type { PolicyValues } from './policies.ts';

export type ProfileName = 'xen' | 'raw' | 'none';
export const PROFILE_NAMES: readonly ProfileName[] = ['xen', 'raw', 'none'];

/** The profiles a hypervisor component can run. */
export type RunnableProfileName = Exclude<ProfileName, 'none'>;

export interface Profile {
  /** Whether the hypervisor mediates FF-A at all (probe, lifecycle messages, guest calls, the SRI's INFO_GET loop). */
  readonly mediates: boolean;
  /** Whether controllers may make SMCs through it on conduit 'relay'. */
  readonly relay: boolean;
  readonly policies: PolicyValues;
}

/** Xen at the commit the reference read (c447b7308b): xen/arch/arm/tee/ffa.c, ffa_notif.c, arch-arm.h. */
const XEN_POLICIES: PolicyValues = {
  guestInterrupts: 'npi-and-sri', // ffa.c handle_features: FFA_FEATURE_NOTIF_PEND_INTR and _SCHEDULE_RECV_INTR
  guestNpiIntid: 8, // arch-arm.h GUEST_FFA_NOTIF_PEND_INTR_ID
  guestSriIntid: 9, // arch-arm.h GUEST_FFA_SCHEDULE_RECV_INTR_ID
  npiTargetVcpu: 'first-online', // ffa_notif.c notif_vm_pend_intr
  latchedNpiOnVcpuOnline: 'stay-latched', // nothing in ffa_notif.c re-injects on vCPU up
  securePendingClear: 'sp-and-spm', // ffa_notif.c ffa_handle_notification_get
  infoGet32Answer: 'success-64', // ffa_notif.c ffa_handle_notification_info_get: FFA_SUCCESS_64 for both
  guestInfoGet: 'answer', // ffa.c ffa_handle_call: FFA_NOTIFICATION_INFO_GET_32/64 handled by Xen
  infoGetLoopBound: 32, // Xen: none (notif_sri_action); the simulation's bound stands in for it, raised to fit the VM table (config.ts fittedPolicies)
};

const XEN: Profile = { mediates: true, relay: false, policies: XEN_POLICIES };

/** tftf at NS-EL2: the policies keep Xen's values but nothing applies them unless a scenario does. */
const RAW: Profile = { mediates: false, relay: true, policies: XEN_POLICIES };

export const PROFILES: Readonly<Record<RunnableProfileName, Profile>> = { xen: XEN, raw: RAW };
