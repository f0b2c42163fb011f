/**
 * interrupt-hygiene (docs/design.md §8): every interrupt the GIC delivered is acknowledged and
 * ended by its target (gic-ack, gic-eoi) by the end of the run, unless the GIC withdrew it or
 * dropped it with its VM (gic-withdraw, gic-vm-destroyed); and no handler loop ran into its bound
 * (any `*-loop-bound` record, e.g. the INFO_GET "more pending" loop against a non-destructive
 * SPMC, docs/ffa-reference.md §3.5; OP-TEE's client giving up its FFA_RUN loop, `run-loop-bound`).
 *
 * The GIC's records are one component's, so their order is the GIC's own. A delivery left open
 * when the GIC or its target stopped writing its history (its tail is missing: the process was
 * killed) is unknown, not a problem: its acknowledge may be in the part that was lost.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { CheckFailure, WorldModel } from '../scenario/types.ts';
import { EvidenceWanted, evidenceOf, failureListOf, KeyedFailures, outcomeOf, type CheckOutcome } from './evidence.ts';
import { type HistoryFacts, UndecidedByTail } from './facts.ts';
import { numberField, recordOf, type RecordView } from './records.ts';
import { plural } from '../../../shared/plural.ts';

/** One delivery the GIC waits to see acknowledged and ended. */
interface Outstanding {
  readonly key: string;
  readonly target: string;
  readonly delivers: HistoryEntry[];
  readonly to: string[];
  ack: HistoryEntry | null;
}

/** `v:vm:vcpu:intid` for a virtual interrupt, `p:cpu:intid` for a physical one. */
function targetOf(data: Record<string, unknown>): { key: string; target: string; vm: number | null } | null {
  const intid = numberField(data, 'intid');
  const vm = numberField(data, 'vm');
  if (intid === null) return null;
  if (vm !== null && vm >= 0) {
    const vcpu = numberField(data, 'vcpu');
    return { key: `v:${vm}:${vcpu}:${intid}`, target: `INTID ${intid} of VM ${vm} vCPU ${vcpu}`, vm };
  }
  const cpu = numberField(data, 'cpu');
  return { key: `p:${cpu}:${intid}`, target: `INTID ${intid} on CPU ${cpu}`, vm: null };
}

class GicReplay {
  readonly outstanding = new Map<string, Outstanding>();

  take(record: RecordView): void {
    const { data } = record;
    if (record.event === 'gic-vm-destroyed') return this.dropVm(numberField(data, 'vm'));
    const target = targetOf(data);
    if (!target) return;
    const current = this.outstanding.get(target.key);
    switch (record.event) {
      case 'gic-deliver':
        return this.deliver(current, target, record);
      case 'gic-ack':
        if (current) current.ack ??= record.entry;
        return;
      case 'gic-eoi':
      case 'gic-withdraw':
        this.outstanding.delete(target.key);
        return;
    }
  }

  private deliver(current: Outstanding | undefined, target: { key: string; target: string }, record: RecordView): void {
    const to = typeof record.data['to'] === 'string' ? record.data['to'] : '?';
    if (current) {
      current.delivers.push(record.entry);
      current.to.push(to);
      return;
    }
    this.outstanding.set(target.key, { key: target.key, target: target.target, delivers: [record.entry], to: [to], ack: null });
  }

  private dropVm(vm: number | null): void {
    for (const key of [...this.outstanding.keys()]) if (key.startsWith(`v:${vm}:`)) this.outstanding.delete(key);
  }

  reset(): void {
    this.outstanding.clear();
  }
}

/** Faults shown per unended delivery, applied to this interrupt's frames (deliver, ack, eoi): the likely cause. */
const IRQ_FAULTS_SHOWN = 4;

function isLoopBound(record: RecordView): boolean {
  return record.event.endsWith('loop-bound') || record.data['result'] === 'run-loop-bound';
}

/** An unended delivery as judged at the end, before the look back for the faults on its interrupt. */
interface Unended {
  readonly left: Outstanding;
  readonly faults: EvidenceWanted;
}

/** The check as a fold: the GIC's records replayed as they come; what is left at the end, unended. */
export class InterruptHygiene {
  private readonly gic = new GicReplay();
  private delivered = 0;
  private readonly loopBounds = new KeyedFailures();
  private unended: Unended[] = [];
  private readonly unknown = new UndecidedByTail();

  constructor(
    private readonly model: WorldModel,
    private readonly facts: HistoryFacts,
  ) {}

  take(entry: HistoryEntry): void {
    const { event } = entry;
    if (event.type === 'component' && event.component === this.model.gic && (event.event === 'start' || event.event === 'restart')) this.gic.reset();
    const record = recordOf(entry);
    if (!record) return;
    if (record.component === this.model.gic) {
      if (record.event === 'gic-deliver') this.delivered++;
      this.gic.take(record);
    }
    if (isLoopBound(record)) this.onLoopBound(record);
  }

  private onLoopBound(record: RecordView): void {
    const iterations = numberField(record.data, 'iterations') ?? numberField(record.data, 'resumes');
    this.loopBounds.add([record.entry.seq], {
      message: `${record.component}: a handler loop ran into its bound (${record.event}${iterations === null ? '' : `, ${iterations} iterations`})`,
      bit: null,
      endpoints: [record.component],
      events: evidenceOf([record.entry]),
    });
  }

  /** The end of the history: what the GIC still waits for. Returns the look back its failures want. */
  evidenceWanted(): EvidenceWanted[] {
    this.unended = [];
    for (const left of this.gic.outstanding.values()) {
      const first = left.delivers[0] as HistoryEntry;
      const tail = this.facts.missingTailBefore([this.model.gic, ...left.to], this.facts.endNs);
      if (tail) {
        this.unknown.count(tail);
        continue;
      }
      const intid = Number(left.key.split(':').at(-1));
      const faults = new EvidenceWanted((e) => e.event.type === 'fault' && e.event.message.kind === 'irq' && e.event.message.intid === intid && e.t >= first.t, IRQ_FAULTS_SHOWN);
      this.unended.push({ left, faults });
    }
    return this.unended.map((u) => u.faults);
  }

  outcome(): CheckOutcome {
    const unended: CheckFailure[] = this.unended.map(({ left, faults }) => {
      const to = [...new Set(left.to)];
      const what = left.ack ? 'was acknowledged but never ended (no EOI)' : 'was never acknowledged';
      return {
        message: `${left.target}, delivered to ${to.join(', ')}, ${what} by the end of the run`,
        bit: null,
        endpoints: [this.model.gic, ...to],
        events: evidenceOf([...left.delivers, left.ack, ...faults.found]),
      };
    });
    const list = failureListOf({ total: unended.length, failures: unended }, { total: this.loopBounds.total, failures: this.loopBounds.values() });
    return outcomeOf(list, 'hygiene problem', `${plural(this.delivered, ['interrupt delivery', 'interrupt deliveries'])}${this.unknown.note()}`);
  }
}
