/**
 * The answers to the calls a scenario made without waiting (`async: NAME`, docs/scenarios.md
 * "Calls made without waiting"): kept from when each comes until the step that awaits or answers
 * the call takes it, so an answer that comes first is not lost, and a step that comes first waits.
 * Bounded by the scenario's steps: one entry per async call step, each taken at most once (the
 * reader checks that, scenario/reader/pending-calls.ts).
 */
import type { BufferWrite, RegisterFile } from '../../shared/ffa/index.ts';

/** A call's answer: its registers and what it wrote into an RX buffer, or why there are none (it timed out, was refused, …). */
export type CallAnswer = { readonly ok: true; readonly regs: RegisterFile; readonly memory: BufferWrite | null } | { readonly ok: false; readonly detail: string };

/** An answer with the time it came. */
export type TimedAnswer = CallAnswer & { readonly atNs: number };

interface Pending {
  answer: TimedAnswer | null;
  waiter: ((answer: TimedAnswer) => void) | null;
}

export class PendingAnswers {
  private readonly calls = new Map<string, Pending>();

  /** The call NAME was made; its answer is to come. */
  made(name: string): void {
    if (this.calls.has(name)) throw new Error(`bug: a second call named ${name} (the reader gives each its own name)`);
    this.calls.set(name, { answer: null, waiter: null });
  }

  /** NAME's answer came: to the step waiting for it, or kept for the step to come. */
  answered(name: string, answer: TimedAnswer): void {
    const pending = this.entry(name);
    if (pending.answer !== null) throw new Error(`bug: call ${name} answered twice`);
    pending.answer = answer;
    const { waiter } = pending;
    pending.waiter = null;
    waiter?.(answer);
  }

  /** `then` with NAME's answer: now if it came, else when it comes. */
  whenAnswered(name: string, then: (answer: TimedAnswer) => void): void {
    const pending = this.entry(name);
    if (pending.answer !== null) return then(pending.answer);
    if (pending.waiter !== null) throw new Error(`bug: call ${name} awaited twice (the reader lets one step take it)`);
    pending.waiter = then;
  }

  private entry(name: string): Pending {
    const pending = this.calls.get(name);
    if (pending === undefined) throw new Error(`bug: no call named ${name} was made (the reader checks the names)`);
    return pending;
  }
}
