/**
 * The names of the history's semantic records (`ctx.record({ event, … })`, docs/design.md §8),
 * declared once. Services write them; the orchestrator, the checkers and the report match them;
 * `ctx.record` and the history's record events take only these names, so renaming one here, or
 * misspelling one anywhere, fails `tsc` instead of a checker going quiet.
 *
 * Grouped by the component that writes them; each name says in one line what it records. The
 * fields the checkers and the report read are typed in RecordPayloads below: a writer that drops
 * or renames one of them fails `tsc` too. Any record may carry more fields than those.
 */

/** Written by several components, with the same meaning in each. */
export type CommonRecordEvent =
  /** The component's work is over (a run ends when every finisher has written it). */
  | 'done'
  /** A message of a kind or from a sender the component does not take, dropped. */
  | 'message-ignored'
  /** An FF-A call turned away before any handler ran (wrong caller, malformed, not taken here). */
  | 'call-refused'
  /** A control message turned away: not from a controller, an op the component does not take, or bad data. */
  | 'control-refused'
  /** A protocol-error frame a peer sent back. */
  | 'peer-protocol-error'
  /** A life-cycle message or request turned away (bad args, the VM not in that state). */
  | 'lifecycle-refused'
  /** FFA_PARTITION_INFO_GET's descriptors written to the caller's RX buffer. */
  | 'rx-partition-info'
  /** One FFA_NOTIFICATION_INFO_GET of a scheduler's loop: its result and the IDs it returned. */
  | 'info-get'
  /** A scheduler's INFO_GET loop stopped at its bound with more pending. */
  | 'info-get-loop-bound'
  /** A VM went away: the hypervisor destroyed it, or the SPMC took VM_DESTROYED for it. */
  | 'vm-destroyed'
  /** A VM came to be: the hypervisor created it, or the SPMC took VM_CREATED for it. */
  | 'vm-created'
  /** A vCPU online, as the hypervisor placed it. */
  | 'vcpu-online'
  /** A vCPU offline, as the hypervisor took it down. */
  | 'vcpu-offline';

/** The runtime's component host, on a component's behalf (shared/runtime/component-host.ts). */
export type RuntimeRecordEvent =
  /** Work that arrived for a stalled component past its bound, lost. */
  | 'stall-overflow'
  /** A return for no call in flight (its call had timed out or the caller restarted). */
  | 'unmatched-return';

/** The GIC broker (services/gic). */
export type GicRecordEvent =
  /** The broker's configuration at start: its interrupts, rights and list-register counts. */
  | 'gic-start'
  /** An interrupt raised and pending at its target. */
  | 'gic-raise'
  /** A raise that met the same INTID already pending or active at that target, merged into it. */
  | 'gic-merge'
  /** A pending interrupt that cannot be delivered yet, and why (masked, offline, list registers full). */
  | 'gic-hold'
  /** A held virtual interrupt moved into a list register that came free. */
  | 'gic-release'
  /** An interrupt delivered to the component that takes it at its target. */
  | 'gic-deliver'
  /** An acknowledge (the CPU interface's IAR read). */
  | 'gic-ack'
  /** An end of interrupt (EOIR write). */
  | 'gic-eoi'
  /** A pending interrupt taken back before delivery (disabled, its VM destroyed). */
  | 'gic-withdraw'
  /** A subscription to a CPU's or vCPU's deliveries. */
  | 'gic-subscribe'
  /** A subscription dropped. */
  | 'gic-unsubscribe'
  /** An INTID's configuration changed (group, enable, priority, routing). */
  | 'gic-configure'
  /** A vCPU's virtual CPU interface online on a physical CPU. */
  | 'gic-vcpu-online'
  /** A vCPU's virtual CPU interface offline. */
  | 'gic-vcpu-offline'
  /** A VM's virtual interrupts handed to the component that runs it. */
  | 'gic-vm-assigned'
  /** That handing taken back. */
  | 'gic-vm-unassigned'
  /** A VM's virtual CPU interfaces gone, with what was still pending on them. */
  | 'gic-vm-destroyed'
  /** A frame the broker refused, answered with a protocol error. */
  | 'gic-refused'
  /** A frame dropped because the held queue was full. */
  | 'gic-drop'
  /** A protocol-error frame a peer sent the broker (never answered). */
  | 'gic-peer-error';

