/**
 * A comparison finds what differs between the OP-TEE and the Hafnium SPMC profile in the example
 * made for it (scenarios/examples/spmc-profiles-side-by-side.yaml), in process under sim: the
 * returned registers of the calls the profiles answer differently, and nothing where they agree.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readCombinations, runComparison, type Combination } from './compare.ts';
import { renderComparePage } from './page.ts';
import { columnName, combinations, parseAxes } from './plan.ts';

const EXAMPLE = fileURLToPath(new URL('../../../scenarios/examples/spmc-profiles-side-by-side.yaml', import.meta.url));

describe('compare', () => {
  it('finds the answers OP-TEE and Hafnium give differently, and only those', async () => {
    const axes = parseAxes(['spmc.profile=optee,hafnium']);
    assert.ok(Array.isArray(axes), String(axes));
    const read = readCombinations(EXAMPLE, axes);
    assert.ok('combinations' in read, 'problems' in read ? read.problems.join('\n') : '');
    const comparison = await runComparison(EXAMPLE, axes, [7], read.combinations as Combination[]);
    assert.deepEqual(comparison.runs.map((run) => [run.column, run.settings, run.passed]), [['A', { 'spmc.profile': 'optee' }, true], ['B', { 'spmc.profile': 'hafnium' }, true]]);
    const returned = new Map(comparison.differences.filter((d) => d.kind === 'returned').map((d) => [d.key, d.values]));
    // FEATURES(PARTITION_INFO_GET_REGS): OP-TEE does not dispatch it, Hafnium offers it.
    assert.deepEqual(returned.get('returned 0'), ['FFA_ERROR(NOT_SUPPORTED)', 'FFA_SUCCESS_32']);
    // FEATURES(INFO_GET_32), and the call: Hafnium takes only the SMC64 convention.
    assert.deepEqual(returned.get('returned 1'), ['FFA_SUCCESS_32', 'FFA_ERROR(NOT_SUPPORTED)']);
    assert.deepEqual(returned.get('returned 3'), ['FFA_ERROR(NO_DATA)', 'FFA_ERROR(NOT_SUPPORTED)']);
    // Hafnium answers PARTITION_INFO_GET_REGS: x3 holds OP-TEE's SP's descriptor (ID 0x8001, 2 vCPUs, its properties).
    assert.match(returned.get('returned 5')?.[1] ?? '', /^FFA_SUCCESS_64 .*w3=0x[0-9a-f]+00028001 /);
    // The SRI's ID is the same under both; every step passes under both; the checks hold under both.
    assert.equal(returned.has('returned 2'), false);
    assert.ok(comparison.differences.every((d) => d.kind === 'returned' || d.kind === 'figure'), JSON.stringify(comparison.differences));
    assert.ok(comparison.differences.every((d) => d.between === 'settings'));
    assert.equal(comparison.runs[1]?.replay.includes('--set spmc.profile=hafnium'), true, comparison.runs[1]?.replay);

    const page = renderComparePage(comparison);
    assert.match(page, /<h2>Differences: \d+ of \d+ rows<\/h2>/);
    assert.match(page, /<td class="differs" title="FFA_ERROR\(NOT_SUPPORTED\)/);
  });

  it('names each combination\'s settings, the first key changing slowest', () => {
    const axes = parseAxes(['spmc.profile=optee,hafnium', 'cpus=1,2,4']);
    assert.ok(Array.isArray(axes));
    const all = combinations(axes);
    assert.equal(all.length, 6);
    assert.deepEqual(all[1], [{ key: 'spmc.profile', value: 'optee' }, { key: 'cpus', value: '2' }]);
    assert.deepEqual(all[3], [{ key: 'spmc.profile', value: 'hafnium' }, { key: 'cpus', value: '1' }]);
    assert.deepEqual([0, 25, 26, 63].map(columnName), ['A', 'Z', 'AA', 'BL']);
  });

  it('refuses too many combinations, a key given twice, and a malformed setting', () => {
    assert.match(String(parseAxes(['cpus=1,2,3,4,5,6,7,8', 'vms.0.vcpus=1,2,3,4,5,6,7,8', 'spmc.profile=optee,hafnium'])), /8 × 8 × 2 = 128 combinations, more than 64/);
    assert.match(String(parseAxes(['spmc.profile=optee', 'world.spmc.profile=hafnium'])), /given twice/);
    assert.match(String(parseAxes(['spmc.profile=optee,,hafnium'])), /has no value/);
    assert.match(String(parseAxes(['spmc.profile=optee,optee'])), /gives optee twice/);
  });

  it('reads every combination before any runs, and says each problem once', () => {
    const axes = parseAxes(['spmc.profile=optee,tfa', 'spmc.vmSlots=1,0']);
    assert.ok(Array.isArray(axes));
    const read = readCombinations(EXAMPLE, axes);
    assert.ok('problems' in read);
    // Four combinations: vmSlots=0 is refused in two, profile=tfa in two, both in one.
    assert.equal(read.problems.length, 3, read.problems.join('\n'));
    assert.match(read.problems.join('\n'), /--set spmc\.vmSlots=0: world\.spmc\.vmSlots: must be an integer in 1\.\./);
    assert.match(read.problems.join('\n'), /--set spmc\.profile=tfa: world\.spmc\.profile: must be one of optee, hafnium/);
  });
});
