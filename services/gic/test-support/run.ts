/** Runs a GIC test world under one runtime and checks it ended well. */
import assert from 'node:assert/strict';
import type { HistoryEntry } from '../../../shared/runtime/history.ts';
import { type RuntimeName, runWorldInMemory } from '../../../shared/runtime/run-world.ts';
import { records, timeouts } from './history.ts';
import { type GicWorldOptions, gicWorld } from './world.ts';

/** Bound on one test world (wall time under ws, virtual time under sim). */
const WORLD_TIMEOUT_MS = 20_000;

/**
 * Run the world; assert that every actor finished, that no await timed out unless the test
 * expects it, and that the GIC never broke an invariant (it would have crashed).
 */
export async function runGicWorld(options: GicWorldOptions, runtime: RuntimeName, expectTimeouts = false): Promise<HistoryEntry[]> {
  const { result, entries } = await runWorldInMemory(gicWorld(options), { runtime, timeoutMs: WORLD_TIMEOUT_MS });
  assert.equal(result.ended, 'done', `the world ended ${result.ended}`);
  if (!expectTimeouts) {
    for (const actor of Object.keys(options.actors)) {
      assert.deepEqual(timeouts(entries, actor), [], `${actor} timed out waiting`);
    }
  }
  assert.equal(records(entries, 'gic-start').length, 1);
  return entries;
}
