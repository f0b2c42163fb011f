/**
 * Named service-time tables for the sim runtime (`world.serviceTimes`, shared/runtime/service-time.ts).
 * A table says how long each role's handler holds its processor; with one, contention queues as
 * on hardware and `ffa-world load --runtime sim --rates …` measures where the notification path
 * saturates. Every figure says where it comes from; most are assumptions of the right order of
 * magnitude, said plainly, and a user with measurements of their own platform replaces them.
 */
import type { ServiceTimeTable } from '../../../shared/runtime/service-time.ts';

const US = 1000;

/**
 * A Cortex-A57-class CPU (Juno's big cluster, 900 MHz) with TF-A at EL3, Xen at EL2 and OP-TEE or
 * Hafnium in the secure world. The one measured anchor: TF-A's docs/perf/psci-performance-juno.rst
 * times PSCI_VERSION, "the round trip latency for handling a fast SMC at EL3", at 520-720 ns on
 * the A57s (about 3 µs on the 650 MHz A53s). Everything else is scaled from it by how much more
 * work the handler does, and is an assumption.
 */
const CORTEX_A57_ESTIMATE: ServiceTimeTable = {
  name: 'cortex-a57-estimate',
  roles: {
    spmd: {
      // Assumption: an EL3 entry like PSCI_VERSION's plus saving one world's EL1/EL2 system
      // registers and restoring the other's (TF-A spmd_smc_forward → cm_el1_sysregs_context_save).
      call: 1 * US,
      return: 1 * US,
    },
    spmc: {
      // Assumption: a handler of a few hundred instructions behind the S-EL1 (OP-TEE) or S-EL2
      // (Hafnium) entry; the same table for both, so the profiles differ by protocol alone.
      call: 1.5 * US,
      calls: {
        // Assumption: INFO_GET walks every VM's and SP's pending bitmaps to fill its list
        // (OP-TEE thread_spmc.c, Hafnium api_ffa_notification_info_get).
        FFA_NOTIFICATION_INFO_GET_64: 4 * US,
        FFA_NOTIFICATION_INFO_GET_32: 4 * US,
      },
      return: 0.5 * US,
      // Assumption: OP-TEE's notif_send_async, or an SP's SET, including its own S-EL1 entry.
      control: 2 * US,
    },
    hypervisor: {
      // Assumption: a trap to EL2 and Xen's FF-A mediator's dispatch (xen/arch/arm/tee/ffa.c ffa_handle_call).
      call: 1.5 * US,
      return: 0.5 * US,
      // Assumption: the SRI's handler and Xen's notif_sri_action, or a virtual interrupt's injection.
      irq: 2 * US,
    },
    guest: {
      // Assumption: Linux's NPI handler queuing its work, or the work running GET's callbacks
      // (drivers/firmware/arm_ffa/driver.c notif_get_and_handle).
      irq: 3 * US,
      return: 2 * US,
    },
    gic: {
      // Assumption: a distributor or redistributor register access and the signal to a CPU interface.
      irq: 0.2 * US,
    },
  },
};

export const SERVICE_TIME_TABLES: Readonly<Record<string, ServiceTimeTable>> = {
  [CORTEX_A57_ESTIMATE.name]: CORTEX_A57_ESTIMATE,
};

/** `none`: handlers take no time (the default for scenarios); a table's name otherwise. */
export const SERVICE_TIME_NAMES = ['none', ...Object.keys(SERVICE_TIME_TABLES)] as const;

/** The table `ffa-world load --runtime sim` uses unless told otherwise. */
export const DEFAULT_LOAD_SERVICE_TIMES = CORTEX_A57_ESTIMATE.name;

export function serviceTimeTable(name: string): ServiceTimeTable | null {
  return SERVICE_TIME_TABLES[name] ?? null;
}
