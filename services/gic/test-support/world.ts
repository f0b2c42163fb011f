/** Worlds for the GIC's tests: a `gic` and scripted actors linked to it (and to each other when they signal). */
import type { WorldSpec } from '../../../shared/runtime/component.ts';
import type { GicConfig } from '../config.ts';
import type { IrqActorConfig } from './irq-actor.ts';

export const GIC_MODULE = 'services/gic/gic.ts';
export const ACTOR_MODULE = 'services/gic/test-support/irq-actor.ts';

export interface GicWorldOptions {
  gic: GicConfig;
  actors: Record<string, IrqActorConfig>;
  seed?: number;
}

/** Actor pairs that signal each other, as links (each pair once). */
function signalLinks(actors: Record<string, IrqActorConfig>): [string, string][] {
  const pairs = new Set<string>();
  for (const [name, actor] of Object.entries(actors)) {
    for (const step of actor.steps) {
      if (step.do === 'signal') pairs.add([name, step.to].sort().join('\u0000'));
    }
  }
  return [...pairs].map((pair) => pair.split('\u0000') as [string, string]);
}

export function gicWorld(options: GicWorldOptions): WorldSpec {
  const names = Object.keys(options.actors);
  return {
    seed: options.seed ?? 1,
    components: [
      { name: 'gic', role: 'gic', module: GIC_MODULE, config: options.gic },
      ...names.map((name) => ({ name, role: 'test' as const, module: ACTOR_MODULE, config: options.actors[name] })),
    ],
    links: [...names.map((name): [string, string] => [name, 'gic']), ...signalLinks(options.actors)],
    finishers: names,
  };
}
