import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../component-modules.ts';
import { BUNDLE_DIR, bundleEntry, buildWorkerBundle, pruneBundles } from './bundle.ts';

const TEST_WORLD_MODULES = ['shared/runtime/test-world/caller.ts', 'shared/runtime/test-world/echo.ts'];

describe('the ws workers\' bundle', () => {
  it('registers every component module that exists, once, and then runs the worker', () => {
    const entry = bundleEntry([...TEST_WORLD_MODULES, 'shared/runtime/test-world/echo.ts', 'shared/runtime/ws/test-support/missing.ts']);
    const registered = [...entry.matchAll(/^ {2}("[^"]+"): /gm)].map((m) => JSON.parse(m[1] ?? '""') as string);
    assert.deepEqual(registered, TEST_WORLD_MODULES.map((m) => join(PROJECT_ROOT, m)));
    assert.match(entry, /registerComponentModules\(\{[\s\S]*\}\);\nawait runWorker\(\);\n$/);
  });

  it('is written under node_modules/.cache by the hash of its contents, reused when unchanged, and keeps each source file\'s import.meta.url', async () => {
    const first = await buildWorkerBundle(TEST_WORLD_MODULES);
    const second = await buildWorkerBundle([...TEST_WORLD_MODULES].reverse());
    assert.equal(second.file, first.file);
    assert.equal(second.reused, true);
    assert.ok(first.file.startsWith(BUNDLE_DIR) && /worker-[0-9a-f]{16}\.mjs$/.test(first.file));
    const code = await readFile(first.file, 'utf8');
    assert.ok(!/\bimport\.meta\.url\b/.test(code), 'no import.meta.url is left to name the bundle');
    assert.ok(code.includes(JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'shared/runtime/component-modules.ts')).href)));
    assert.match(code, /\/\/# sourceMappingURL=data:application\/json;base64,/);
    assert.match(code, /^import .* from "ws";$/m, 'npm packages stay external');
  });

  it('keeps the most recent bundles and removes old ones and leftovers of interrupted writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ffa-bundles-test-'));
    try {
      const hour = 3_600_000;
      const now = Date.now();
      const names = Array.from({ length: 20 }, (_, i) => `worker-${i.toString(16).padStart(16, '0')}.mjs`);
      for (const [i, name] of names.entries()) {
        await writeFile(join(dir, name), '');
        // names[0] is the most recent; the last two are recent enough to be in use by another run.
        const at = new Date(i >= 18 ? now : now - hour - i * 1000);
        await utimes(join(dir, name), at, at);
      }
      const partial = `${names[0]}.123-abcd.tmp`;
      await writeFile(join(dir, partial), '');
      await utimes(join(dir, partial), new Date(now - hour), new Date(now - hour));
      await writeFile(join(dir, 'unrelated.txt'), '');
      const kept = names[17] ?? '';
      await pruneBundles(join(dir, kept), dir);
      const left = new Set(await readdir(dir));
      const expected = new Set([...names.slice(18), ...names.slice(0, 14), kept, 'unrelated.txt']);
      assert.deepEqual(left, expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
