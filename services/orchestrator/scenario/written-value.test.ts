/**
 * Refusals quote a value as the file wrote it and say what is wrong with the writing: a digit
 * that is not one ("0xZZ"), a number YAML could not hold (1e400 became infinity, which JSON
 * prints as null), a list item among good ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readScenarioText, ScenarioError } from './reader/index.ts';
import { writingProblem } from './written-value.ts';

const WORLD = `world:
  hypervisor: { profile: xen }
  vms: [{ name: vm, count: 2, vcpus: 1, driver: raw }]
`;

function refusal(steps: string, head = ''): string {
  try {
    readScenarioText(`name: t\n${head}${WORLD}steps:\n${steps}`, 't.yaml');
  } catch (error) {
    assert.ok(error instanceof ScenarioError);
    return error.reason;
  }
  assert.fail('the scenario was accepted');
}

test('a refused value is quoted as written, with what is wrong with it', () => {
  const cases: [string, string, string][] = [
    ['- { from: vm1, call: FFA_NOTIFICATION_SET, args: { sender: vm1, receiver: vm2, flags: 0, bitmap: "0xZZ" } }\n', '', 'steps[0].args.bitmap: must be an unsigned 64-bit integer (decimal or 0x hex), got "0xZZ" ("Z" is not a hex digit, which are 0-9 and a-f)'],
    ['- { from: vm1, call: FFA_VERSION, regs: [0x12, 0b102] }\n', '', 'steps[0].regs[1]: must be an unsigned 64-bit integer (decimal or 0x hex), got 0b102 ("2" is not a binary digit, which are 0 and 1)'],
    ['- { from: vm1, call: FFA_VERSION, regs: ["0x12"] }\n', '', 'steps[0].regs[0]: must be an unsigned 64-bit integer (decimal or 0x hex), got "0x12" (a number in quotes is text: write it without the quotes)'],
    ['- { from: vm1, call: FFA_VERSION, args: { version: "1.2" } }\n', 'seed: 1e400\n', 'seed: must be a seed in 0..4294967295, got 1e400 (too large for any number: it overflows to infinity)'],
    ['- { from: vm1, call: FFA_MSG_SEND_DIRECT_REQ2, args: { sender: vm1, receiver: 0x8001, payload: [1, 1e400] } }\n', '', 'steps[0].args.payload: must be a number, a name, true or false, or a list of those, got [1, 1e400] ([1] 1e400: too large for any number: it overflows to infinity)'],
  ];
  for (const [steps, head, reason] of cases) assert.equal(refusal(`  ${steps}`, head), reason);
});

test('what the writing tells, value by value', () => {
  assert.equal(writingProblem('0x', '0x'), 'no hex digits after 0x');
  assert.equal(writingProblem('0o78', '0o78'), '"8" is not an octal digit, which are 0-7');
  assert.equal(writingProblem('.inf', Number.POSITIVE_INFINITY), 'infinity, not a number');
  assert.equal(writingProblem('.nan', Number.NaN), 'not a number');
  assert.equal(writingProblem('0x1_0000_0000_0000_0000', 1n << 64n), 'needs 65 bits, more than 64');
  assert.equal(writingProblem('0x1f', 0x1f), null);
  assert.equal(writingProblem('vm1', 'vm1'), null);
});

test('an argument takes any value that fits its register: FFA_VERSION w1 is 32 bits, bit 31 included', () => {
  const load = (version: string) => readScenarioText(`name: t\n${WORLD}steps:\n  - { from: vm1, call: FFA_VERSION, args: { version: ${version} } }\n`, 't.yaml');
  const w1 = (version: string) => {
    const [step] = load(version).steps;
    assert.equal(step?.kind, 'call');
    return step.kind === 'call' ? step.regs[1] : undefined;
  };
  // Bit 31 is MBZ (docs/ffa-reference.md §1.4), so a callee that checks answers NOT_SUPPORTED; the file may still send it.
  assert.equal(w1('0x80000000'), 0x8000_0000n);
  assert.equal(w1('0xffffffff'), 0xffff_ffffn);
  assert.equal(w1('2147483648'), 0x8000_0000n);
  assert.equal(w1('"1.2"'), 0x1_0002n);
});

test('a value that does not fit its register is refused in the base it was written in', () => {
  const cases: [string, string][] = [
    ['- { from: vm1, call: FFA_VERSION, args: { version: 0x100000000 } }\n', 'steps[0].args.version: must be an FF-A version such as "1.2" or a 32-bit number (w1), got 0x100000000'],
    ['- { from: vm1, call: FFA_VERSION, args: { version: 4294967296 } }\n', 'steps[0].args.version: must be an FF-A version such as "1.2" or a 32-bit number (w1), got 4294967296'],
    ['- { from: vm1, call: FFA_VERSION, args: { version: "1.x" } }\n', 'steps[0].args.version: must be an FF-A version such as "1.2" or a 32-bit number (w1), got "1.x"'],
    ['- { from: vm1, call: FFA_VERSION, args: { version: "1.2" }, expect: { version: 0x80010002 } }\n', 'steps[0].expect.version: must be an FF-A version such as "1.2" (MAJOR.MINOR) or NOT_SUPPORTED, got 0x80010002'],
    ['- { from: vm1, call: FFA_VERSION, args: { version: "1.2" }, expect: { regs: { w0: 0x100000000 } } }\n', 'steps[0].expect.regs.w0: w0 is 32 bits: must be at most 0xffffffff, got 0x100000000 (write x0 for all 64 bits)'],
  ];
  for (const [steps, reason] of cases) assert.equal(refusal(`  ${steps}`), reason);
});
