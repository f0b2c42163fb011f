/**
 * A history's facts, gathered in a first pass before the checkers read it: what a checker must
 * know of the whole run to judge an event when it meets it. When the run ended and how it ended
 * (the orchestrator's `done`), when the last fault healed, which receivers went away and when
 * (an undelivered bit is excused by a departure at any later time), the policies the components
 * announced at start, the workloads and their drains, and which components' histories stop early.
 * Everything kept is bounded by the world (its steps, VMs, workloads), not by the history's length.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { WorldModel } from '../scenario/types.ts';
import { drainOf, isWorkloadControl, workloadStartOf, type WorkloadStart } from './arrivals.ts';
import { numberField, recordOf, type RecordView } from './records.ts';
import { formatMs } from '../../../shared/duration.ts';

/** An orchestrator `step` record. */
export interface StepRecord {
  index: number;
  label: string;
  passed: boolean;
  detail: string;
  startNs: number;
  endNs: number;
  /** A call step that returned: its registers x0.. as hex (step-outcome.ts returnedRegisters). */
  returned?: string[];
}

/** A guest whose link dropped at the hypervisor (`guest-link-lost`), for the result's departures. */
export interface LinkLost {
  id: unknown;
  component: unknown;
}

/** Problems listed beside the steps and checks; past this, counted. */
const PROBLEMS_MAX = 20;

/** A component whose own history stops early (a `tail-missing` event of a merged history). */
export interface MissingTail {
  component: string;
  /** The time of the last event its history holds. */
  lastNs: number;
  detail: string;
}

/**
 * Failures a check could not decide, by the component whose history stops before they were: each
 * check that looks for a missing tail keeps one, and says so in its detail.
 */
export class UndecidedByTail {
  private readonly byComponent = new Map<string, { tail: MissingTail; count: number }>();

  count(tail: MissingTail): void {
    const seen = this.byComponent.get(tail.component);
    if (seen) seen.count++;
    else this.byComponent.set(tail.component, { tail, count: 1 });
  }

  /** "; 3 unknown: spmd's history stops at 812.004 ms, before they were decided (its tail is missing)", or "" when none. */
  note(): string {
    if (this.byComponent.size === 0) return '';
    const parts = [...this.byComponent.values()].map(({ tail, count }) => `${count} unknown: ${tail.component}'s history stops at ${formatMs(tail.lastNs)}, before ${count === 1 ? 'it was' : 'they were'} decided (its tail is missing)`);
    return `; ${parts.join('; ')}`;
  }
}

export class HistoryFacts {
  count = 0;
  /** The earliest and latest times in the history, and the time of its last entry. */
  startNs = 0;
  endNs = 0;
  lastNs = 0;
  faultsApplied = 0;
  /** The last fault applied, or the last timed heal. */
  lastFaultHealNs: number | null = null;
  /** The orchestrator's last `done` record: when the world went quiet, or null. */
  quietAtEndNs: number | null = null;
  readonly steps = new Map<number, StepRecord>();
  readonly problems: string[] = [];
  problemsNotListed = 0;
  readonly linkLost: LinkLost[] = [];
  readonly destroyedVms = new Set<unknown>();
  /** The first BITMAP_DESTROY answer per VM (the hypervisor's fw-call record). */
  readonly bitmapsDestroyed = new Map<unknown, string>();
  /** Per VM ID: when it was destroyed, rebooted or crashed. */
  readonly receiverGoneNs = new Map<number, number[]>();
  /** The first spmc-config and hypervisor-config records' policies. */
  spmcPolicies: Record<string, unknown> | null = null;
  hypervisorPolicies: Record<string, unknown> | null = null;
  readonly workloads: WorkloadStart[] = [];
  /** The workload sends that are arrivals (a workload had started), and the workload of the first. */
  arrivals = 0;
  firstArrivalWorkload: WorkloadStart | null = null;
  /** The SRI's INTID (the SPMC's first sri-raise) and the NPI's (the hypervisor's first npi-inject). */
  sriIntid: number | null = null;
  npiIntid: number | null = null;
  readonly missingTails = new Map<string, MissingTail>();
  private workload: WorkloadStart | null = null;
  private readonly guestVm: Map<string, number>;

  constructor(private readonly model: WorldModel) {
    this.guestVm = new Map(model.guests.map((g) => [g.component, g.vmId]));
  }

  take(entry: HistoryEntry): void {
    this.startNs = this.count === 0 ? entry.t : Math.min(this.startNs, entry.t);
    this.count++;
    this.endNs = Math.max(this.endNs, entry.t);
    this.lastNs = entry.t;
    const { event } = entry;
    if (event.type === 'fault') {
      this.faultsApplied++;
      this.lastFaultHealNs = Math.max(this.lastFaultHealNs ?? 0, entry.t);
    } else if (event.type === 'component') this.onComponent(entry, event.component, event.event, event.detail);
    else if (isWorkloadControl(entry, 'send', this.model) && this.workload) {
      this.arrivals++;
      this.firstArrivalWorkload ??= this.workload;
    }
    const record = recordOf(entry);
    if (record) this.onRecord(record);
  }

