/**
 * Calls made without waiting (`async: NAME`), and the steps that take their answer (`await: call`,
 * `answers: NAME`), as the reader loads them: names made once and taken once by a later step, the
 * expectation said once and read against the pending call's ABI, a response from the SP the
 * request went to, whose sender and receiver default to the request's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FFA_FIDS, msgSendDirectResp32 } from '../../../../shared/ffa/index.ts';
import type { Step } from '../types.ts';
import { readScenarioText, ScenarioError } from './index.ts';

const WORLD = `name: p
world:
  spmc: { profile: hafnium, partitions: [{ id: 0x8001, name: sp1 }, { id: 0x8002, name: sp2 }] }
  hypervisor: { profile: raw }
  vms: []
steps:
`;
const REQUEST = '  - { from: hypervisor, call: FFA_MSG_SEND_DIRECT_REQ_32, args: { sender: 0, receiver: sp1, payload: [1] }, async: req }\n';

function load(steps: string): Step[] {
  return readScenarioText(WORLD + steps, 'p.yaml').steps;
}

function refusal(steps: string): string {
  try {
    load(steps);
  } catch (error) {
    assert.ok(error instanceof ScenarioError, String(error));
    return error.message;
  }
  assert.fail('the scenario loaded');
}

test('an async call, answered by the SP\'s response, whose sender and receiver default to the request\'s', () => {
  const [request, response] = load(`${REQUEST}  - { from: sp1, call: FFA_MSG_SEND_DIRECT_RESP_32, args: { payload: [9] }, answers: req, expect: success }\n`);
  assert.equal(request?.kind === 'call' && request.async, 'req');
  assert.ok(response?.kind === 'call');
  assert.deepEqual(response.regs, msgSendDirectResp32.encodeCall({ sender: 0x8001, receiver: 0, payload: [9n] }));
  assert.deepEqual(response.answers, { name: 'req', fid: FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32, expect: { kind: 'any' } });
  assert.deepEqual(response.expect, { kind: 'success' });
  assert.equal(response.label, 'FFA_MSG_SEND_DIRECT_RESP_32 from sp1 (vCPU 0), answering req');
});

test('the answer\'s expectation, on the async step or on the await step, reads against the pending call\'s ABI', () => {
  const onAwait = load(`${REQUEST}  - { await: call, call: req, within: 5ms, expect: { success: { payload: [1] } } }\n`)[1];
  assert.deepEqual(onAwait, {
    kind: 'await-call',
    call: { name: 'req', fid: FFA_FIDS.FFA_MSG_SEND_DIRECT_REQ_32, expect: { kind: 'success-fields', fields: { payload: [1n, 0n, 0n, 0n, 0n] } } },
    withinNs: 5_000_000,
    label: 'await the answer to req within 5ms',
    index: 1,
    location: { file: 'p.yaml', line: 8, column: 5 },
  });
  const withExpect = REQUEST.replace('async: req }', 'async: req, expect: { error: BUSY } }');
  const [request, awaited] = load(`${withExpect}  - { await: call, call: req }\n`);
  assert.deepEqual(request?.kind === 'call' && request.expect, { kind: 'any' }, 'the async step itself passes once the call is made');
  assert.deepEqual(awaited?.kind === 'await-call' && awaited.call.expect, { kind: 'error', code: 'BUSY' });
  assert.match(refusal(`${REQUEST}  - { await: call, call: req, expect: { success: { spBitmap: 1 } } }\n`), /steps\[1\]\.expect\.success\.spBitmap: FFA_MSG_SEND_DIRECT_REQ_32 has no result field 'spBitmap'/);
});

test('names are made once and taken once, by a later step', () => {
  const cases: [string, RegExp][] = [
    ['  - { await: call, call: req }\n', /steps\[0\]\.call: no earlier step makes a call named 'req': make it with async: req on a call step before this one/],
    [`${REQUEST}  - { await: call, call: reqq }\n`, /steps\[1\]\.call: no earlier step makes a call named 'reqq': did you mean req\?/],
    [`${REQUEST}${REQUEST}`, /steps\[1\]\.async: steps\[0\] already makes a call named 'req'/],
    [`${REQUEST}  - { await: call, call: req }\n  - { await: call, call: req }\n`, /steps\[2\]\.call: steps\[1\] already awaited 'req': a call has one answer/],
    [`${REQUEST.replace('async: req }', 'async: req, expect: success }')}  - { await: call, call: req, expect: success }\n`, /steps\[1\]\.expect: steps\[0\] already says what the answer to 'req' must be/],
    ['  - { from: sp1, call: FFA_PARTITION_INFO_GET, async: info }\n  - { await: call, call: info, expect: { success: { partitions: [{ id: sp1 }] } } }\n', /steps\[1\]\.expect: partitions are read from the caller's RX buffer when its call step ends/],
    ['  - { from: sp1, call: FFA_PARTITION_INFO_GET, async: info, expect: { success: { partitions: [{ id: sp1 }] } } }\n', /steps\[0\]\.expect: partitions are read from the caller's RX buffer/],
  ];
  for (const [steps, says] of cases) assert.match(refusal(steps), says);
});

test('only the SP a direct request went to answers it, with a direct response', () => {
  const cases: [string, RegExp][] = [
    ['  - { from: sp2, call: FFA_MSG_SEND_DIRECT_RESP_32, answers: req }\n', /steps\[1\]\.answers: 'req' \(steps\[0\]\) was sent to 0x8001, not to sp2/],
    ['  - { from: sp1, call: FFA_MSG_WAIT, answers: req }\n', /steps\[1\].answers: only an SP's FFA_MSG_SEND_DIRECT_RESP_32 or _64 answers a pending call/],
    ['  - { from: hypervisor, call: FFA_MSG_SEND_DIRECT_RESP_32, answers: req }\n', /hypervisor cannot answer a direct request/],
    ['  - { from: sp1, call: FFA_MSG_SEND_DIRECT_RESP_32, answers: req, async: other }\n', /a response answers a pending call and hands the CPU on: it cannot also be left pending/],
    ['  - { from: sp1, call: FFA_MSG_SEND_DIRECT_RESP_32, answers: req }\n  - { from: sp1, call: FFA_MSG_SEND_DIRECT_RESP_32, answers: req }\n', /steps\[2\]\.answers: steps\[1\] already answered 'req'/],
  ];
  for (const [steps, says] of cases) assert.match(refusal(REQUEST + steps), says);
  const version = '  - { from: hypervisor, call: FFA_VERSION, args: { version: "1.2" }, async: v }\n';
  assert.match(refusal(`${version}  - { from: sp1, call: FFA_MSG_SEND_DIRECT_RESP_32, answers: v }\n`), /'v' \(steps\[0\]\) is not a direct request: await it with \{ await: call, call: v \}/);
});