/** The SPMD at EL3 (services/spmd). */
export type SpmdRecordEvent =
  /** The SPMD's configuration at start. */
  | 'spmd-start'
  /** An SMC forwarded to the other world, with the registers' world switch. */
  | 'spmd-forward'
  /** The other world's answer carried back to the caller. */
  | 'spmd-return'
  /** A forward whose answer never came (timeout, unreachable). */
  | 'spmd-forward-failed'
  /** An SMC the SPMD answered itself (its own ABIs, NOT_SUPPORTED, refusals). */
  | 'spmd-answer'
  /** An SMC whose registers the SPMD could not read. */
  | 'spmd-malformed'
  /** A message the SPMD does not take. */
  | 'spmd-ignored'
  /** The SPMC's boot state changed (it finished its init with FFA_MSG_WAIT). */
  | 'spmd-spmc-state'
  /** FFA_VERSION between a caller and the SPMC, with what each side said. */
  | 'spmd-version-exchange';

/** The SPMC at S-EL1/S-EL2 and its SPs (services/spmc). */
export type SpmcRecordEvent =
  /** The SPMC's configuration at start: profile, partitions, policies. */
  | 'spmc-config'
  /** A relayed call whose endpoint or vCPU is not the SPMC's. */
  | 'call-malformed'
  /** The schedule receiver interrupt raised on a CPU. */
  | 'sri-raise'
  /** The SRI held back on a CPU (the delayed-SRI flag of FFA_NOTIFICATION_SET). */
  | 'sri-delayed'
  /** FFA_RUN of an SP's vCPU, and whether it had notifications pending. */
  | 'sp-run'
  /** An SP answered a direct request with a direct response. */
  | 'direct-response'
  /** A VM_CREATED or VM_DESTROYED framework message taken by an SP. */
  | 'vm-availability'
  /** A message written to a partition's RX buffer by FFA_MSG_SEND2. */
  | 'rx-message'
  /** A direct request to a raw SP (one with no scripted behaviour). */
  | 'raw-sp-request'
  /** OP-TEE registered a VM's asynchronous notification value. */
  | 'optee-async-notif-enabled'
  /** OP-TEE sent an asynchronous notification to a VM (or could not). */
  | 'optee-notif-send'
  /** A notifier SP set a notification for a receiver (or could not). */
  | 'notifier-set';

/** The hypervisor at EL2 (services/hypervisor). */
export type HypervisorRecordEvent =
  /** The hypervisor's configuration at start: profile, VMs, policies. */
  | 'hypervisor-config'
  /** The firmware probe at start finished: present (with its version and SPs) or absent. */
  | 'fw-probe'
  /** One SMC the hypervisor made itself (probe, a VM's bitmap create or destroy). */
  | 'fw-call'
  /** A descriptor in the SPMC's partition list that the hypervisor does not keep (not a secure ID). */
  | 'sp-ignored'
  /** The hypervisor subscribed to the SRI on its CPUs. */
  | 'sri-subscribed'
  /** The hypervisor took the SRI on a CPU (its INFO_GET loop starts). */
  | 'sri-taken'
  /** INFO_GET named a VM with pending notifications. */
  | 'vm-pending'
  /** INFO_GET named an ID the hypervisor does not schedule (itself, an unknown VM). */
  | 'info-get-id-ignored'
  /** A guest's INFO_GET passed to the SPMC unchanged (the passthrough policy). */
  | 'info-get-passthrough'
  /** The notification pending interrupt injected into a VM's vCPU. */
  | 'npi-inject'
  /** A VM's NPI kept for later: none of its vCPUs was online. */
  | 'npi-latched'
  /** A vCPU came online while its VM's NPI stayed latched (the policy does not reinject). */
  | 'npi-still-latched'
  /** A guest's FF-A call, how it was handled and what it returned. */
  | 'guest-call'
  /** A guest called from a vCPU the hypervisor holds offline. */
  | 'call-from-offline-vcpu'
  /** A call relayed from a guest component to the firmware, and its result. */
  | 'relay'
  /** An interrupt the hypervisor does not take. */
  | 'irq-ignored'
  /** A VM rebooted (its vCPUs and notifications reset). */
  | 'vm-rebooted'
  /** A VM request refused (name or ID taken, the firmware's bitmap create failed). */
  | 'vm-refused'
  /** A VM's teardown gave up after its bound of passes with SPs still holding it. */
  | 'vm-teardown-abandoned'
  /** A VM's teardown tried again for the SPs that were busy. */
  | 'vm-teardown-retry'
  /** A guest component registered and got its VM. */
  | 'guest-registered'
  /** The link to a registered guest's component went away. */
  | 'guest-link-lost'
  /** The link to a peer went away. */
  | 'link-lost';

