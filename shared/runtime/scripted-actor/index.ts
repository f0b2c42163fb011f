/** The scripted-actor kernel: awaiting (inbox and waiters on ctx timers), scripts, keys. */
export { Awaiting, type AwaitEachOptions, type AwaitingContext, type AwaitingLimits, type AwaitOptions, type AwaitTimeout, type InboxEntry, type Wanted } from './awaiting.ts';
export { InboxFullError, StepContinuedTwiceError, TooManyWaitersError } from './errors.ts';
export { controlKey, messageHead } from './keys.ts';
export { runScript, type StepPerformer } from './script.ts';
