/**
 * The same world under both runtimes produces the same events, times aside. Under ws, events of
 * different workers reach the history in arrival order, which is the machine's race, so the
 * comparison is per component (each component's own events are in order in both runtimes) and,
 * for the whole run, as a multiset.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeHistoryLine, type HistoryEntry, type HistoryEvent } from './history.ts';
import { RUNTIMES, runWorldInMemory } from './run-world.ts';
import { testWorldSpec } from './test-world/index.ts';

/** Which component an event belongs to: the one that produced it. */
function owner(event: HistoryEvent): string {
  switch (event.type) {
    case 'send':
    case 'fault':
    case 'refused':
      return event.from;
    case 'deliver':
      return event.to;
    case 'component':
    case 'call-failed':
    case 'record':
      return event.component;
  }
}

/** An event without its time or sequence number, as a comparable string. */
const timeless = (entry: HistoryEntry): string => encodeHistoryLine({ seq: 0, t: 0, event: entry.event });

function perComponent(entries: HistoryEntry[]): Map<string, string[]> {
  const byComponent = new Map<string, string[]>();
  for (const entry of entries) {
    const name = owner(entry.event);
    byComponent.set(name, [...(byComponent.get(name) ?? []), timeless(entry)]);
  }
  return byComponent;
}

test('the test world gives the same events under sim and ws, times aside', async () => {
  const spec = testWorldSpec({ seed: 21, vcpus: 1, callsPerVcpu: 25 });
  const [sim, ws] = await Promise.all(RUNTIMES.map((runtime) => runWorldInMemory(spec, { runtime, timeoutMs: 60_000 })));
  assert.ok(sim && ws);
  assert.equal(sim.result.ended, 'done');
  assert.equal(ws.result.ended, 'done');
  // The stop events come after the finishers are done and are not part of the run's behaviour.
  const running = (entries: HistoryEntry[]) => entries.filter((e) => !(e.event.type === 'component' && e.event.event === 'stop'));
  const simRun = running(sim.entries);
  const wsRun = running(ws.entries);
  assert.ok(simRun.length >= 150, `only ${simRun.length} events`);
  assert.deepEqual(perComponent(wsRun), perComponent(simRun));
  assert.deepEqual(wsRun.map(timeless).sort(), simRun.map(timeless).sort());
});
