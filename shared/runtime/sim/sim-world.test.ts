import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileHistorySink, type HistoryEntry, MemoryHistorySink, readHistory } from '../history.ts';
import type { FaultRule } from '../interceptor.ts';
import { testWorldSpec } from '../test-world/index.ts';
import { runSimWorld } from './run-world.ts';
import type { RecordEvent } from '../../../shared/protocol/records.ts';

const records = (entries: HistoryEntry[], name: RecordEvent) =>
  entries.flatMap((e) => (e.event.type === 'record' && e.event.data.event === name ? [e.event.data] : []));

test('one seed writes byte-identical history files, and the hash says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ffa-sim-'));
  try {
    const digests: string[] = [];
    const bytes: Buffer[] = [];
    for (const run of [1, 2]) {
      const path = join(dir, `run${run}.jsonl`);
      const sink = new FileHistorySink(path);
      await runSimWorld(testWorldSpec({ seed: 42, vcpus: 3, callsPerVcpu: 10 }), { history: sink });
      digests.push(sink.digest());
      sink.close();
      bytes.push(readFileSync(path));
    }
    assert.ok((bytes[0]?.length ?? 0) > 1000);
    assert.deepEqual(bytes[0], bytes[1]);
    assert.equal(digests[0], digests[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('over 20 seeds, two concurrent vCPUs interleave in at least two different orders', async () => {
  const orders = new Set<string>();
  for (let seed = 0; seed < 20; seed++) {
    const sink = new MemoryHistorySink();
    await runSimWorld(testWorldSpec({ seed, vcpus: 2, callsPerVcpu: 8 }), { history: sink });
    orders.add(records(sink.entries, 'echo').map((r) => r.vcpu).join(''));
  }
  assert.ok(orders.size >= 2, `only one order seen: ${[...orders].join(' ')}`);
});

test('every register crosses both ways bit for bit, all-ones included', async () => {
  const sink = new MemoryHistorySink();
  await runSimWorld(testWorldSpec({ seed: 7, vcpus: 2, callsPerVcpu: 5 }), { history: sink });
  const returns = records(sink.entries, 'caller-return');
  assert.equal(returns.length, 10);
  assert.ok(returns.every((r) => r.ok === true && r.echoed === true));
  const call = sink.entries.find((e) => e.event.type === 'send' && e.event.message.kind === 'call');
  assert.ok(call && call.event.type === 'send' && call.event.message.kind === 'call');
  assert.equal(call.event.message.regs[1], (1n << 64n) - 1n);
});

test('a drop rule at the interception point loses exactly the matched message, and says so', async () => {
  const drop: FaultRule = { id: 'drop-first-return', match: { kind: 'return', from: 'echo' }, then: { action: 'drop' }, count: 1 };
  const sink = new MemoryHistorySink();
  const spec = testWorldSpec({ seed: 3, vcpus: 1, callsPerVcpu: 3 });
  await runSimWorld(spec, { history: sink, faults: [drop] });
  const faults = sink.entries.filter((e) => e.event.type === 'fault');
  assert.equal(faults.length, 1);
  assert.equal(faults[0]?.event.type === 'fault' && faults[0].event.rule, 'drop-first-return');
  const returns = records(sink.entries, 'caller-return');
  // The first call times out (its return was dropped); the vCPU then carries on.
  assert.deepEqual(returns.map((r) => r.ok), [false, true, true]);
  assert.ok(sink.entries.some((e) => e.event.type === 'call-failed' && e.event.reason === 'timeout'));
});

test('messages on one directed link arrive in the order they were sent', async () => {
  const sink = new MemoryHistorySink();
  await runSimWorld(testWorldSpec({ seed: 11, vcpus: 4, callsPerVcpu: 6 }), {
    history: sink,
    defaultLatency: { baseNs: 100, jitterNs: 10_000 },
  });
  const sent = sink.entries.flatMap((e) => (e.event.type === 'send' && e.event.message.kind === 'call' ? [e.event.message.id] : []));
  const delivered = sink.entries.flatMap((e) => (e.event.type === 'deliver' && e.event.message.kind === 'call' ? [e.event.message.id] : []));
  assert.equal(sent.length, 24);
  assert.deepEqual(delivered, sent);
});

test('a file history reads back with 64-bit registers intact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ffa-sim-'));
  try {
    const path = join(dir, 'h.jsonl');
    const sink = new FileHistorySink(path);
    await runSimWorld(testWorldSpec({ seed: 1, vcpus: 1, callsPerVcpu: 2 }), { history: sink });
    sink.close();
    const entries = readHistory(path);
    const call = entries.find((e) => e.event.type === 'deliver' && e.event.message.kind === 'call');
    assert.ok(call && call.event.type === 'deliver' && call.event.message.kind === 'call');
    assert.equal(call.event.message.regs[1], 0xffff_ffff_ffff_ffffn);
    assert.equal(typeof call.event.message.regs[0], 'bigint');
    assert.deepEqual(entries.map((e) => e.seq), entries.map((_, i) => i));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the run is bounded: maxEvents stops a world that would go on', async () => {
  const sink = new MemoryHistorySink();
  const result = await runSimWorld(testWorldSpec({ seed: 1, vcpus: 2, callsPerVcpu: 1000 }), {
    history: sink,
    limits: { maxEvents: 100 },
  });
  assert.equal(result.ended, 'max-events');
  assert.equal(result.events, 100);
});
