/**
 * The SPMC's policies (docs/design.md §5): every point where the real secure-side
 * implementations disagree (reference ffa-notifications.md §8, plus a few register-level
 * differences found reading the same sources) is a named policy whose values are the real
 * implementations' behaviours. A profile (profiles.ts) is a bundle of values; a scenario may
 * override any single one (config.policies).
 */
import {
  checkPolicyValueOf,
  isPolicyNameOf,
  type PolicyCheck,
  type PolicyDefinition,
  policyNames,
  type PolicyValuesOf,
} from '../../shared/config/policies.ts';
import type { EnforcementPolicy } from '../../shared/ffa/index.ts';

const INTERRUPT_ID = 'an interrupt ID (0..1019)';
const isSgiOrPpiOrSpi = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 1019;

export const POLICIES = {
  /**
   * §8.1. Hafnium src/vm.c vm_notifications_state_info_get: a bit is reported once, then marked
   * retrieved until GET consumes it. OP-TEE thread_spmc.c handle_notification_info_get keeps no
   * state: a guest is reported while anything is pending.
   */
  infoGetDestructiveness: {
    values: ['per-bit-retrieved', 'none'],
    why: '§8.1 INFO_GET destructiveness',
  } as PolicyDefinition<'per-bit-retrieved' | 'none'>,
  /**
   * §8.2. Hafnium api.c: more pending = pending count > retrieved count
   * (vm_notifications_pending_not_retrieved_by_scheduler). OP-TEE: set only when an ID did not fit
   * (add_id_in_regs failed) while a further guest had pending bits.
   */
  infoGetMorePending: {
    values: ['pending-not-retrieved', 'list-full-and-another-pending'],
    why: '§8.2 "more pending" semantics',
  } as PolicyDefinition<'pending-not-retrieved' | 'list-full-and-another-pending'>,
  /**
   * §8.3, §3.1. Hafnium d4065ce2 (2025) rejects the per-vCPU flag of BIND/SET; before it, Hafnium
   * supported per-vCPU notifications (GET returns global + the named vCPU's bits; 89c22131:
   * bind/set kind mismatch → INVALID_PARAMETERS). OP-TEE: global only.
   */
  perVcpuNotifications: {
    values: ['unsupported', 'supported'],
    why: '§8.3 per-vCPU notifications',
  } as PolicyDefinition<'unsupported' | 'supported'>,
  /** §8.3: the code answering an unsupported per-vCPU BIND/SET (Hafnium INVALID_PARAMETERS; OP-TEE DENIED). */
  perVcpuRejection: {
    values: ['INVALID_PARAMETERS', 'DENIED'],
    why: '§8.3 per-vCPU error code',
  } as PolicyDefinition<'INVALID_PARAMETERS' | 'DENIED'>,
  /** §8.4, §3.6: the SRI INTID (Hafnium HF_SCHEDULE_RECEIVER_INTID 8; OP-TEE QEMU 8, FVP 9, stm32 31). */
  sriIntid: { values: isSgiOrPpiOrSpi, why: '§8.4 SRI INTID', expects: INTERRUPT_ID } as PolicyDefinition<number>,
  /** §8.4, §3.7: the NPI INTID offered to SPs (Hafnium HF_NOTIFICATION_PENDING_INTID 5, virtual). */
  npiIntid: { values: isSgiOrPpiOrSpi, why: '§8.4 SP NPI INTID', expects: INTERRUPT_ID } as PolicyDefinition<number>,
  /**
   * §8.5. Hafnium api_ffa_features: SRI only to NWd callers, NPI only to SPs. OP-TEE
   * handle_features: SRI to whoever asks, NPI never (default case → NOT_SUPPORTED).
   */
  interruptFeatures: {
    values: ['sri-to-nwd-npi-to-sp', 'sri-only'],
    why: '§8.5 which interrupts FEATURES offers, and to whom',
  } as PolicyDefinition<'sri-to-nwd-npi-to-sp' | 'sri-only'>,
  /**
   * §8.6. Hafnium: SET/SEND2 with DELAY_SRI sets cpu->is_sri_delayed and the SGI goes out at the next
   * return to the NWd on that CPU (plat_ffa_sri_trigger_if_delayed), the end of an SP's run
   * included (spmc.ts returnsToNormalWorld). OP-TEE notif_send_async: at once; its S-EL1 SPMC
   * keeps no delayed state, so nothing waits for a return (thread_spmc.c).
   */
  sriTiming: {
    values: ['honour-delay-flag', 'immediate'],
    why: '§8.6 SRI timing',
  } as PolicyDefinition<'honour-delay-flag' | 'immediate'>,
  /**
   * §8.8, §8.18, §7. Where a VM's notification state comes from:
   * - allocate-on-create: Hafnium src/ffa/spmc/vm.c ffa_vm_nwd_alloc gives BITMAP_CREATE a slot
   *   (NO_MEMORY when none is free); VM 0 is the other-world VM and needs no slot;
   * - guest-registry: OP-TEE with CFG_NS_VIRTUALIZATION: the VM_CREATED framework message creates
   *   the guest (virt_guest_created, at most CFG_VIRT_GUEST_COUNT = config.vmSlots); BITMAP_CREATE
   *   for any other ID is INVALID_PARAMETERS; VM 0 (HYP_CLNT_ID) is never a guest;
   * - vm0-only: OP-TEE without NS-virtualization: one default_notif_vm_bitmap, VM ID 0 only.
   */
  vmBitmapLifecycle: {
    values: ['allocate-on-create', 'guest-registry', 'vm0-only'],
    why: '§8.8/§8.18 VM bitmap lifecycle and slot exhaustion',
  } as PolicyDefinition<'allocate-on-create' | 'guest-registry' | 'vm0-only'>,
  /** §8.9, §2.2. OP-TEE handle_notification_bitmap_destroy: `nvb->pending || nvb->bound`; Hafnium: pending only. */
  bitmapDestroyDeniedWhen: {
    values: ['pending', 'pending-or-bound'],
    why: '§8.9 BITMAP_DESTROY preconditions',
  } as PolicyDefinition<'pending' | 'pending-or-bound'>,
  /**
   * §8.10, §3.2. sender-per-bit: Hafnium api_ffa_notification_update_bindings (caller/receiver
   * validity, receiver enabled, sender tracked per bit, DENIED when bound elsewhere or pending).
   * bound-bitmap: OP-TEE handle_notification_bind/unbind (one `bound` mask, sender neither checked
   * nor recorded, UNBIND denied only when pending).
   */
  bindingModel: {
    values: ['sender-per-bit', 'bound-bitmap'],
    why: '§8.10 BIND/UNBIND checks',
  } as PolicyDefinition<'sender-per-bit' | 'bound-bitmap'>,
  /**
   * §8.11, §3.4. Hafnium plat_ffa_is_notification_get_valid: VM/HYP flags for a VM receiver →
   * INVALID_PARAMETERS. OP-TEE handle_notification_get: only flag bit 0 (SP) counts; without it,
   * success with zeros.
   */
  getFlagHandling: {
    values: ['reject-vm-hyp-for-vm-receivers', 'sp-only'],
    why: '§8.11 GET flag handling',
  } as PolicyDefinition<'reject-vm-hyp-for-vm-receivers' | 'sp-only'>,
  /** §8.11: GET's vCPU ID checked against the count from BITMAP_CREATE (Hafnium) or ignored (OP-TEE). */
  getVcpuValidation: {
    values: ['below-vcpu-count', 'ignored'],
    why: '§8.11 GET vCPU ID validation',
  } as PolicyDefinition<'below-vcpu-count' | 'ignored'>,
  /** §8.13, §1.1. Hafnium handler.c decodes only INFO_GET_64; OP-TEE both. */
  infoGetConventions: {
    values: ['smc64-only', 'smc32-and-smc64'],
    why: '§8.13 INFO_GET calling convention',
  } as PolicyDefinition<'smc64-only' | 'smc32-and-smc64'>,
  /** §8.14, §3.3. Hafnium: a VM may set notifications for an SP. OP-TEE: SET is not dispatched. */
  nwdSet: {
    values: ['supported', 'not-dispatched'],
    why: '§8.14 SET from the normal world',
  } as PolicyDefinition<'supported' | 'not-dispatched'>,
  /**
   * §7, §3.3. How an SP's SET is carried out: the FF-A ABI with Hafnium's checks, or OP-TEE's
   * internal notif_send_async (the only sender OP-TEE has is itself: OR into the VM's pending
   * bitmap, no binding check, SRI at once).
   */
  spSet: {
    values: ['ffa-abi', 'internal-send'],
    why: '§7 OP-TEE has a single sender, itself; §3.3 Hafnium SET rules',
  } as PolicyDefinition<'ffa-abi' | 'internal-send'>,
  /**
   * §7. SPs' own BIND/UNBIND/GET: Hafnium supports them; OP-TEE's S-EL1 SPMC keeps notification
   * state for VMs only (struct notif_vm_bitmap), so an SP has none → NOT_SUPPORTED.
   */
  spNotificationCalls: {
    values: ['supported', 'not-supported'],
    why: '§7 notification state per VM only (OP-TEE)',
  } as PolicyDefinition<'supported' | 'not-supported'>,
  /** §8.17, §3.2: Hafnium refuses BIND/UNBIND (NOT_SUPPORTED) when the receiver's FF-A version is below 1.1. */
  versionGate: {
    values: ['receiver-at-least-1.1', 'none'],
    why: '§8.17 version gates',
  } as PolicyDefinition<'receiver-at-least-1.1' | 'none'>,
  /** §7, §8.17: OP-TEE starts the NWd at v1.0 (my_rxtx.ffa_vers) until FFA_VERSION; Hafnium uses its own. */
  nwdVersionBeforeNegotiation: {
    values: ['1.0', 'spmc-version'],
    why: '§7/§8.17 OP-TEE starts at v1.0 and renegotiates',
  } as PolicyDefinition<'1.0' | 'spmc-version'>,
  /**
   * §1.4, §7. OP-TEE spmc_exchange_version answers the negotiated version (1.0 below 1.1, else
   * capped at its own). Hafnium api_ffa_version answers its own version (NOT_SUPPORTED for another
   * major) and records min(requested, own).
   */
  versionAnswer: {
    values: ['negotiated', 'own'],
    why: '§1.4/§7 FFA_VERSION answer',
  } as PolicyDefinition<'negotiated' | 'own'>,
  /**
   * §7, §3.6. Which function IDs FFA_FEATURES reports: OP-TEE handle_features' fixed list
   * (including SET, which it does not dispatch, and not RUN or MSG_SEND2, which it does or does
   * not), or Hafnium's per caller and per version answer (v1.1 ABIs NOT_SUPPORTED below v1.1).
   */
  featuresTable: {
    values: ['hafnium', 'optee'],
    why: '§7 FEATURES answers (not a numbered §8 item)',
  } as PolicyDefinition<'hafnium' | 'optee'>,
  /** §2 "checked by": which reserved-bit rules of the shared/ffa codecs are enforced. */
  reservedBitChecks: {
    values: ['hafnium', 'optee', 'tf-a', 'xen', 'strict', 'none'],
    why: '§2 register layouts, "checked by" per implementation',
  } as PolicyDefinition<EnforcementPolicy>,
  /** §3.8. Hafnium implements FFA_MSG_SEND2; OP-TEE's thread_spmc_msg_recv has no case for it. */
  msgSend2: {
    values: ['supported', 'not-dispatched'],
    why: '§3.8 MSG_SEND2 and the RX-buffer-full framework notification',
  } as PolicyDefinition<'supported' | 'not-dispatched'>,
  /**
   * FFA_PARTITION_INFO_GET_REGS (v1.2). Hafnium api_ffa_partition_info_get_regs answers it from
   * its partition table (and offers it in FFA_FEATURES from v1.2). OP-TEE: thread_spmc_msg_recv
   * has no case for it and handle_features does not list it. 'not-dispatched' with the Hafnium
   * FEATURES table is an SPMC that offers the call and refuses it.
   */
  partitionInfoGetRegs: {
    values: ['supported', 'not-dispatched'],
    why: '§4.1/§6 register-based partition discovery (not a §8 item)',
  } as PolicyDefinition<'supported' | 'not-dispatched'>,
  /**
   * FFA_ID_GET reaching the SPMC from the NWd (the SPMD normally answers it, §6): Hafnium answers
   * the other-world VM's ID 0; OP-TEE's thread_spmc_msg_recv has no case for it.
   */
  nwdIdGet: {
    values: ['answer-zero', 'not-dispatched'],
    why: '§6 (not a §8 item): who answers ID_GET',
  } as PolicyDefinition<'answer-zero' | 'not-dispatched'>,
  /**
   * §2.7 FFA_RUN. Hafnium runs the target SP vCPU, which gives the CPU back with FFA_MSG_WAIT.
   * OP-TEE spmc_handle_run resumes a thread preempted in an RPC (thread_resume_from_rpc); none is
   * ever preempted here, so it answers INVALID_PARAMETERS.
   */
  runModel: {
    values: ['run-sp-vcpu', 'resume-preempted-thread'],
    why: '§2.7 FFA_RUN (not a §8 item)',
  } as PolicyDefinition<'run-sp-vcpu' | 'resume-preempted-thread'>,
  /**
   * Framework direct messages. optee-core: OP-TEE handle_direct_request serves messages to the
   * SPMC ID and to its own endpoint itself (VERSION, VM_CREATED/DESTROYED into the guest registry).
   * hafnium: VERSION at the SPMC ID; VM_CREATED/DESTROYED go to the subscribed SP.
   */
  frameworkMessageRouting: {
    values: ['hafnium', 'optee-core'],
    why: '§2.7 framework messages (not a §8 item)',
  } as PolicyDefinition<'hafnium' | 'optee-core'>,
  /**
   * RX buffer details. optee: spmc_handle_partition_info_get hands the RX buffer to the caller
   * even when it answers an error, and puts the descriptor size in w3 only for v1.1+ callers;
   * RX_RELEASE and RXTX_UNMAP ignore w1. hafnium: api_ffa_partition_info_get keeps the buffer on
   * error and always reports the size, refuses flags other than bit 0; api_ffa_rx_release denies
   * a release while the RX-buffer-full framework notification is still pending, and w1 names a
   * VM only at the NS physical instance.
   */
  rxBufferRules: {
    values: ['hafnium', 'optee'],
    why: '§2.7/§3.8 RX buffer handling (not a §8 item)',
  } as PolicyDefinition<'hafnium' | 'optee'>,
  /**
   * Partition properties in PARTITION_INFO_GET and _REGS, per caller. hafnium: api.c
   * api_ffa_partitions_info_get_properties over src/ffa/spmc/setup_and_discovery.c
   * ffa_setup_partition_properties: DIRECT_REQ_SEND only to SP callers (SPs never send direct
   * requests to the other world); NOTIFICATION and INDIRECT_MSG only for partitions at v1.1+;
   * VM_CREATED/DESTROYED only to NWd callers. optee: thread_spmc.c spmc_fill_partition_entry
   * reports the same bits to every caller.
   */
  partitionProperties: {
    values: ['hafnium', 'optee'],
    why: '§2.7 partition discovery (not a §8 item)',
  } as PolicyDefinition<'hafnium' | 'optee'>,
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
