/** The two-component test world both runtimes run (the runtimes' equivalence and determinism tests). */
import type { WorldSpec } from '../component.ts';
import type { CallerConfig } from './caller.ts';
import type { EchoConfig } from './echo.ts';

export interface TestWorldOptions {
  seed: number;
  vcpus: number;
  callsPerVcpu: number;
  /** Upper bound of each vCPU's think time between calls (default 20 µs). */
  thinkNsMax?: number;
}

/** caller (vCPUs calling concurrently) → echo, over one link. Module paths are from the project root. */
export function testWorldSpec(options: TestWorldOptions): WorldSpec {
  const caller: CallerConfig = {
    target: 'echo',
    endpoint: 1,
    vcpus: options.vcpus,
    callsPerVcpu: options.callsPerVcpu,
    fid: 0xc400006f, // FFA_MSG_SEND_DIRECT_REQ_64: a 64-bit call, so all of x1..x17 matter
    thinkNsMax: options.thinkNsMax ?? 20_000,
  };
  const echo: EchoConfig = { recordCalls: true };
  return {
    seed: options.seed,
    components: [
      { name: 'caller', role: 'test', module: 'shared/runtime/test-world/caller.ts', config: caller },
      { name: 'echo', role: 'test', module: 'shared/runtime/test-world/echo.ts', config: echo },
    ],
    links: [['caller', 'echo']],
    finishers: ['caller'],
  };
}
