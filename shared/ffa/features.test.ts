import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FEATURE_IDS, featureNameOf, featuresIdFromName, isFeatureId } from './features.ts';
import { BIND_FLAGS, flagNames, flagsFromNames, GET_FLAGS, SET_FLAGS } from './notification-flags.ts';

test('FEATURES ids: feature names, ABI names, and the bit-31 split', () => {
  assert.deepEqual(FEATURE_IDS, { NPI: 1, SRI: 2, MEI: 3, NOTIFICATION: 4 });
  assert.equal(featuresIdFromName('SRI'), 2);
  assert.equal(featuresIdFromName('FFA_NOTIFICATION_INFO_GET_64'), 0xc400_0083);
  assert.equal(featuresIdFromName('nope'), null);
  assert.equal(featureNameOf(1), 'NPI');
  assert.ok(isFeatureId(2));
  assert.ok(!isFeatureId(0x8400_0064));
});

test('flag names <-> bits', () => {
  assert.equal(flagsFromNames(SET_FLAGS, ['perVcpu', 'delaySri']), 3);
  assert.equal(flagsFromNames(GET_FLAGS, ['sp', 'vm', 'spm', 'hyp']), 0xf);
  assert.equal(flagsFromNames(BIND_FLAGS, []), 0);
  assert.deepEqual(flagNames(GET_FLAGS, 0b0101), ['sp', 'spm']);
  assert.throws(() => flagsFromNames(GET_FLAGS, ['toString']), RangeError);
});
