/**
 * The one interception point every message passes, in both runtimes, before it is handed to the
 * link (docs/design.md §7: faults are data applied at the message level). A rule matches
 * envelopes and says what to do with them; each application is a `fault` event in the history.
 */
import type { RandomSource } from './component.ts';
import type { Envelope, MessageKind } from '../protocol/messages.ts';
import type { RegisterFile } from '../ffa/registers.ts';

export type Verdict =
  | { action: 'deliver' }
  | { action: 'drop'; rule: string }
  | { action: 'delay'; rule: string; byNs: number }
  | { action: 'duplicate'; rule: string; copies: number }
  /** Answer a call in place of its callee, with these registers (e.g. FFA_ERROR BUSY). */
  | { action: 'fail'; rule: string; regs: RegisterFile };

export interface MessageMatch {
  kind?: MessageKind;
  from?: string;
  to?: string;
  /** For calls: x0, the function ID. */
  fid?: bigint;
  /** For interrupt frames: the INTID and op. */
  intid?: number;
  irqOp?: string;
  /** For interrupt frames: the VM (FF-A ID) of a virtual one, -1 for a physical one. */
  irqVm?: number;
}

export type FaultAction =
  | { action: 'drop' }
  | { action: 'delay'; byNs: number }
  | { action: 'duplicate'; copies: number }
  | { action: 'fail'; regs: RegisterFile };

export interface FaultRule {
  /** Stable name, shown in the history. */
  id: string;
  match: MessageMatch;
  then: FaultAction;
  /** Apply at most this many times (absent: unbounded). */
  count?: number;
  /** Apply to each match with this probability, drawn from the runtime's fault stream. */
  probability?: number;
}

export interface Interceptor {
  inspect(envelope: Envelope): Verdict;
}

/** Delivers everything. */
export const PASS_THROUGH: Interceptor = { inspect: () => ({ action: 'deliver' }) };

function matches(match: MessageMatch, envelope: Envelope): boolean {
  const { message } = envelope;
  if (match.kind !== undefined && message.kind !== match.kind) return false;
  if (match.from !== undefined && envelope.from !== match.from) return false;
  if (match.to !== undefined && envelope.to !== match.to) return false;
  if (match.fid !== undefined && (message.kind !== 'call' || message.regs[0] !== match.fid)) return false;
  if (match.intid !== undefined && (message.kind !== 'irq' || message.intid !== match.intid)) return false;
  if (match.irqOp !== undefined && (message.kind !== 'irq' || message.op !== match.irqOp)) return false;
  if (match.irqVm !== undefined && (message.kind !== 'irq' || message.vm !== match.irqVm)) return false;
  return true;
}

/**
 * Applies fault rules in order; the first rule that matches and fires decides. Counts are
 * consumed only when a rule fires. Randomness comes from the stream it is handed.
 */
export class RuleInterceptor implements Interceptor {
  private readonly remaining = new Map<string, number>();
  private rules: FaultRule[] = [];

  constructor(
    rules: readonly FaultRule[],
    private readonly random: RandomSource,
  ) {
    this.add(rules);
  }

  /** Install rules while the world runs (a scenario's timed faults), after those already there. */
  add(rules: readonly FaultRule[]): void {
    for (const rule of rules) {
      if (this.rules.some((r) => r.id === rule.id)) throw new Error(`bug: fault rule ${rule.id} is installed twice`);
      if (rule.count !== undefined) this.remaining.set(rule.id, rule.count);
      this.rules.push(rule);
    }
  }

  /** Remove rules by id (a fault healed); unknown ids are ignored, as a heal may race a count running out. */
  remove(ids: readonly string[]): void {
    this.rules = this.rules.filter((rule) => !ids.includes(rule.id));
    for (const id of ids) this.remaining.delete(id);
  }

  inspect(envelope: Envelope): Verdict {
    for (const rule of this.rules) {
      if (!matches(rule.match, envelope)) continue;
      const left = this.remaining.get(rule.id);
      if (left !== undefined && left <= 0) continue;
      if (rule.probability !== undefined && this.random.nextFloat() >= rule.probability) continue;
      if (left !== undefined) this.remaining.set(rule.id, left - 1);
      return { ...rule.then, rule: rule.id };
    }
    return { action: 'deliver' };
  }
}
