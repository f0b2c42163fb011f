/**
 * Paths the user names: a read stops at its byte budget (a device that never ends is refused,
 * not read until the process dies), and folders are made one by one, so a file system that
 * makes none (/proc) is an error at once, not a loop.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileInputError, makeFolder, readFileBounded, readTextFileBounded } from './files.ts';

const dir = mkdtempSync(join(tmpdir(), 'ffa-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const refusal = (code: FileInputError['code'], message: RegExp) => (error: unknown) => error instanceof FileInputError && error.code === code && message.test(error.message);

describe('readFileBounded', () => {
  it('reads a file up to its budget, and refuses one byte more', () => {
    const file = join(dir, 'eight');
    writeFileSync(file, '12345678');
    assert.equal(readTextFileBounded(file, 8), '12345678');
    assert.throws(() => readFileBounded(file, 7), refusal('FILE_TOO_LARGE', /eight: larger than 7 bytes$/));
  });

  it('stops reading a device that never ends at the budget', () => {
    assert.throws(() => readFileBounded('/dev/zero', 4 * 2 ** 20), refusal('FILE_TOO_LARGE', /^\/dev\/zero: larger than 4 MiB \(4194304 bytes\)$/));
  });

  it('refuses devices and folders where only files and pipes make sense, and names a missing file', () => {
    assert.throws(() => readFileBounded('/dev/zero', 1024, { filesAndPipesOnly: true }), refusal('NOT_A_FILE', /^\/dev\/zero: not a regular file/));
    assert.throws(() => readFileBounded(dir, 1024), refusal('NOT_A_FILE', /a folder, not a file$/));
    assert.throws(() => readFileBounded(join(dir, 'absent'), 1024), refusal('FILE_UNREADABLE', /absent: cannot read \(no such file\)$/));
  });
});

describe('makeFolder', () => {
  it('makes a folder and its missing parents, and accepts one that exists', () => {
    const nested = join(dir, 'a', 'b', 'c');
    makeFolder(nested);
    assert.ok(statSync(nested).isDirectory());
    makeFolder(nested);
  });

  it('refuses at once where the file system makes no folder (/proc), and under a file', () => {
    assert.throws(() => makeFolder('/proc/ffa-world-out/x'), refusal('FOLDER_UNMAKEABLE', /^\/proc\/ffa-world-out\/x: cannot make the folder: this file system makes no folder \/proc\/ffa-world-out$/));
    const file = join(dir, 'plain');
    writeFileSync(file, '');
    assert.throws(() => makeFolder(join(file, 'out')), refusal('FOLDER_UNMAKEABLE', /is not a folder$/));
    assert.throws(() => makeFolder(file), refusal('FOLDER_UNMAKEABLE', /exists and is not a folder$/));
    assert.equal(existsSync(join(file, 'out')), false);
  });
});
