/**
 * Profiles (docs/design.md §5): a bundle of policy values per real implementation, plus the
 * implementation's build-time sizes.
 */
import type { PolicyValues } from './policies.ts';

export type ProfileName = 'optee' | 'hafnium';
export const PROFILE_NAMES: readonly ProfileName[] = ['optee', 'hafnium'];

export interface Profile {
  readonly policies: PolicyValues;
  /**
   * NWd VM notification slots, the build's value (a scenario may change it: world spmc.vmSlots):
   * OP-TEE mk/config.mk CFG_VIRT_GUEST_COUNT ?= 2 (guests besides the hypervisor's own context);
   * Hafnium src/arch/aarch64/plat/ffa/spmc.c (src/ffa/spmc/vm.c today) `nwd_vms[MAX_VMS]`, with
   * project/reference/BUILD.gn max_vms = 16 for secure_aem_v8a_fvp and secure_tc.
   */
  readonly vmSlots: number;
}

/** OP-TEE as S-EL1 SPMC (CFG_CORE_SEL1_SPMC=y, CFG_NS_VIRTUALIZATION=y), thread_spmc.c. */
const OPTEE: Profile = {
  vmSlots: 2,
  policies: {
    infoGetDestructiveness: 'none',
    infoGetMorePending: 'list-full-and-another-pending',
    perVcpuNotifications: 'unsupported',
    perVcpuRejection: 'DENIED',
    sriIntid: 8, // QEMU qemu_armv8a with CFG_CORE_SEL1_SPMC=y (FVP would be 9)
    npiIntid: 5, // unused: interruptFeatures 'sri-only' never offers an NPI
    interruptFeatures: 'sri-only',
    sriTiming: 'immediate',
    vmBitmapLifecycle: 'guest-registry',
    bitmapDestroyDeniedWhen: 'pending-or-bound',
    bindingModel: 'bound-bitmap',
    getFlagHandling: 'sp-only',
    getVcpuValidation: 'ignored',
    infoGetConventions: 'smc32-and-smc64',
    nwdSet: 'not-dispatched',
    spSet: 'internal-send',
    spNotificationCalls: 'not-supported',
    versionGate: 'none',
    nwdVersionBeforeNegotiation: '1.0',
    versionAnswer: 'negotiated',
    featuresTable: 'optee',
    reservedBitChecks: 'optee',
    msgSend2: 'not-dispatched',
    partitionInfoGetRegs: 'not-dispatched',
    nwdIdGet: 'not-dispatched',
    runModel: 'resume-preempted-thread',
    frameworkMessageRouting: 'optee-core',
    rxBufferRules: 'optee',
    partitionProperties: 'optee',
  },
};

/** Hafnium as S-EL2 SPMC, newest code read (per-vCPU notifications removed in 2025). */
const HAFNIUM: Profile = {
  vmSlots: 16,
  policies: {
    infoGetDestructiveness: 'per-bit-retrieved',
    infoGetMorePending: 'pending-not-retrieved',
    perVcpuNotifications: 'unsupported',
    perVcpuRejection: 'INVALID_PARAMETERS',
    sriIntid: 8,
    npiIntid: 5,
    interruptFeatures: 'sri-to-nwd-npi-to-sp',
    sriTiming: 'honour-delay-flag',
    vmBitmapLifecycle: 'allocate-on-create',
    bitmapDestroyDeniedWhen: 'pending',
    bindingModel: 'sender-per-bit',
    getFlagHandling: 'reject-vm-hyp-for-vm-receivers',
    getVcpuValidation: 'below-vcpu-count',
    infoGetConventions: 'smc64-only',
    nwdSet: 'supported',
    spSet: 'ffa-abi',
    spNotificationCalls: 'supported',
    versionGate: 'receiver-at-least-1.1',
    nwdVersionBeforeNegotiation: 'spmc-version',
    versionAnswer: 'own',
    featuresTable: 'hafnium',
    reservedBitChecks: 'hafnium',
    msgSend2: 'supported',
    partitionInfoGetRegs: 'supported',
    nwdIdGet: 'answer-zero',
    runModel: 'run-sp-vcpu',
    frameworkMessageRouting: 'hafnium',
    rxBufferRules: 'hafnium',
    partitionProperties: 'hafnium',
  },
};

export const PROFILES: Readonly<Record<ProfileName, Profile>> = { optee: OPTEE, hafnium: HAFNIUM };
