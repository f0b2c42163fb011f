/**
 * Driver variants (docs/design.md §5 `driver: linux-6.10 | linux-v1-patch | linux-6.9 | raw`) as
 * data: what ffa_notifications_setup does with the firmware's answers, and what each interrupt's
 * handler does. Everything else the probe does is the same for every automatic variant: the
 * shape of ffa_init in the driver.c the reference read (§4.1), so that the variants differ only
 * where the 2024 review argued (§4.6).
 *
 * Sources, drivers/firmware/arm_ffa/driver.c:
 * - linux-6.10: the final shape (§4.2, §4.3): 2b9c66d1abac "Skip creation of the notification
 *   bitmaps", 08530a2aa921 "Add support for handling notification pending interrupt(NPI)", and
 *   (v6.15) "Handle ffa_notification_get correctly at virtual FF-A instance".
 * - linux-v1-patch: Jens Wiklander's [PATCH] "firmware: arm_ffa: support running as a guest in a
 *   vm" (7 Mar 2024, on the v6.9 driver): ffa_get_notif_intid() tries SRI then NPI and maps one
 *   interrupt, whose handler is the v6.9 irq_handler (INFO_GET); BITMAP_CREATE unsupported is no
 *   longer fatal.
 * - linux-6.9: the driver before the patch: "Notifications not supported, continuing with it .."
 *   when FFA_FEATURES(BITMAP_CREATE) fails; only the SRI is mapped (ffa_sched_recv_irq_map).
 * - raw: no automatic behaviour; a scenario makes every call (conformance tests).
 */

export type VariantName = 'linux-6.10' | 'linux-v1-patch' | 'linux-6.9' | 'raw';
export const VARIANT_NAMES: readonly VariantName[] = ['linux-6.10', 'linux-v1-patch', 'linux-6.9', 'raw'];

/** The driver of a guest that names none (docs/design.md §5: the final upstream shape). */
export const DEFAULT_VARIANT: VariantName = 'linux-6.10';

/** What FFA_FEATURES(FFA_NOTIFICATION_BITMAP_CREATE) answering an error does to notification setup. */
export type BitmapCreateUnsupported =
  /** v6.9: pr_info("Notifications not supported, continuing with it ..") and no notifications. */
  | 'abort-notifications'
  /** v6.10 and the v1 patch: the hypervisor created the bitmap; carry on without creating it. */
  | 'skip-creation';

/** Which interrupts ffa_notifications_setup asks FFA_FEATURES for, and maps. */
export type InterruptMapping =
  /** v6.10 ffa_irq_map(SRI), then ffa_irq_map(NPI): both when both are offered. */
  | 'sri-and-npi'
  /** v1 patch ffa_get_notif_intid: FEATURES(SRI); only if that fails, FEATURES(NPI); one interrupt. */
  | 'first-of-sri-npi'
  /** v6.9 ffa_sched_recv_irq_map: FEATURES(SRI) only. */
  | 'sri-only';

/** What a taken interrupt's handler queues. */
export type HandlerAction =
  /** ffa_sched_recv_irq_handler → sched_recv_irq_work → ffa_notification_info_get (the scheduler's loop). */
  | 'info-get-loop'
  /** v6.10 notif_pend_irq_handler → notif_pcpu_work on this CPU → FFA_NOTIFICATION_GET only. */
  | 'get-on-this-vcpu';

/**
 * FFA_NOTIFICATION_GET's flags in notif_get_and_handle:
 * - by-instance (v6.15): SP|SPM for vm_id 0 (the NS physical instance), all four otherwise;
 * - secure-only (v6.9 notif_pcpu_irq_work_fn): SP|SPM always.
 */
export type GetFlagsRule = 'by-instance' | 'secure-only';

/**
 * How ffa_self_notif_handle runs a per-vCPU notification named by INFO_GET on another vCPU:
 * - ipi (v6.10+): smp_call_function_single(vcpu, notif_get_and_handle, info, 0);
 * - work-on-vcpu (v6.9): queue_work_on(vcpu, notif_pcpu_wq, &notif_pcpu_work).
 */
