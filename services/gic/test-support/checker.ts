/**
 * An interrupt-hygiene checker over the GIC's records, independent of the broker's code: it
 * replays the records through its own model of the GICv3 edge-triggered life (IHI 0069 §4.1.2)
 * and the priority rule, and says what broke first. Used by the property tests.
 */
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { type GicRecord, records } from './history.ts';

type ModelState = 'inactive' | 'pending' | 'active' | 'active+pending' | 'queued';

interface ModelSlot {
  state: ModelState;
  delivered: boolean;
  /** The CPU a physical delivery or activation is on (SPIs move). */
  cpu: number | null;
}

export interface CheckerOptions {
  cpus: number;
  /** Priority of every INTID before any gic-configure. */
  priorityOf: (intid: number) => number;
}

export interface CheckResult {
  violations: string[];
  /** Targets not inactive at the end (key → state). */
  outstanding: Map<string, ModelState>;
  counts: Record<string, number>;
}

const isBanked = (intid: number) => intid < 32;

function keyOf(record: GicRecord): string | undefined {
  const intid = record['intid'];
  if (typeof intid !== 'number') return undefined;
  if (typeof record['vm'] === 'number') return `v:${String(record['vm'])}:${String(record['vcpu'])}:${intid}`;
  if (isBanked(intid)) return typeof record['cpu'] === 'number' ? `p:${String(record['cpu'])}:${intid}` : undefined;
  return `spi:${intid}`;
}

export function checkGicHistory(entries: readonly HistoryEntry[], options: CheckerOptions): CheckResult {
  const slots = new Map<string, ModelSlot>();
  const priorities = new Map<string, number>();
  const violations: string[] = [];
  const counts: Record<string, number> = {};
  const slot = (key: string): ModelSlot => {
    let found = slots.get(key);
    if (!found) slots.set(key, (found = { state: 'inactive', delivered: false, cpu: null }));
    return found;
  };
  const priority = (intid: number, cpu: number): number =>
    priorities.get(isBanked(intid) ? `${cpu}:${intid}` : `spi:${intid}`) ?? options.priorityOf(intid);

  records(entries).forEach((record, index) => {
    counts[record.event] = (counts[record.event] ?? 0) + 1;
    const fail = (why: string) => violations.push(`#${index} ${JSON.stringify(record)}: ${why}`);
    if (record.event === 'gic-configure') {
      applyConfigure(record, priorities, options.cpus);
      return;
    }
    const key = keyOf(record);
    if (key === undefined || record.event === 'gic-refused' || record.event === 'gic-drop') return;
    const s = slot(key);
    const expect = (states: ModelState[], what: string) => {
      if (!states.includes(s.state)) fail(`${what} while ${s.state}`);
    };
    switch (record.event) {
      case 'gic-raise':
        expect(['inactive', 'active'], 'raise');
        s.state = s.state === 'active' ? 'active+pending' : 'pending';
        if (record['state'] !== s.state) fail(`recorded ${String(record['state'])}, model says ${s.state}`);
        break;
      case 'gic-hold':
        if (record['reason'] === 'list-registers-full') s.state = 'queued';
        else if (s.state !== 'pending' || s.delivered) fail('held while not held-pending');
        break;
      case 'gic-release':
        if (record['reason'] === 'list-register-free') {
          expect(['queued'], 'release from the queue');
          s.state = 'pending';
        } else if (s.state !== 'pending' || s.delivered) fail('released while not held-pending');
        break;
      case 'gic-merge':
        expect(['pending', 'active+pending', 'queued'], 'merge');
        break;
      case 'gic-deliver': {
        expect(['pending'], 'deliver');
        const cpu = record['cpu'];
        if (s.delivered) break; // the same delivery fanned out to another subscriber
        if (typeof cpu === 'number') checkPriorityRule(key, cpu, record, slots, priority, fail);
        else checkVirtualRule(key, slots, fail);
        s.delivered = true;
        s.cpu = typeof cpu === 'number' ? cpu : null;
        break;
      }
      case 'gic-ack':
        if (s.state !== 'pending' || !s.delivered) fail(`ack while ${s.state}${s.delivered ? '' : ', not delivered'}`);
        s.state = 'active';
        s.delivered = false;
        break;
      case 'gic-eoi':
        expect(['active', 'active+pending'], 'eoi');
        s.state = s.state === 'active' ? 'inactive' : 'pending';
        if (s.state === 'inactive') s.cpu = null;
        if (record['state'] !== s.state) fail(`recorded ${String(record['state'])}, model says ${s.state}`);
        break;
      case 'gic-withdraw':
        if (s.state !== 'pending' || !s.delivered) fail('withdrawn while not delivered');
        s.delivered = false;
        break;
    }
  });
  const outstanding = new Map([...slots].filter(([, s]) => s.state !== 'inactive').map(([key, s]) => [key, s.state] as const));
  return { violations, outstanding, counts };
}

/**
 * A physical delivery must beat the running priority of its CPU (the highest active priority
 * there), and no other interrupt of the same priority may be delivered and unacknowledged there.
 */
function checkPriorityRule(
  key: string,
  cpu: number,
  record: GicRecord,
  slots: ReadonlyMap<string, ModelSlot>,
  priority: (intid: number, cpu: number) => number,
  fail: (why: string) => void,
): void {
  const intid = record['intid'] as number;
  const mine = priority(intid, cpu);
  for (const [otherKey, other] of slots) {
    if (otherKey === key || otherKey.startsWith('v:')) continue;
    const otherIntid = Number(otherKey.split(':').at(-1));
    const otherCpu = otherKey.startsWith('p:') ? Number(otherKey.split(':')[1]) : other.cpu;
    if (otherCpu !== cpu) continue;
    const theirs = priority(otherIntid, cpu);
    const active = other.state === 'active' || other.state === 'active+pending';
    if (active && theirs <= mine) fail(`delivered at priority ${mine} while INTID ${otherIntid} is active at ${theirs}`);
    if (other.state === 'pending' && other.delivered && theirs === mine) fail(`two deliveries outstanding at priority ${mine}`);
  }
}

/** Virtual interrupts share one priority: one delivered at a time per vCPU, none while one is active. */
function checkVirtualRule(key: string, slots: ReadonlyMap<string, ModelSlot>, fail: (why: string) => void): void {
  const vcpu = key.slice(0, key.lastIndexOf(':') + 1);
  for (const [otherKey, other] of slots) {
    if (otherKey === key || !otherKey.startsWith(vcpu)) continue;
    if (other.state === 'active' || other.state === 'active+pending') fail(`delivered while ${otherKey} is active`);
    if (other.state === 'pending' && other.delivered) fail(`delivered beside ${otherKey}, delivered and unacknowledged`);
  }
}

function applyConfigure(record: GicRecord, priorities: Map<string, number>, cpus: number): void {
  const intid = record['intid'] as number;
  const value = record['priority'];
  if (typeof value !== 'number') return;
  if (!isBanked(intid)) {
    priorities.set(`spi:${intid}`, value);
    return;
  }
  const cpu = record['cpu'];
  const addressed = typeof cpu === 'number' ? [cpu] : Array.from({ length: cpus }, (_, each) => each);
  for (const each of addressed) priorities.set(`${each}:${intid}`, value);
}
