/**
 * A sim run whose links can drop mid-run, for the tests of guests that register (a guest's process
 * or container dying under docker compose). Under sim links never close by themselves (the
 * runtime never calls onLinkLost), so the harness plays the ws runtime's part: when the actor
 * records `actor-mark {label}` for a cut, the component is crashed (its state is gone, what
 * arrives for it is lost) and every peer named hears `linkLost(component)` through its
 * ComponentHost, as ws/node.ts reports a closed socket. The world runs one event at a time so a
 * cut lands between two events, never inside a handler.
 */
import { importComponentFactory } from '../../../shared/runtime/component-modules.ts';
import type { WorldSpec } from '../../../shared/runtime/component.ts';
import { type HistoryEntry, MemoryHistorySink } from '../../../shared/runtime/history.ts';
import { SimWorld } from '../../../shared/runtime/sim/sim-world.ts';

export interface LinkCut {
  /** The actor's mark label that triggers it. */
  readonly mark: string;
  /** The component whose links drop. */
  readonly component: string;
  /** Crash it too (its process died), or only drop the links (a network partition). */
  readonly crash: boolean;
  /** The components that hear of it (those linked to it). */
  readonly peers: readonly string[];
}

export interface CutRunResult {
  /** done: every finisher recorded done; idle: nothing left to do first; timeout: the virtual bound. */
  readonly ended: 'done' | 'idle' | 'timeout';
  readonly entries: HistoryEntry[];
}

/** Bound on the run's events (a bug that loops must still end). */
const MAX_EVENTS = 5_000_000;

export async function runWorldWithLinkCuts(spec: WorldSpec, actor: string, cuts: readonly LinkCut[], untilNs: number): Promise<CutRunResult> {
  const components = await Promise.all(spec.components.map(async (c) => ({ name: c.name, factory: await importComponentFactory(c.module), config: c.config })));
  const history = new MemoryHistorySink();
  const due: LinkCut[] = [];
  const finished = new Set<string>();
  const sink = {
    append(entry: HistoryEntry): void {
      history.append(entry);
      const { event } = entry;
      if (event.type !== 'record') return;
      if (event.data['event'] === 'done') finished.add(event.component);
      if (event.component === actor && event.data['event'] === 'actor-mark') due.push(...cuts.filter((cut) => cut.mark === event.data['label']));
    },
    close(): void {},
  };
  const world = new SimWorld({ seed: spec.seed, components, links: spec.links, history: sink });
  world.start();
  const ended = runCutting(world, due, untilNs);
  world.stop();
  const done = (spec.finishers ?? []).every((name) => finished.has(name));
  return { ended: done ? 'done' : ended, entries: history.entries };
}

function runCutting(world: SimWorld, due: LinkCut[], untilNs: number): 'idle' | 'timeout' {
  for (let events = 0; events < MAX_EVENTS; events++) {
    const step = world.run({ untilNs, maxEvents: 1 });
    for (const cut of due.splice(0)) applyCut(world, cut);
    if (step.ended === 'until') return 'timeout';
    if (step.events === 0) return 'idle';
  }
  throw new Error(`bug: the world ran ${MAX_EVENTS} events`);
}

function applyCut(world: SimWorld, cut: LinkCut): void {
  const host = (name: string) => {
    const found = world.host(name);
    if (!found) throw new Error(`bug: no component ${name} to cut`);
    return found;
  };
  if (cut.crash) host(cut.component).crash('its link dropped (test)');
  for (const peer of cut.peers) host(peer).linkLost(cut.component);
}