/** The guest kernel's FF-A driver and OP-TEE client (services/guest). */
export type GuestRecordEvent =
  /** The guest's configuration at start. */
  | 'guest-config'
  /** A vCPU online or offline, and its physical CPU. */
  | 'vcpu-state'
  /** One call of the driver's probe (ffa_init) and its result. */
  | 'probe-call'
  /** A line the driver logged (pr_info, pr_err). */
  | 'driver-log'
  /** The probe failed, and why. */
  | 'probe-failed'
  /** The driver set up notifications: its SRI and NPI, and whether the bitmap was created. */
  | 'notifications-enabled'
  /** The driver runs without notifications, and why. */
  | 'notifications-disabled'
  /** The partitions the driver found. */
  | 'partitions'
  /** PARTITION_INFO_GET returned more descriptors than the RX buffer holds. */
  | 'partition-list-mismatch'
  /** FFA_ID_GET gave another ID than the one configured or assigned. */
  | 'vm-id-mismatch'
  /** An interrupt the driver handled (SRI, NPI, an IPI of its work). */
  | 'irq-handled'
  /** An interrupt no handler took. */
  | 'irq-unhandled'
  /** An interrupt for an offline vCPU, kept until it is back. */
  | 'irq-deferred'
  /** A kept interrupt handled after its vCPU came back. */
  | 'irq-replayed'
  /** Work queued on a vCPU that already had it pending (coalesced). */
  | 'work-already-pending'
  /** Work moved off a vCPU that went offline. */
  | 'work-migrated'
  /** Work refused: the vCPU's queue was full. */
  | 'work-refused'
  /** The IPI that carried work was lost (its vCPU offline or missing). */
  | 'ipi-lost'
  /** FFA_NOTIFICATION_GET and the bitmaps it returned. */
  | 'notification-get'
  /** A notification handed to its registered callback. */
  | 'notification-callback'
  /** A notification with no callback to take it, dropped. */
  | 'notification-dropped'
  /** handle_fwk_notif_callbacks read an indirect message from the RX buffer and released the buffer. */
  | 'framework-message'
  /** A write into a buffer that is not this driver's own RX buffer, dropped. */
  | 'memory-ignored'
  /** A schedule-receiver callback ran for a partition. */
  | 'sched-recv-callback'
  /** INFO_GET named a partition with no schedule-receiver callback. */
  | 'sched-recv-invalid-partition'
  /** A call that never returned (timeout, unreachable, busy). */
  | 'call-failed'
  /** A notifier-API control op's outcome (notify-request, -relinquish, -send, sched-recv-register). */
  | 'notifier-result'
  /** A raw FF-A call's outcome (the `call` control op). */
  | 'raw-result'
  /** The OP-TEE client driver's probe outcome. */
  | 'optee-client'
  /** One OP-TEE call of the client and its result. */
  | 'optee-call'
  /** OP-TEE's notification request (the client's FFA_NOTIFICATION_BIND) and its errno. */
  | 'optee-notify-request'
  /** OP-TEE's asynchronous notification value the client registered. */
  | 'optee-async-notif'
  /** OP-TEE's notification woke a waiter in the client. */
  | 'optee-notif-wake'
  /** OP-TEE's bottom half ran on a vCPU. */
  | 'optee-bottom-half'
  /** The guest asks the hypervisor for a VM. */
  | 'guest-registering'
  /** The hypervisor refused the guest's registration. */
  | 'registration-refused'
  /** The VM was destroyed: the kernel stopped. */
  | 'guest-destroyed'
  /** The VM was rebooted: the kernel boots again at its next vCPU online. */
  | 'guest-rebooted'
  /** The VM was created again under this guest's name. */
  | 'guest-recreated';

/** The orchestrator (services/orchestrator). */
export type OrchestratorRecordEvent =
  /** The scenario began: its steps and timed faults. */
  | 'scenario-start'
  /** One step ended: passed or not, with its detail and times. */
  | 'step'
  /** A fault applied. */
  | 'fault-installed'
  /** A fault healed. */
  | 'fault-healed'
  /** A fault that could not be applied, and why. */
  | 'fault-refused'
  /** The faults a swarm drew for this seed. */
  | 'swarm'
  /** A workload step's summary. */
  | 'workload'
  /** A guest that did not finish its probe in time. */
  | 'probe-timeout'
  /** A message the orchestrator does not take. */
  | 'orchestrator-ignored'
  /** The orchestrator's inbox of awaited events was full: an await that cannot tell fails (awaiting.ts). */
  | 'orchestrator-inbox-full'
  /** A workload's first arrival: its start and rate, for the corrected latency. */
  | 'workload-start'
  /** A load workload's drain ended: quiet or not, every bit seen delivered or not. */
  | 'drain'
  /** A call made without waiting (a step's `async: NAME`) got its answer, or failed. */
  | 'pending-call-answer';

