/**
 * The hypervisor's policies (docs/design.md §5): every point where Xen's FF-A mediator made a
 * choice that another hypervisor, or another version of Xen, makes differently (reference
 * ffa-notifications.md §5, §8) is a named policy. A profile (profiles.ts) is a bundle of values;
 * a scenario may override any single one (config.policies).
 */
import {
  checkPolicyValueOf,
  isPolicyNameOf,
  type PolicyCheck,
  type PolicyDefinition,
  policyNames,
  type PolicyValuesOf,
} from '../../shared/config/policies.ts';

/** An SGI or PPI: the guest-visible interrupts are per-vCPU (virtual SGIs in Xen). */
const isSgiOrPpi = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 31;

/** Iterations of the SRI handler's INFO_GET loop before it gives up (Xen itself has no bound). */
const isLoopBound = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 4096;

export const POLICIES = {
  /**
   * §8.5, design §5. Which interrupts FFA_FEATURES offers a guest:
   * - npi-and-sri: Xen today (ffa.c handle_features): NPI and SRI both, unconditionally; the SRI is
   *   never raised (docs/ffa-reference.md §3.6 "advertises a virtual SRI, SGI 9, but never injects it");
   * - npi-only: Xen's FF-A notification patches of early 2024: the NPI only.
   */
  guestInterrupts: {
    values: ['npi-and-sri', 'npi-only'],
    why: '§8.5 which interrupts the hypervisor offers its guests',
  } as PolicyDefinition<'npi-and-sri' | 'npi-only'>,
  /** §3.7: xen/include/public/arch-arm.h GUEST_FFA_NOTIF_PEND_INTR_ID 8. */
  guestNpiIntid: { values: isSgiOrPpi, why: '§3.7/§8.4 guest NPI INTID' } as PolicyDefinition<number>,
  /** §3.7: GUEST_FFA_SCHEDULE_RECV_INTR_ID 9 (offered, never raised). */
  guestSriIntid: { values: isSgiOrPpi, why: '§3.7/§8.4 guest SRI INTID' } as PolicyDefinition<number>,
  /**
   * §8.7. Which vCPU gets the NPI when an SRI names the VM:
   * - first-online: ffa_notif.c notif_vm_pend_intr (for_each_vcpu … is_vcpu_online); nothing when
   *   every vCPU is offline (the notification stays latched in secure_pending);
   * - vcpu0: ffa_raise_rx_buffer_full's choice (d->vcpu[0]), whether online or not.
   */
  npiTargetVcpu: {
    values: ['first-online', 'vcpu0'],
    why: '§8.7 NPI target vCPU',
  } as PolicyDefinition<'first-online' | 'vcpu0'>,
  /**
   * §5.3 and design §5 experiment 5. A vCPU comes online while its VM is latched (secure_pending
   * set, no NPI delivered because every vCPU was offline):
   * - stay-latched: Xen: nothing re-injects; the notification waits for the next SRI naming the
   *   VM or for the guest's own INFO_GET/GET;
   * - reinject: inject the NPI into the vCPU that came online.
   */
  latchedNpiOnVcpuOnline: {
    values: ['stay-latched', 'reinject'],
    why: '§5.3 a latched notification when a vCPU comes online',
  } as PolicyDefinition<'stay-latched' | 'reinject'>,
  /**
   * §8.12. When a guest's GET clears its secure_pending flag:
   * - sp-and-spm: ffa_notif.c ffa_handle_notification_get: only if both the SP and the SPM bitmaps
   *   are requested ("secure world can't have any more pending notifications");
   * - sp-or-spm: if either is requested.
   */
  securePendingClear: {
    values: ['sp-and-spm', 'sp-or-spm'],
    why: '§8.12 clear secure_pending only if SP and SPM requested',
  } as PolicyDefinition<'sp-and-spm' | 'sp-or-spm'>,
  /**
   * §8.13. The success a guest's INFO_GET_32 gets: Xen answers FFA_SUCCESS_64 to both conventions
   * (ffa_handle_notification_info_get); the spec's convention would be FFA_SUCCESS_32.
   */
  infoGet32Answer: {
    values: ['success-64', 'success-32'],
    why: '§8.13 INFO_GET_32 answered with SUCCESS_64',
  } as PolicyDefinition<'success-64' | 'success-32'>,
  /**
   * §5.4, §4.6, design §5. Who answers a guest's INFO_GET:
   * - answer: Xen: the hypervisor, from the VM's own pending flag (destructive, names the caller);
   * - passthrough: forwarded to the SPMC unchanged, as the March 2024 v1 of Linux's guest patch
   *   assumed; the SPMC's answer (every VM it has pending) goes back to the guest.
   */
  guestInfoGet: {
    values: ['answer', 'passthrough'],
    why: '§5.4/§4.6 guest INFO_GET answered or passed through',
  } as PolicyDefinition<'answer' | 'passthrough'>,
  /**
   * §3.5, §8.2, design §8 "no handler loop runs unbounded". ffa_notif.c notif_sri_action loops
   * `do { INFO_GET_64 } while (more pending)` with no bound; against a non-destructive SPMC that
   * sets "more pending" it never ends. The simulation stops after this many iterations and
   * records `info-get-loop-bound`.
   */
  infoGetLoopBound: { values: isLoopBound, why: '§3.5 the INFO_GET loop bound' } as PolicyDefinition<number>,
} as const;

export type PolicyName = keyof typeof POLICIES;

/** One value for every policy. */
export type PolicyValues = PolicyValuesOf<typeof POLICIES>;

export const POLICY_NAMES: PolicyName[] = policyNames(POLICIES);

export function isPolicyName(name: string): name is PolicyName {
  return isPolicyNameOf(POLICIES, name);
}

/** Whether `value` is allowed for the policy; the message says what is. */
export function checkPolicyValue(name: PolicyName, value: unknown): PolicyCheck {
  return checkPolicyValueOf(POLICIES, name, value);
}
