/**
 * A world whose components count time from other machines' boots (FFA_TEST_CLOCK_SKEW_NS, test
 * only): the attached orchestrator estimates each one's clock over its link (link-clocks.ts),
 * puts every history on its own clock, and the checkers hold as on one machine. The result says
 * how each clock was mapped and how far a figure between two components may be off. OS processes
 * (compose:local) on 127.80.x.y, loopback only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { failuresApartFromSpeed } from '../services/orchestrator/scenario/test-support/verdict.ts';
import type { ScenarioResult } from '../services/orchestrator/scenario/types.ts';
import { LocalWorld } from './compose/local-world.ts';

const COMPOSE_FILE = join(resolve(import.meta.dirname, '..'), 'docker-compose.yml');
const work = mkdtempSync(join(tmpdir(), 'ffa-compose-clocks-'));
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * Each service's clock as another machine's that booted days earlier (a later boot would need this
 * machine's uptime to be longer than the skew; the link test covers a peer behind). gic and spmd
 * share the orchestrator's.
 */
const SKEWS_NS: Record<string, bigint> = { spmc: 321_234_567_891_011n, hypervisor: 98_765_432_101_234n, guest: 7_777_777_777_777n };
const COMPONENT_SKEWS: Record<string, bigint> = { spmc: SKEWS_NS['spmc'] as bigint, hypervisor: SKEWS_NS['hypervisor'] as bigint, 'guest-1': SKEWS_NS['guest'] as bigint, 'guest-2': SKEWS_NS['guest'] as bigint };

describe('compose:local: components on other machines\' clocks', () => {
  it('maps every component onto the orchestrator\'s clock by its link\'s estimate, and every checker holds', { timeout: 240_000 }, async () => {
    const out = mkdtempSync(join(work, 'skewed-'));
    const serviceEnv = Object.fromEntries(Object.entries(SKEWS_NS).map(([service, skew]) => [service, { FFA_TEST_CLOCK_SKEW_NS: skew.toString() }]));
    const world = new LocalWorld({ file: COMPOSE_FILE, scale: { guest: 2 }, out, env: { ...process.env, FFA_LOG_LEVEL: 'info', FFA_SEED: '7' }, network: 80, serviceEnv });
    let code = -1;
    try {
      await world.startServices(['orchestrator']);
      code = await world.run('orchestrator');
    } finally {
      await world.stop();
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ScenarioResult;
    assert.equal(summary.ended, 'done');
    assert.deepEqual(failuresApartFromSpeed(summary), [], 'every correctness checker held');
    assert.ok(code === 0 || code === 1, `the orchestrator's exit code is a verdict: ${code}`);
    const clocks = summary.clocks ?? {};
    for (const [component, skew] of Object.entries(COMPONENT_SKEWS)) {
      const clock = clocks[component];
      assert.equal(clock?.clock, 'estimated', `${component}: ${JSON.stringify(clock)}`);
      const error = BigInt(clock.offsetNs) - skew;
      assert.ok((error < 0n ? -error : error) <= BigInt(Math.ceil(clock.uncertaintyNs)), `${component}'s clock is ${skew} ns off; estimated ${clock.offsetNs} ± ${clock.uncertaintyNs}`);
    }
    assert.deepEqual([clocks['gic']?.clock, clocks['spmd']?.clock], ['same', 'same'], 'one boot: the same clock, exactly');
    const bound = summary.latency.clockUncertaintyNs ?? 0;
    assert.ok(bound > 0 && Number.isFinite(bound), `figures between components carry the clocks' uncertainty: ${bound}`);
  });
});
