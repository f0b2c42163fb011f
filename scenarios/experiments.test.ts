/**
 * The experiment catalogue (docs/design.md §10, scenarios/experiments/) as a test: every
 * experiment reaches the verdict its file expects (`{ expect-fail: name }` where the point is a
 * failure) under sim, and experiments 1 to 3 under ws as well. For every expected failure the
 * failing check must fail for the right reason: its failure (the message, and the evidence events
 * the checker attached to it) must show the mechanism, and the history must hold the events that
 * make the mechanism (which call took the bit, which interrupt went unhandled, which fault
 * dropped the SRI).
 *
 * The mechanism is asserted twice: from the history, and in the failure itself (no-lost-notification
 * attaches the hypervisor's INFO_GET and NPI records for the VM and the guest's unhandled interrupt
 * or disabled setup as evidence).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { HistoryEntry } from '../shared/runtime/history.ts';
import { readScenarioFile } from '../services/orchestrator/scenario/reader/index.ts';
import { runScenario, type ScenarioRun } from '../services/orchestrator/run/runner.ts';
import { failuresApartFromSpeed, isSpeedFigure } from '../services/orchestrator/scenario/test-support/verdict.ts';
import type { CheckFailure, CheckResult } from '../services/orchestrator/scenario/types.ts';

const DIR = join(import.meta.dirname, 'experiments');

type Runtime = 'sim' | 'ws';
type Data = Record<string, unknown>;

/** The records `component` made of kind `event`, in its own order. */
function records(entries: readonly HistoryEntry[], component: string, event: string): Data[] {
  return entries.flatMap((e) => (e.event.type === 'record' && e.event.component === component && e.event.data['event'] === event ? [e.event.data] : []));
}

/** A failure as one text: its message, then each evidence event. */
function failureText(failure: CheckFailure): string {
  return [failure.message, ...failure.events.map((e) => e.what)].join('\n');
}

function check(run: ScenarioRun, name: string): CheckResult {
  const found = run.result.checks.find((c) => c.name === name);
  assert.ok(found, `check ${name} ran`);
  return found;
}

/** The expected failure: the check failed (as the file expects) with a failure matching `mechanism`. */
function assertFailedFor(run: ScenarioRun, name: string, mechanism: RegExp): CheckFailure {
  const result = check(run, name);
  assert.equal(result.expectFail, true, `${name} is expected to fail`);
  assert.equal(result.held, false, `${name} failed: ${result.detail}`);
  const failure = result.failures.find((f) => mechanism.test(failureText(f)));
  assert.ok(failure, `a ${name} failure shows ${mechanism}; got:\n${result.failures.map(failureText).join('\n---\n')}`);
  return failure;
}

