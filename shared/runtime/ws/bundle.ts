/**
 * The ws runtime's workers start from one pre-built JavaScript bundle instead of each loading
 * TypeScript through tsx (a worker of the default world: ~240 ms to listening through tsx,
 * ~100 ms from the bundle, most of it loading the npm packages). At world
 * start the supervisor builds, with esbuild, one ESM bundle whose entry registers a loader for
 * every component module of the WorldSpec (component-modules.ts) and then runs the worker
 * (worker-main.ts runWorker). A worker imports only the component it runs: each registered loader
 * is a dynamic import, which esbuild turns into a lazy initialiser inside the bundle.
 *
 * - npm packages and node built-ins stay external, so the bundle is written under the project's
 *   node_modules/.cache, from where Node resolves them as the sources do.
 * - `import.meta.url` (and `dirname`, `filename`) keep naming each source file, not the bundle:
 *   PROJECT_ROOT and the registry's paths depend on it.
 * - The source map is inline (no sources content); worker-entry.mjs turns source maps on before
 *   it imports the bundle, so a crash's stack names the .ts sources.
 * - The file is named by a hash of the bundle (entry included): a world built twice from the same
 *   sources reuses it. Only the most recent bundles are kept (pruneBundles).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Loader, Plugin } from 'esbuild';
import { PROJECT_ROOT } from '../component-modules.ts';

export const BUNDLE_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'ffa-world', 'worker-bundles');
const WORKER_MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
const LOAD_FACTORY = fileURLToPath(new URL('../component-modules.ts', import.meta.url));
/** Bundles kept besides any written in the last GRACE_MS (another run may be about to load one). */
const KEEP_BUNDLES = 16;
const GRACE_MS = 60_000;
const BUNDLE_FILE = /^(worker|service)-[0-9a-f]{16}\.mjs$/;
const PARTIAL_FILE = /^(worker|service)-[0-9a-f]{16}\.mjs\.[^.]+\.tmp$/;

export type BundleKind = 'worker' | 'service';

export interface WorkerBundle {
  /** What a Worker is started from. */
  url: URL;
  file: string;
  bytes: number;
  /** Time to build and write it. */
  buildMs: number;
  /** The same bundle was already on disk. */
  reused: boolean;
}

/**
 * The entry: register every component module that exists (a missing one is left to the worker,
 * whose import by path then fails with the reason), then run the worker.
 */
export function bundleEntry(modules: readonly string[]): string {
  const paths = [...new Set(modules.map((m) => resolve(PROJECT_ROOT, m)))].filter((p) => existsSync(p)).sort();
  return [
    `import { registerComponentModules } from ${JSON.stringify(LOAD_FACTORY)};`,
    `import { runWorker } from ${JSON.stringify(WORKER_MAIN)};`,
    'registerComponentModules({',
    ...paths.map((p) => `  ${JSON.stringify(p)}: () => import(${JSON.stringify(p)}),`),
    '});',
    'await runWorker();',
    '',
  ].join('\n');
}

const LOADERS: Record<string, Loader> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx' };

/** Replaces `import.meta.url`, `.filename` and `.dirname` with the source file's own, as if it were not bundled. */
export function sourceLocationPlugin(): Plugin {
  return {
    name: 'ffa-source-location',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
        const loader = LOADERS[extname(args.path)];
        if (!loader || args.namespace !== 'file') return undefined;
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta')) return undefined; // esbuild loads it as usual
        const values: Record<string, string> = {
          url: pathToFileURL(args.path).href,
          filename: args.path,
          dirname: dirname(args.path),
        };
        const contents = source.replace(/\bimport\.meta\.(url|filename|dirname)\b/g, (_, key: string) => JSON.stringify(values[key]));
        return { contents, loader };
      });
    },
  };
}

/** Build the bundle for these component modules and write it (or find it already written) under BUNDLE_DIR. */
export function buildWorkerBundle(modules: readonly string[]): Promise<WorkerBundle> {
  return buildBundle('worker', bundleEntry(modules));
}

/**
 * Bundle an entry (TypeScript source, resolved from the project root) into BUNDLE_DIR as
 * `<kind>-<hash>.mjs`: the workers' bundle, or the service processes' (scripts/service-bundle.ts).
 */
export async function buildBundle(kind: BundleKind, entry: string): Promise<WorkerBundle> {
  const t0 = process.hrtime.bigint();
  const { build } = await import('esbuild');
  const result = await build({
    stdin: { contents: entry, resolveDir: PROJECT_ROOT, sourcefile: `ffa-${kind}-bundle-entry.ts`, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    // Same as tsx: names of functions and classes survive esbuild's renaming of colliding symbols.
    keepNames: true,
    sourcemap: 'inline',
    sourcesContent: false,
    // Not written by esbuild (write: false); it fixes the directory the source map's paths are relative to.
    outfile: join(BUNDLE_DIR, `${kind}.mjs`),
    write: false,
    logLevel: 'silent',
    plugins: [sourceLocationPlugin()],
  });
  const output = result.outputFiles[0];
  if (!output || result.outputFiles.length !== 1) throw new Error(`esbuild wrote ${result.outputFiles.length} files, expected one`);
  const hash = createHash('sha256').update(output.contents).digest('hex').slice(0, 16);
  const file = join(BUNDLE_DIR, `${kind}-${hash}.mjs`);
  await mkdir(BUNDLE_DIR, { recursive: true });
  let reused = false;
  try {
    const now = new Date();
    await utimes(file, now, now); // marks it recently used for pruneBundles
    reused = true;
  } catch {
    // Written under a unique name, then renamed: a concurrent run never sees half a bundle.
    const partial = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(partial, output.contents);
    await rename(partial, file);
  }
  await pruneBundles(file);
  return { url: pathToFileURL(file), file, bytes: output.contents.byteLength, buildMs: Number(process.hrtime.bigint() - t0) / 1e6, reused };
}

/** Keeps the KEEP_BUNDLES most recently used bundles, and any used within GRACE_MS; removes leftovers of interrupted writes. */
export async function pruneBundles(keep?: string, dir = BUNDLE_DIR): Promise<string[]> {
  const now = Date.now();
  const entries = await Promise.all(
    (await readdir(dir)).map(async (name) => {
      const file = join(dir, name);
      const mtimeMs = await stat(file).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      return { name, file, mtimeMs };
    }),
  );
  const bundles = entries.filter((e) => BUNDLE_FILE.test(e.name) && e.mtimeMs !== undefined).sort((a, b) => (b.mtimeMs ?? 0) - (a.mtimeMs ?? 0));
  const stale = [
    ...bundles.slice(KEEP_BUNDLES),
    ...entries.filter((e) => PARTIAL_FILE.test(e.name)),
  ].filter((e) => e.file !== keep && e.mtimeMs !== undefined && now - e.mtimeMs > GRACE_MS);
  const removed: string[] = [];
  for (const { file } of stale) {
    // Another run may have removed it first.
    if (await unlink(file).then(() => true, () => false)) removed.push(file);
  }
  return removed;
}
