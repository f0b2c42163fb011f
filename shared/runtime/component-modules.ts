/**
 * Resolves a ComponentSpec's module (a path from the project root) to its `create` factory. Both
 * runtimes load components this way, so a world description is plain data.
 *
 * A pre-built bundle (the ws runtime's workers, ws/bundle.ts) registers a loader for every
 * component module it carries before anything loads a factory; importComponentFactory uses a registered
 * loader first and imports the module by path only when none is registered.
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ComponentFactory } from './component.ts';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Loads a component module (its namespace); registered by a bundle for the modules it carries. */
export type ModuleLoader = () => Promise<unknown>;

const registry = new Map<string, ModuleLoader>();

/** Register loaders by module path (from the project root, or absolute). A later registration of a path replaces an earlier one. */
export function registerComponentModules(loaders: Record<string, ModuleLoader>): void {
  for (const [module, load] of Object.entries(loaders)) registry.set(resolve(PROJECT_ROOT, module), load);
}

export async function importComponentFactory(module: string): Promise<ComponentFactory> {
  const path = resolve(PROJECT_ROOT, module);
  const registered = registry.get(path);
  const loaded = (registered ? await registered() : await import(pathToFileURL(path).href)) as { create?: unknown };
  if (typeof loaded.create !== 'function') {
    throw new Error(`component module ${module} does not export a create() factory`);
  }
  return loaded.create as ComponentFactory;
}
