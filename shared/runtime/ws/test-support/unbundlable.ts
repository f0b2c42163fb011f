/**
 * Test component that esbuild cannot bundle (a dynamic import of a file that does not exist, on
 * a path never taken) but that loads through tsx: the ws supervisor must fall back to tsx, with a
 * warning, and the world must still come up.
 */
import type { Component, ComponentContext, ComponentFactory } from '../../component.ts';

export interface UnbundlableConfig {
  /** Never true in a test: the import below would fail. */
  loadMissing: boolean;
}

export const create: ComponentFactory<UnbundlableConfig> = (ctx: ComponentContext, config: UnbundlableConfig): Component => ({
  onStart() {
    // @ts-expect-error: the file is missing on purpose.
    if (config.loadMissing) void import('./missing-on-purpose.ts');
    ctx.record({ event: 'unbundlable-started' });
  },
  onMessage() {},
});
