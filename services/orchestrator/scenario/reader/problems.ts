/**
 * The reader's problems of one file, gathered rather than thrown one at a time, so that the file's
 * author sees every problem in one pass. Each check still throws its ScenarioError where it finds
 * the problem; `attempt` marks where the reader can go on without what failed (the next step, the
 * next VM, the next argument), and `throwIfAny` ends a part that cannot. Their number is bounded by
 * the file's (SCENARIO_LIMITS.fileLength): a few per key or value at most.
 */
import { ScenarioError, type ScenarioProblem } from '../errors.ts';

export class Problems {
  private readonly found: ScenarioProblem[] = [];

  /** `check`'s value, or undefined once its refusal is noted; anything but a refusal is a bug and goes on up. */
  attempt<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      this.note(error);
      return undefined;
    }
  }

  /** Notes a refusal and goes on. */
  note(error: ScenarioError): void {
    this.found.push(...error.problems);
  }

  /** Throws one ScenarioError for everything noted so far. */
  throwIfAny(): void {
    if (this.found.length > 0) throw ScenarioError.of(this.found);
  }
}

/**
 * Runs every check of one part (a call's caller, target, registers and expectation), then refuses
 * the part with all their problems together; the values are all there when it returns.
 */
export function allOf<T extends readonly unknown[]>(...checks: { [K in keyof T]: () => T[K] }): T {
  const problems = new Problems();
  const values = checks.map((check) => problems.attempt(check));
  problems.throwIfAny();
  return values as unknown as T;
}