/** Test actors and test worlds (the services' test-support folders, shared/runtime/test-world, shared/runtime/ws/test-support). */
export type TestRecordEvent =
  /** A message an actor received. */
  | 'actor-received'
  /** A control answer an actor awaited. */
  | 'actor-control'
  /** A guest-event an actor awaited. */
  | 'actor-event'
  /** A virtual interrupt an actor received. */
  | 'actor-irq'
  /** A life-cycle message an actor received. */
  | 'actor-lifecycle'
  /** An actor's call returned or failed. */
  | 'actor-result'
  /** One poll of an actor's poll step. */
  | 'actor-poll'
  /** A mark step of an actor's script. */
  | 'actor-mark'
  /** An actor's await ran out of time. */
  | 'actor-timeout'
  /** An irq actor's await ran out of time. */
  | 'actor-await-timeout'
  /** An irq actor's settle step needed more than its bound of rounds. */
  | 'actor-settle-unbounded'
  /** The test driver sent a control message. */
  | 'driver-control'
  /** The test driver's call returned or failed. */
  | 'driver-result'
  /** A message the test driver received. */
  | 'driver-received'
  /** The echo component took a call. */
  | 'echo'
  /** A caller's vCPU finished its calls. */
  | 'caller-done'
  /** One call of a caller returned or failed. */
  | 'caller-return'
  /** The fake SPMC took a call. */
  | 'fake-spmc-call'
  /** The fake SPMC began holding its answers. */
  | 'fake-spmc-hold'
  /** The fake SPMC released its held answers. */
  | 'fake-spmc-release'
  /** A flooder's call returned or failed. */
  | 'flood-call'
  /** The random reporter's draws from its stream. */
  | 'draws'
  /** The crasher is about to throw. */
  | 'about-to-crash'
  /** A component the bundler could not bundle started anyway. */
  | 'unbundlable-started';

/** Every record name a component may write. */
export type RecordEvent =
  | CommonRecordEvent
  | RuntimeRecordEvent
  | GicRecordEvent
  | SpmdRecordEvent
  | SpmcRecordEvent
  | HypervisorRecordEvent
  | GuestRecordEvent
  | OrchestratorRecordEvent
  | TestRecordEvent;

/**
 * The fields of the records something reads back (the checkers, the report, the load test, the
 * runner), by name. A bitmap is a "0x…" string, as history lines write 64-bit values.
 */
export interface RecordPayloads {
  'sri-raise': { cpu: number; intid: number; delayed: boolean };
  'npi-inject': { vm: number; vcpu: number; pcpu: number; online: boolean; intid: number; cause: string };
  'notification-callback': { id: number; type: 'sp' | 'vm' | 'fwk'; vcpu: number; sender: number };
  'optee-bottom-half': { id: number | null; vcpu: number };
  /** outcome: 'sent', or why nothing was set (no-optee-sp, no-bitmap, not-enabled, an FF-A error's name). */
  'optee-notif-send': { vm: number; cpu: number; outcome: string; sender: number | null; bitmap: string | null };
  'notifier-set': { sp: number; receiver: number; bitmap: string; cpu: number; outcome: string };
  /** framework: the framework message's name, or null for a partition message. */
  'rx-message': { owner: number; sender: number; size: number; framework: string | null };
  /** The hypervisor's (name, id, …) or the SPMC's (vm, status). */
  'vm-created': { name: string; id: number } | { vm: number; status: string };
  'vm-destroyed': { name: string; id: number } | { vm: number; status: string };
  'gic-vm-destroyed': { vm: number; dropped: number; from: string };
  'guest-config': { name: string; vmId: number | null; vcpus: number };
  'step': { index: number; label: string; passed: boolean; detail: string; startNs: number; endNs: number; skipped?: boolean; returned?: string[] };
  'probe-timeout': { guest: string };
  'fault-installed': { id: string; fault: string; rules: string[]; spec: string };
  'fault-healed': { id: string; fault: string };
}

/** One record of name `Name`: its declared fields (if any are declared), and any others. */
export type RecordOf<Name extends RecordEvent> = { event: Name } & (Name extends keyof RecordPayloads ? RecordPayloads[Name] : unknown) & {
  [field: string]: unknown;
};

/** A record as written and kept: a declared name and its fields. */
export type RecordData = { [Name in RecordEvent]: RecordOf<Name> }[RecordEvent];