function assertPassed(run: ScenarioRun): void {
  const { result } = run;
  const trouble = [
    ...result.steps.filter((s) => !s.passed).map((s) => `step ${s.index} ${s.label}: ${s.detail}`),
    ...result.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}\n${c.failures.map(failureText).join('\n')}`),
  ];
  assert.deepEqual(failuresApartFromSpeed(result), [], `${result.name} (${result.runtime}, seed ${result.seed}, ended ${result.ended}):\n${trouble.join('\n')}`);
}

async function run(file: string, runtime: Runtime): Promise<ScenarioRun> {
  const scenario = readScenarioFile(join(DIR, file));
  const done = await runScenario(scenario, { runtime, seed: scenario.seed ?? 7 });
  assertPassed(done);
  return done;
}

/** Every check held (an experiment whose point is that nothing goes wrong); under ws a latency threshold is a speed figure (verdict.ts). */
function assertAllHeld(done: ScenarioRun): void {
  for (const c of done.result.checks) {
    if (!isSpeedFigure(done.result, c)) assert.equal(c.held, true, `${c.name}: ${c.detail}`);
  }
}

const NEVER_RETURNED = (bit: number, receiver: string) => new RegExp(`^notification ${bit} \\(sp bitmap\\) for ${receiver} never returned by a GET`);

interface Experiment {
  file: string;
  runtimes: Runtime[];
  /** Assertions on the run beyond result.passed: the mechanism, in the failure and the history. */
  verify(done: ScenarioRun): void;
  /** What the expected failure's message must also show: the mechanism, named by the checker. */
  shows?: { name: string; mechanism: RegExp };
}

const EXPERIMENTS: Experiment[] = [
  {
    file: 'exp1a-v1-patch-npi-only-passthrough.yaml',
    runtimes: ['sim', 'ws'],
    verify(done) {
      const { entries } = done;
      assertFailedFor(done, 'no-lost-notification', NEVER_RETURNED(0, 'vm1'));
      // Xen's SRI handler took the report first (Hafnium marks it retrieved), then injected the NPI…
      const xen = records(entries, 'hypervisor', 'info-get');
      assert.deepEqual([xen[0]?.['result'], xen[0]?.['ids']], ['OK', [1]], 'the hypervisor\'s INFO_GET named vm1');
      assert.ok(xen.slice(1).every((r) => r['result'] === 'NO_DATA'), 'retrieved: later SRIs find nothing to report');
      assert.deepEqual(records(entries, 'vm1', 'notifications-enabled').map((r) => [r['sri'], r['npi']]), [[null, 8]], 'v1 mapped the NPI only');
      // …whose v1 handler ran INFO_GET, passed through to the SPMC: NO_DATA, and no GET.
      assert.ok(records(entries, 'hypervisor', 'info-get-passthrough').length >= 1);
      const guest = records(entries, 'vm1', 'info-get').map((r) => r['result']);
      assert.ok(guest.length >= 1 && guest.every((r) => r === 'NO_DATA'), `the guest's INFO_GET: ${guest.join(', ')}`);
      assert.deepEqual(records(entries, 'vm1', 'notification-get'), []);
    },
    shows: { name: 'the lost notification\'s failure names the hypervisor\'s INFO_GET that took it and the guest\'s NO_DATA', mechanism: /info-get/ },
  },
  {
    file: 'exp1b-v1-patch-todays-xen-sri9.yaml',
    runtimes: ['sim', 'ws'],
    verify(done) {
      const { entries } = done;
      assertFailedFor(done, 'no-lost-notification', NEVER_RETURNED(0, 'vm1'));
      assert.deepEqual(records(entries, 'vm1', 'notifications-enabled').map((r) => [r['sri'], r['npi']]), [[9, null]], 'v1 mapped SRI 9 only');
      const virtualToVm1 = records(entries, 'gic', 'gic-deliver').filter((r) => r['vm'] === 1);
      assert.ok(virtualToVm1.length >= 1 && virtualToVm1.every((r) => r['intid'] === 8), 'Xen only ever raises NPI 8, never SRI 9');
      const unhandled = records(entries, 'vm1', 'irq-unhandled').map((r) => r['intid']);
      assert.ok(unhandled.length >= 1 && unhandled.every((intid) => intid === 8), 'NPI 8 arrives with no handler');
      assert.deepEqual(records(entries, 'vm1', 'notification-get'), []);
    },
    shows: { name: 'the lost notification\'s failure names the NPI that arrived with no handler', mechanism: /irq-unhandled|injected/ },
  },
  {
    file: 'exp2-linux-6.9-guest-setup-aborted.yaml',
    runtimes: ['sim', 'ws'],
    verify(done) {
      const { entries } = done;
      assertFailedFor(done, 'no-lost-notification', NEVER_RETURNED(5, 'vm1'));
      assert.equal(check(done, 'no-lost-notification').failures.length, 1, 'only vm1\'s bit: vm2 (linux-6.10) got everything');
      assert.deepEqual(records(entries, 'vm1', 'notifications-disabled').map((r) => r['reason']), ['FFA_FEATURES(FFA_NOTIFICATION_BITMAP_CREATE) NOT_SUPPORTED']);
      assert.deepEqual(records(entries, 'vm1', 'optee-notify-request').map((r) => r['result']), ['-EOPNOTSUPP']);
      const toVm1 = records(entries, 'spmc', 'optee-notif-send').filter((r) => r['vm'] === 1);
      assert.ok(toVm1.length > 0 && toVm1.every((r) => r['outcome'] === 'not-enabled'), 'OP-TEE never makes a bit pending for vm1');
      assert.ok(records(entries, 'vm1', 'irq-unhandled').some((r) => r['intid'] === 8), 'the NPI for the other SP\'s bit has no handler');
      assert.deepEqual(records(entries, 'vm1', 'notification-get'), []);
    },
    shows: { name: 'the lost notification\'s failure says why: notification setup aborted on FEATURES(BITMAP_CREATE)', mechanism: /BITMAP_CREATE|notifications-disabled/ },
  },
  {
    file: 'exp3-linux-6.10-nothing-lost.yaml',
    runtimes: ['sim', 'ws'],
    verify(done) {
      assertAllHeld(done);
      for (const vm of ['vm1', 'vm2']) {
        assert.ok(records(done.entries, vm, 'optee-bottom-half').length >= 1, `${vm}: OP-TEE's bottom half ran`);
        assert.deepEqual(records(done.entries, vm, 'info-get'), [], `${vm}: the NPI handler never calls INFO_GET`);
      }
      assert.ok(records(done.entries, 'vm1', 'notification-get').some((r) => r['sp'] === '0x20'), 'the other SP\'s bit 5 reached vm1');
    },
  },
  {
    file: 'exp4-info-get-loop-more-than-20-vms.yaml',
    runtimes: ['sim'],
    verify(done) {
      const { entries } = done;
      assertFailedFor(done, 'interrupt-hygiene', /^hypervisor: a handler loop ran into its bound \(info-get-loop-bound, 32 iterations\)/);
      const bound = records(entries, 'hypervisor', 'info-get-loop-bound');
      assert.equal(bound.length, 1, 'one loop hit the bound: the one that ran with all 21 VMs pending and none able to GET');
      // That loop: 32 returns, each full (20 IDs), each saying more pending, each naming the same 20 VMs.
      const loop = records(entries, 'hypervisor', 'info-get').filter((r) => r['cpu'] === bound[0]?.['cpu'] && r['morePending'] === true);
      const last32 = loop.slice(-32);
      assert.equal(last32.length, 32);
      assert.ok(last32.every((r) => JSON.stringify(r['ids']) === JSON.stringify(last32[0]?.['ids']) && (r['ids'] as number[]).length === 20), 'non-destructive: the same 20 VMs every time');
      assert.ok(records(entries, 'hypervisor', 'npi-latched').length >= 20, 'every named VM latched: no vCPU online');
      // Once the vCPUs are back the next SRI's loop ends by itself, and nothing is lost.
      assert.equal(check(done, 'no-lost-notification').held, true);
    },
  },
  {
    file: 'exp5a-all-vcpus-offline-latched.yaml',
    runtimes: ['sim'],
    verify(done) {
      const { entries } = done;
      const failure = assertFailedFor(done, 'no-lost-notification', /^notification 0 \(sp bitmap\) for vm1 delivered \d+\.\d{3} ms after its deadline/);
      // Delivered only after the second send (the next SRI naming vm1).
      assert.equal(failure.events.filter((e) => /optee-notif-send/.test(e.what)).length, 2, 'two sends merged into the one notification');
      assert.deepEqual(records(entries, 'hypervisor', 'npi-latched').map((r) => r['vm']), [1], 'every vCPU offline: latched');
      assert.deepEqual(records(entries, 'hypervisor', 'npi-still-latched').map((r) => r['vm']), [1], 'vCPU 0 back online: still latched (Xen)');
      assert.deepEqual(records(entries, 'hypervisor', 'npi-inject').map((r) => r['cause']), ['sri'], 'the one NPI came with the next SRI');
    },
    shows: { name: 'the late notification\'s failure names the latch (npi-latched, npi-still-latched)', mechanism: /latched/ },
  },
  {
    file: 'exp5b-all-vcpus-offline-reinject.yaml',
    runtimes: ['sim'],
    verify(done) {
      assertAllHeld(done);
      assert.deepEqual(records(done.entries, 'hypervisor', 'npi-inject').map((r) => [r['cause'], r['vcpu']]), [['vcpu-online', 0]]);
    },
  },
  {
    file: 'exp6-dropped-sri.yaml',
    runtimes: ['sim'],
    verify(done) {
      const { entries } = done;
      const failure = assertFailedFor(done, 'no-lost-notification', /fault drop \(rule [^)]*drop-interrupt[^)]*\) spmc→gic irq raise INTID 8/);
      assert.match(failure.message, NEVER_RETURNED(0, 'vm1'));
      assert.deepEqual(records(entries, 'hypervisor', 'sri-taken'), [], 'the hypervisor never took an SRI');
      assert.deepEqual(records(entries, 'vm1', 'notification-get'), []);
    },
  },
  {
    file: 'exp7a-per-vcpu-hafnium.yaml',
    runtimes: ['sim'],
    verify(done) {
      assertAllHeld(done);
      assert.deepEqual(done.result.steps.filter((s) => /INVALID_PARAMETERS/.test(s.detail)).length, 2, 'per-vCPU BIND and SET refused');
    },
  },
  {
    file: 'exp7b-per-vcpu-optee.yaml',
    runtimes: ['sim'],
    verify(done) {
      assertAllHeld(done);
      assert.deepEqual(done.result.steps.filter((s) => /DENIED/.test(s.detail)).length, 3, 'per-vCPU BIND refused with the "already bound" code');
    },
  },
  {
    file: 'exp7c-per-vcpu-historical-hafnium.yaml',
    runtimes: ['sim'],
    verify(done) {
      assertAllHeld(done);
      const lists = records(done.entries, 'host', 'info-get').flatMap((r) => (r['lists'] as { id: number; vcpus: number[] }[] | undefined) ?? []);
      assert.deepEqual(lists, [{ id: 0, vcpus: [2, 3] }], 'INFO_GET names the vCPUs with per-vCPU bits');
      const gets = records(done.entries, 'host', 'notification-get').filter((r) => r['sp'] !== '0x0');
      assert.deepEqual(gets.map((r) => r['vcpu']).sort(), [2, 3], 'each retrieved on its own vCPU');
    },
  },
];

/** One run per (experiment, runtime), shared by its tests. */
function experimentTests(runtime: Runtime): void {
  for (const experiment of EXPERIMENTS.filter((e) => e.runtimes.includes(runtime))) {
    describe(experiment.file, () => {
      let done: ScenarioRun | null = null;
      it('reaches its expected verdict, for the right reason', async () => {
        done = await run(experiment.file, runtime);
        experiment.verify(done);
      });
      const shows = experiment.shows;
      if (shows) {
        it(shows.name, () => {
          assert.ok(done, 'the experiment ran');
          const failures = done.result.checks.flatMap((c) => (c.expectFail ? c.failures : []));
          assert.ok(failures.some((f) => shows.mechanism.test(failureText(f))), `no failure shows ${shows.mechanism}`);
        });
      }
    });
  }
}

describe('experiments (sim)', () => experimentTests('sim'));
describe('experiments (ws)', { concurrency: 1 }, () => experimentTests('ws'));
