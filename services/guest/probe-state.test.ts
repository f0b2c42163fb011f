import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertProbeInvariants, initialProbeState, isProbeOver, ProbeStep, probeTransition, STEP_OK, type ProbeState, type StepOutcome } from './probe-state.ts';

/** The steps ffa_init goes through when every step ends with the outcome `outcomeAt` gives. */
function walk(outcomeAt: (step: ProbeStep) => StepOutcome): ProbeState[] {
  const states = [initialProbeState(true)];
  for (let state = states[0] as ProbeState; !isProbeOver(state); states.push(state)) state = probeTransition(state, outcomeAt(state.step));
  return states;
}

test('ffa_init runs its steps in driver.c order and ends ready', () => {
  assert.deepEqual(
    walk(() => STEP_OK).map((state) => state.step),
    [ProbeStep.VersionCheck, ProbeStep.IdGet, ProbeStep.RxtxSetup, ProbeStep.DrvinfoFlags, ProbeStep.NotificationsSetup, ProbeStep.SetupPartitions, ProbeStep.Ready],
  );
  assert.deepEqual(initialProbeState(false), { step: ProbeStep.Ready, failure: null }, 'a raw driver has no probe');
});

test('a failure of steps 1-3 ends the driver; of ffa_setup_partitions, after the notification cleanup', () => {
  const failAt = (failing: ProbeStep) => walk((step) => (step === failing ? { ok: false, why: `${step} failed` } : STEP_OK));
  assert.deepEqual(failAt(ProbeStep.IdGet).slice(-2), [{ step: ProbeStep.IdGet, failure: null }, { step: ProbeStep.Failed, failure: 'id-get failed' }]);
  assert.deepEqual(failAt(ProbeStep.SetupPartitions).slice(-2), [
    { step: ProbeStep.NotificationsCleanup, failure: 'setup-partitions failed' },
    { step: ProbeStep.Failed, failure: 'setup-partitions failed' },
  ]);
  // ffa_drvinfo_flags_init and ffa_notifications_setup cannot fail the probe.
  assert.equal(failAt(ProbeStep.NotificationsSetup).at(-1)?.step, ProbeStep.Ready);
});

test('an ended probe does not go on, and the invariants catch a driver without its ID', () => {
  assert.throws(() => probeTransition({ step: ProbeStep.Ready, failure: null }, STEP_OK), /went on after it ended/);
  assert.throws(() => assertProbeInvariants({ step: ProbeStep.RxtxSetup, failure: null }, { vmId: null, hasOwnPartition: false }, true), /no VM ID/);
  assert.throws(() => assertProbeInvariants({ step: ProbeStep.Failed, failure: null }, { vmId: 1, hasOwnPartition: false }, true), /failure null/);
  assertProbeInvariants({ step: ProbeStep.Ready, failure: null }, { vmId: 1, hasOwnPartition: true }, true);
});
