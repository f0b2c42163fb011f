/**
 * Errors of a scripted actor's awaiting (one class per kind, each with a stable `code`, as
 * undici's lib/core/errors.js does). Both are bugs or exhausted bounds, so they throw: an actor
 * that dropped what it was sent, or ran a step's continuation twice, would go on wrongly and quietly.
 */

/** The inbox keeps `bound` entries no waiter has claimed, and one more arrived. */
export class InboxFullError extends Error {
  readonly code = 'INBOX_FULL';
  override readonly name = 'InboxFullError';

  constructor(
    readonly bound: number,
    /** The key the refused entry would have been kept under. */
    readonly key: string,
  ) {
    super(`INBOX_FULL: ${bound} entries are kept unclaimed; the next one (${key}) would be lost`);
  }
}

/** More waits pending at once than the bound allows (a script that awaits without end). */
export class TooManyWaitersError extends Error {
  readonly code = 'TOO_MANY_WAITERS';
  override readonly name = 'TooManyWaitersError';

  constructor(
    readonly bound: number,
    readonly label: string,
  ) {
    super(`TOO_MANY_WAITERS: ${bound} waits are pending; ${label} would be one more`);
  }
}

/** A step called its continuation twice: the rest of the script would run twice. */
export class StepContinuedTwiceError extends Error {
  readonly code = 'STEP_CONTINUED_TWICE';
  override readonly name = 'StepContinuedTwiceError';

  constructor(readonly index: number) {
    super(`STEP_CONTINUED_TWICE: step ${index} went on to the next step twice`);
  }
}
