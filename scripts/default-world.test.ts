import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RUNTIMES } from '../shared/runtime/run-world.ts';
import { runDefaultWorld } from './default-world.ts';

for (const runtime of RUNTIMES) {
  test(`the default world delivers every notification to its own VM, mild faults and all [${runtime}]`, async () => {
    const out = mkdtempSync(join(tmpdir(), 'ffa-default-'));
    try {
      const summary = await runDefaultWorld({ runtime, seed: 11, rounds: 5, out });
      assert.equal(summary.ended, 'done');
      assert.deepEqual(
        summary.vms.map((vm) => [vm.vm, vm.sent, vm.delivered, vm.lost, vm.phantom]),
        [
          ['dom0', 5, 5, 0, 0],
          ['vm1', 5, 5, 0, 0],
          ['vm2', 5, 5, 0, 0],
        ],
      );
      assert.equal(summary.latencySendToCallback.count, 15);
      assert.ok(summary.passed);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}

test('the default world is deterministic under sim: one seed, one history hash', async () => {
  const hashes: string[] = [];
  for (const run of [1, 2]) {
    const out = mkdtempSync(join(tmpdir(), `ffa-default-${run}-`));
    try {
      hashes.push((await runDefaultWorld({ runtime: 'sim', seed: 5, rounds: 3, out })).historyHash);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  assert.equal(hashes[0], hashes[1]);
});

test('the verdict catches lost notifications: every virtual NPI to vm1 dropped [sim]', async () => {
  const out = mkdtempSync(join(tmpdir(), 'ffa-default-lost-'));
  try {
    const dropNpi = { id: 'drop-vm1-npi', match: { kind: 'irq' as const, from: 'gic', to: 'vm1', irqOp: 'deliver', intid: 8 }, then: { action: 'drop' as const } };
    const summary = await runDefaultWorld({ runtime: 'sim', seed: 11, rounds: 2, out, faults: [dropNpi] });
    assert.equal(summary.passed, false);
    const vm1 = summary.vms.find((vm) => vm.vm === 'vm1');
    assert.ok(vm1 && vm1.lost > 0, `vm1: ${JSON.stringify(vm1)}`);
    assert.deepEqual(summary.vms.filter((vm) => vm.vm !== 'vm1').map((vm) => vm.lost), [0, 0]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