export type PerVcpuDispatch = 'ipi' | 'work-on-vcpu';

export interface Variant {
  readonly name: VariantName;
  /** False for raw: nothing at probe, no handlers; control messages drive every call. */
  readonly automatic: boolean;
  readonly bitmapCreateUnsupported: BitmapCreateUnsupported;
  readonly interruptMapping: InterruptMapping;
  /** The handler of the interrupt mapped from FEATURES(SRI). */
  readonly sriAction: HandlerAction;
  /** The handler of the interrupt mapped from FEATURES(NPI). */
  readonly npiAction: HandlerAction;
  readonly getFlags: GetFlagsRule;
  readonly perVcpuDispatch: PerVcpuDispatch;
  /** The log lines the real driver prints where this variant's setup ends early (pr_info/pr_err). */
  readonly logs: VariantLogs;
}

/** A kernel log line: pr_info or pr_err. */
export interface LogLine {
  readonly level: 'info' | 'err';
  readonly text: string;
}

export interface VariantLogs {
  /** Only where FEATURES(BITMAP_CREATE) failing ends notification setup (v6.9). */
  readonly bitmapCreateUnsupported: LogLine | null;
  readonly bitmapCreateFailed: (errno: number) => LogLine;
}

const LOGS_6_10: VariantLogs = {
  bitmapCreateUnsupported: null,
  bitmapCreateFailed: (errno) => ({ level: 'err', text: `Notification bitmap create error ${errno}` }),
};

const LINUX_6_10: Variant = {
  name: 'linux-6.10',
  automatic: true,
  bitmapCreateUnsupported: 'skip-creation',
  interruptMapping: 'sri-and-npi',
  sriAction: 'info-get-loop',
  npiAction: 'get-on-this-vcpu',
  getFlags: 'by-instance',
  perVcpuDispatch: 'ipi',
  logs: LOGS_6_10,
};

const LINUX_V1_PATCH: Variant = {
  name: 'linux-v1-patch',
  automatic: true,
  bitmapCreateUnsupported: 'skip-creation',
  interruptMapping: 'first-of-sri-npi',
  // The one interrupt's handler is v6.9's irq_handler, whichever feature gave its INTID.
  sriAction: 'info-get-loop',
  npiAction: 'info-get-loop',
  getFlags: 'secure-only',
  perVcpuDispatch: 'work-on-vcpu',
  logs: {
    bitmapCreateUnsupported: null,
    bitmapCreateFailed: (errno) => ({ level: 'err', text: `notification_bitmap_create error ${errno}` }),
  },
};

const LINUX_6_9: Variant = {
  name: 'linux-6.9',
  automatic: true,
  bitmapCreateUnsupported: 'abort-notifications',
  interruptMapping: 'sri-only',
  sriAction: 'info-get-loop',
  npiAction: 'info-get-loop', // never mapped
  getFlags: 'secure-only',
  perVcpuDispatch: 'work-on-vcpu',
  logs: {
    bitmapCreateUnsupported: { level: 'info', text: 'Notifications not supported, continuing with it ..' },
    bitmapCreateFailed: (errno) => ({ level: 'info', text: `Notification bitmap create error ${errno}` }),
  },
};

const RAW: Variant = {
  name: 'raw',
  automatic: false,
  bitmapCreateUnsupported: 'skip-creation',
  interruptMapping: 'sri-and-npi',
  sriAction: 'info-get-loop',
  npiAction: 'get-on-this-vcpu',
  getFlags: 'by-instance',
  perVcpuDispatch: 'ipi',
  logs: LOGS_6_10,
};

export const VARIANTS: Readonly<Record<VariantName, Variant>> = {
  'linux-6.10': LINUX_6_10,
  'linux-v1-patch': LINUX_V1_PATCH,
  'linux-6.9': LINUX_6_9,
  raw: RAW,
};

export function isVariantName(value: unknown): value is VariantName {
  return typeof value === 'string' && (VARIANT_NAMES as readonly string[]).includes(value);
}
