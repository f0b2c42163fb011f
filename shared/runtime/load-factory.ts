/**
 * Resolves a ComponentSpec's module (a path from the project root) to its `create` factory. Both
 * runtimes load components this way, so a world description is plain data.
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ComponentFactory } from './component.ts';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export async function loadFactory(module: string): Promise<ComponentFactory> {
  const url = pathToFileURL(resolve(PROJECT_ROOT, module)).href;
  const loaded = (await import(url)) as { create?: unknown };
  if (typeof loaded.create !== 'function') {
    throw new Error(`component module ${module} does not export a create() factory`);
  }
  return loaded.create as ComponentFactory;
}
