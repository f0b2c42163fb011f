import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScenarioResult } from '../types.ts';
import { failuresApartFromSpeed, isSpeedFigure } from './verdict.ts';

type Check = ScenarioResult['checks'][number];
const check = (name: string, detail: string): Check => ({ name, passed: false, held: false, detail, failures: [] }) as unknown as Check;

test('under ws a missed latency threshold and late-only notifications are speed figures; a lost one never is', () => {
  const ws = { runtime: 'ws' } as const;
  assert.equal(isSpeedFigure(ws, check('latency', '1 threshold exceeded')), true);
  assert.equal(isSpeedFigure(ws, check('no-lost-notification', '9 late notifications; 21 notifications, 21 delivered')), true);
  assert.equal(isSpeedFigure(ws, check('no-lost-notification', '1 late notification; 2 notifications, 2 delivered')), true);
  assert.equal(isSpeedFigure(ws, check('no-lost-notification', '21 late notifications (first 20 shown); 21 notifications, 21 delivered')), true);
  assert.equal(isSpeedFigure(ws, check('no-lost-notification', '2 lost or late notifications; 5 notifications, 3 delivered')), false);
  assert.equal(isSpeedFigure(ws, check('no-lost-notification', '1 lost notification; 5 notifications, 4 delivered')), false);
  assert.equal(isSpeedFigure({ runtime: 'sim' }, check('no-lost-notification', '9 late notifications; 21 notifications')), false);
  const result = { runtime: 'ws', ended: 'done', steps: [], checks: [check('no-lost-notification', '1 lost notification; 1 notification')] } as unknown as ScenarioResult;
  assert.deepEqual(failuresApartFromSpeed(result), ['no-lost-notification: 1 lost notification; 1 notification']);
});
