/**
 * The service processes' bundle: scripts/service.ts and every component module a service runs,
 * built with esbuild into one ESM file (shared/runtime/ws/bundle.ts, as the ws runtime's workers
 * are). A service then starts in a fraction of the time tsx takes to load the TypeScript sources
 * (on this 2-core machine ~0.5 s instead of ~2–5 s a process, which compose's serial,
 * health-gated start-up pays six times), and with less memory.
 *
 *   node --import tsx scripts/service-bundle.ts [--out FILE]    prints the bundle's path
 *
 * The Dockerfile builds it into the image (--out node_modules/.cache/ffa-world/service.mjs);
 * compose:local builds it once per run. Run it with `node --enable-source-maps FILE`: stacks then
 * name the .ts sources.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { COMPONENT_MODULES } from '../services/orchestrator/run/world-builder.ts';
import { PROJECT_ROOT } from '../shared/runtime/component-modules.ts';
import { buildBundle, type WorkerBundle } from '../shared/runtime/ws/bundle.ts';

/** Every component module a service may run: one a role (world-builder.ts). */
export const SERVICE_COMPONENT_MODULES: readonly string[] = Object.values(COMPONENT_MODULES);

function serviceEntry(): string {
  const path = (module: string): string => JSON.stringify(resolve(PROJECT_ROOT, module));
  return [
    `import { registerComponentModules } from ${path('shared/runtime/component-modules.ts')};`,
    `import { main } from ${path('scripts/service.ts')};`,
    'registerComponentModules({',
    ...SERVICE_COMPONENT_MODULES.map((m) => `  ${path(m)}: () => import(${path(m)}),`),
    '});',
    'await main();',
    '',
  ].join('\n');
}

export function buildServiceBundle(): Promise<WorkerBundle> {
  return buildBundle('service', serviceEntry());
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === import.meta.filename) {
  const at = process.argv.indexOf('--out');
  const out = at >= 0 ? process.argv[at + 1] : undefined;
  const bundle = await buildServiceBundle();
  if (out === undefined) {
    process.stdout.write(`${bundle.file}\n`);
  } else {
    // Beside the cached bundles, so the npm packages it leaves external resolve from node_modules.
    const target = resolve(out);
    if (!target.startsWith(join(PROJECT_ROOT, 'node_modules'))) throw new Error(`--out ${out}: must be under node_modules (its packages resolve from there)`);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(bundle.file, target);
    process.stdout.write(`${target} (${(bundle.bytes / 1024).toFixed(0)} KiB, ${bundle.buildMs.toFixed(0)} ms)\n`);
  }
}
