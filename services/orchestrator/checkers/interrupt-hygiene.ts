/**
 * interrupt-hygiene (docs/design.md §8): every interrupt the GIC delivered is acknowledged and
 * ended by its target (gic-ack, gic-eoi) by the end of the run, unless the GIC withdrew it or
 * dropped it with its VM (gic-withdraw, gic-vm-destroyed); and no handler loop ran into its bound
 * (any `*-loop-bound` record, e.g. the INFO_GET "more pending" loop against a non-destructive
 * SPMC, docs/ffa-reference.md §3.5; OP-TEE's client giving up its FFA_RUN loop, `run-loop-bound`).
 *
 * The GIC's records are one component's, so their order is the GIC's own.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import type { WorldModel } from '../scenario/types.ts';
import { evidenceOf, FailureList, outcomeOf, type CheckOutcome } from './evidence.ts';
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

/** Faults applied to this interrupt's frames (deliver, ack, eoi): the likely cause. */
function irqFaults(faults: readonly HistoryEntry[], intid: number, since: number): HistoryEntry[] {
  return faults.filter((e) => e.event.type === 'fault' && e.event.message.kind === 'irq' && e.event.message.intid === intid && e.t >= since).slice(0, 4);
}

function unendedDeliveries(entries: readonly HistoryEntry[], model: WorldModel, failures: FailureList): number {
  const gic = new GicReplay();
  let delivered = 0;
  for (const entry of entries) {
    const { event } = entry;
    if (event.type === 'component' && event.component === model.gic && (event.event === 'start' || event.event === 'restart')) gic.reset();
    const record = recordOf(entry);
    if (!record || record.component !== model.gic) continue;
    if (record.event === 'gic-deliver') delivered++;
    gic.take(record);
  }
  const faults = entries.filter((e) => e.event.type === 'fault');
  for (const left of gic.outstanding.values()) {
    const first = left.delivers[0] as HistoryEntry;
    const intid = Number(left.key.split(':').at(-1));
    const to = [...new Set(left.to)];
    const what = left.ack ? 'was acknowledged but never ended (no EOI)' : 'was never acknowledged';
    failures.add({
      message: `${left.target}, delivered to ${to.join(', ')}, ${what} by the end of the run`,
      bit: null,
      endpoints: [model.gic, ...to],
      events: evidenceOf([...left.delivers, left.ack, ...irqFaults(faults, intid, first.t)]),
    });
  }
  return delivered;
}

function isLoopBound(record: RecordView): boolean {
  return record.event.endsWith('loop-bound') || record.data['result'] === 'run-loop-bound';
}

function loopBounds(entries: readonly HistoryEntry[], failures: FailureList): void {
  for (const entry of entries) {
    const record = recordOf(entry);
    if (!record || !isLoopBound(record)) continue;
    const iterations = numberField(record.data, 'iterations') ?? numberField(record.data, 'resumes');
    failures.add({
      message: `${record.component}: a handler loop ran into its bound (${record.event}${iterations === null ? '' : `, ${iterations} iterations`})`,
      bit: null,
      endpoints: [record.component],
      events: evidenceOf([entry]),
    });
  }
}

export function checkInterruptHygiene(entries: readonly HistoryEntry[], model: WorldModel): CheckOutcome {
  const failures = new FailureList();
  const delivered = unendedDeliveries(entries, model, failures);
  loopBounds(entries, failures);
  return outcomeOf(failures, 'hygiene problem', plural(delivered, ['interrupt delivery', 'interrupt deliveries']));
}
