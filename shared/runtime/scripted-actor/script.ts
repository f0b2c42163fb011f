/**
 * A script: steps run one after another. Each step is handed `next` and calls it exactly once,
 * when it is over: at once (a send), or when what it awaits came or timed out. A step that went
 * on twice would run the rest of the script twice, so that throws. Steps that end at once run in
 * a loop, not by recursion, so a long script of sends does not grow the stack.
 */
import { StepContinuedTwiceError } from './errors.ts';

export type StepPerformer<S> = (step: S, index: number, next: () => void) => void;

/** Runs `steps` from the first; `onEnd` after the last is over. */
export function runScript<S>(steps: readonly S[], perform: StepPerformer<S>, onEnd: () => void): void {
  const runFrom = (first: number): void => {
    for (let index = first; ; index++) {
      const step = steps[index];
      if (step === undefined) return onEnd();
      let performing = true;
      let wentOn = false;
      let wentOnAtOnce = false;
      perform(step, index, () => {
        if (wentOn) throw new StepContinuedTwiceError(index);
        wentOn = true;
        if (performing) wentOnAtOnce = true;
        else runFrom(index + 1);
      });
      performing = false;
      if (!wentOnAtOnce) return;
    }
  };
  runFrom(0);
}