  private onComponent(entry: HistoryEntry, component: string, what: string, detail: string): void {
    if (what === 'crash') {
      this.gone(this.guestVm.get(component), entry.t);
      if (!detail.startsWith('fault ')) this.problem(`${component} crashed: ${detail.split('\n')[0] ?? ''}`);
    } else if (what === 'tail-missing') this.missingTails.set(component, { component, lastNs: entry.t, detail });
  }

  private onRecord(record: RecordView): void {
    const { component } = record;
    if (component === this.model.orchestrator) return this.onOrchestrator(record);
    if (component === this.model.hypervisor) this.onHypervisor(record);
    if (component === this.model.spmc) this.onSpmc(record);
    if (record.event === 'guest-destroyed' || record.event === 'guest-rebooted') this.gone(this.guestVm.get(component), record.entry.t);
  }

  private onOrchestrator(record: RecordView): void {
    const { data } = record;
    const t = record.entry.t;
    switch (record.event) {
      case 'step': {
        const returned = data['returned'];
        this.steps.set(Number(data['index']), {
          index: Number(data['index']),
          label: String(data['label']),
          passed: data['passed'] === true,
          detail: String(data['detail']),
          startNs: Number(data['startNs']),
          endNs: Number(data['endNs']),
          ...(Array.isArray(returned) ? { returned: returned.map(String) } : {}),
        });
        return;
      }
      case 'fault-healed':
        this.lastFaultHealNs = Math.max(this.lastFaultHealNs ?? 0, t);
        return;
      case 'done':
        this.quietAtEndNs = data['quiet'] === true ? Number(data['atNs']) : null;
        return;
      case 'probe-timeout':
        this.problem(`${String(data['guest'])} did not finish its probe`);
        return;
    }
    const start = workloadStartOf(record.entry, this.model);
    const drain = start ? null : drainOf(record.entry, this.model);
    if (drain && this.workload) this.workload.drain = drain;
    else if (start) {
      this.workloads.push(start);
      this.workload = start;
    }
  }

  private onHypervisor(record: RecordView): void {
    const { data } = record;
    switch (record.event) {
      case 'guest-link-lost':
        this.linkLost.push({ id: data['id'], component: data['component'] });
        return;
      case 'vm-destroyed':
      case 'vm-rebooted':
        if (record.event === 'vm-destroyed') this.destroyedVms.add(data['id']);
        this.gone(numberField(data, 'id'), record.entry.t);
        return;
      case 'fw-call':
        if (data['abi'] === 'FFA_NOTIFICATION_BITMAP_DESTROY' && !this.bitmapsDestroyed.has(data['vm'])) this.bitmapsDestroyed.set(data['vm'], String(data['status']));
        return;
      case 'hypervisor-config':
        this.hypervisorPolicies ??= (data['policies'] as Record<string, unknown> | undefined) ?? {};
        return;
      case 'npi-inject':
        this.npiIntid ??= numberField(data, 'intid');
        return;
    }
  }

  private onSpmc(record: RecordView): void {
    const { data } = record;
    if (record.event === 'vm-destroyed') this.gone(numberField(data, 'vm'), record.entry.t);
    else if (record.event === 'spmc-config') this.spmcPolicies ??= (data['policies'] as Record<string, unknown> | undefined) ?? {};
    else if (record.event === 'sri-raise') this.sriIntid ??= numberField(data, 'intid');
  }

  private gone(vm: number | null | undefined, t: number): void {
    if (vm === null || vm === undefined) return;
    const times = this.receiverGoneNs.get(vm);
    if (times) times.push(t);
    else this.receiverGoneNs.set(vm, [t]);
  }

  private problem(text: string): void {
    if (this.problems.length < PROBLEMS_MAX) this.problems.push(text);
    else this.problemsNotListed++;
  }

  /** Whether the receiver went away at or after `t` (so an undelivered bit is excused). */
  receiverGoneAfter(receiver: number, t: number): boolean {
    return (this.receiverGoneNs.get(receiver) ?? []).some((gone) => gone >= t);
  }

  /**
   * The first of `components` whose history stops before `t`: what it did after that is not
   * known, so nothing that hinged on it then can be judged.
   */
  missingTailBefore(components: readonly (string | null)[], t: number): MissingTail | null {
    for (const component of components) {
      const tail = component === null ? undefined : this.missingTails.get(component);
      if (tail && tail.lastNs < t) return tail;
    }
    return null;
  }
}
