/**
 * Component history files (process mode): written in batches, complete once closed, merged in
 * time order on one base with a history that stops without its end marked `tail-missing`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { HistoryEntry, HistoryEvent } from './history.ts';
import { componentHistory, findHistories, mergeHistories, metaPathOf, onOneBase, readMeta } from './history-files.ts';

const work = mkdtempSync(join(tmpdir(), 'ffa-history-files-'));
after(() => rmSync(work, { recursive: true, force: true }));

const record = (component: string, n: number): HistoryEvent => ({ type: 'record', component, data: { event: 'done', n } });

async function merged(dir: string): Promise<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  for await (const entry of mergeHistories(onOneBase(findHistories(dir)))) entries.push(entry);
  return entries;
}

describe('component history files', () => {
  it('are complete only once closed, and merge in time order on the earliest base', async () => {
    const dir = join(work, 'world');
    // spmc's clock started 1 µs after gic's: its times are 1 µs later on gic's base.
    const gic = componentHistory(dir, 'gic', 1_000_000n);
    const spmc = componentHistory(dir, 'spmc', 1_001_000n);
    gic.append(500, record('gic', 1));
    spmc.append(0, record('spmc', 1));
    gic.append(2_000, record('gic', 2));
    spmc.append(5_000, record('spmc', 2));
    assert.equal(readMeta(gic.file.path)?.complete, false, 'not complete while it runs');
    gic.file.close();
    // spmc is never closed: its last batch written, but no end, as a process killed outright leaves it.
    spmc.file.flush();
    assert.deepEqual(readMeta(gic.file.path), { component: 'gic', baseNs: '1000000', pid: process.pid, complete: true, events: 2, lastNs: 2_000 });
    assert.equal(readFileSync(metaPathOf(spmc.file.path), 'utf8').includes('"complete":false'), true);
    const entries = await merged(dir);
    assert.deepEqual(
      entries.map((e) => [e.seq, e.t, e.event.type === 'record' ? `${e.event.component} ${String(e.event.data['n'])}` : e.event.type === 'component' ? `${e.event.component} ${e.event.event}` : '']),
      [
        [0, 500, 'gic 1'],
        [1, 1_000, 'spmc 1'],
        [2, 2_000, 'gic 2'],
        [3, 6_000, 'spmc 2'],
        [4, 6_000, 'spmc tail-missing'],
      ],
    );
    spmc.file.close();
  });
});
