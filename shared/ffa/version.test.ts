import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compareVersions, FFA_VERSION_1_2, formatVersion, isValidVersion, makeVersion, parseVersion, versionMajor, versionMinor } from './version.ts';

test('"1.2" <-> 0x10002', () => {
  assert.equal(parseVersion('1.2'), 0x1_0002);
  assert.equal(FFA_VERSION_1_2, 0x1_0002);
  assert.equal(formatVersion(0x1_0002), '1.2');
  assert.equal(parseVersion('1.x'), null);
  assert.equal(parseVersion('32768.0'), null, 'major is 15 bits');
  assert.equal(parseVersion('1.65536'), null);
});

test('bit 31 is not part of a version', () => {
  assert.ok(!isValidVersion(0x8001_0002));
  assert.throws(() => formatVersion(0x8001_0002), RangeError);
  assert.throws(() => makeVersion(0x8000, 0), RangeError);
});

test('versions round-trip through text and compare like their numbers', () => {
  const major = fc.integer({ min: 0, max: 0x7fff });
  const minor = fc.integer({ min: 0, max: 0xffff });
  fc.assert(fc.property(major, minor, major, minor, (a1, b1, a2, b2) => {
    const v1 = makeVersion(a1, b1);
    assert.equal(parseVersion(formatVersion(v1)), v1);
    assert.equal(versionMajor(v1), a1);
    assert.equal(versionMinor(v1), b1);
    const v2 = makeVersion(a2, b2);
    assert.equal(compareVersions(v1, v2), Math.sign(a1 - a2) || Math.sign(b1 - b2));
  }));
});
