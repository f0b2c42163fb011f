/** Runs a WorldSpec (plain data) under the sim runtime. */
import type { Logger } from 'pino';
import type { WorldSpec } from '../component.ts';
import type { HistorySink } from '../history.ts';
import type { FaultRule } from '../interceptor.ts';
import { importComponentFactory } from '../component-modules.ts';
import { ServiceTimeModel } from '../service-time.ts';
import { type HopLatency, type SimRunLimits, type SimRunResult, SimWorld } from './sim-world.ts';

export interface SimRunOptions {
  history: HistorySink;
  faults?: FaultRule[];
  defaultLatency?: HopLatency;
  latency?: Map<string, HopLatency>;
  log?: Logger;
  limits?: SimRunLimits;
}

export async function runSimWorld(spec: WorldSpec, options: SimRunOptions): Promise<SimRunResult> {
  const components = await Promise.all(
    spec.components.map(async (c) => ({ name: c.name, factory: await importComponentFactory(c.module), config: c.config })),
  );
  const world = new SimWorld({
    seed: spec.seed,
    components,
    links: spec.links,
    history: options.history,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.defaultLatency ? { defaultLatency: options.defaultLatency } : {}),
    ...(options.latency ? { latency: options.latency } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(spec.orchestrator === undefined ? {} : { orchestrator: spec.orchestrator }),
    ...(spec.serviceTimes ? { serviceTimes: new ServiceTimeModel(spec.serviceTimes, new Map(spec.components.map((c) => [c.name, c.role]))) } : {}),
  });
  world.start();
  const result = world.run(options.limits);
  world.stop();
  return result;
}
