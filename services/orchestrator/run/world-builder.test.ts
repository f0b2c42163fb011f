/**
 * The component table: each role's module builds its component, and a config of another shape
 * than the role's does not compile (the @ts-expect-error line fails the type check if it does);
 * and the facts one component learns from another at run time, given to it by the builder.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readScenarioText } from '../scenario/reader/index.ts';
import { orchestratorConfig } from './runner.ts';
import { buildWorldSpec, callsInFlightBound, COMPONENT_MODULES, componentSpec, type WorldRole } from './world-builder.ts';
import { platformComponent } from './distributed-world.ts';

test('every role names a module that exports a component factory', async () => {
  for (const [role, module] of Object.entries(COMPONENT_MODULES)) {
    const loaded = (await import(`../../../${module}`)) as { create?: unknown };
    assert.equal(typeof loaded.create, 'function', `${role}: ${module} exports create`);
  }
});

test('a component takes its role module and a config of its role shape', () => {
  const gic = componentSpec('gic', 'gic', { cpus: 4 });
  assert.deepEqual(gic, { name: 'gic', role: 'gic', module: 'services/gic/gic.ts', config: { cpus: 4 } });
  // @ts-expect-error the GIC's cpus is a number
  componentSpec('gic', 'gic', { cpus: 'four' });
  // @ts-expect-error the SPMD's config has no vmId
  componentSpec('spmd', 'spmd', { spmc: 'spmc', vmId: 1 });
  const roles: WorldRole[] = ['gic', 'spmd', 'spmc', 'hypervisor', 'guest', 'orchestrator'];
  assert.deepEqual(Object.keys(COMPONENT_MODULES).sort(), [...roles].sort());
});

/**
 * Xen caches each SP descriptor whole from the SPMC's FFA_PARTITION_INFO_GET at probe (xen/arch/arm/
 * tee/ffa_partinfo.c ffa_sp_list_cache_init, secure IDs only) and hands it on to guests unchanged
 * (ffa_get_sp_partinfo, ffa_get_sp_partinfo_regs: only the UUID is zeroed for a UUID query). So the
 * hypervisor's SP list carries the properties the SPMC reports to a normal-world caller, and the
 * guests' (what their RX buffer would hold) the same.
 */
test('the SP list is the SPMC\'s alone: the hypervisor and the guests read it from their RX buffers, not from their configs', () => {
  // What they then find there, per SPMC profile and caller, is held by the SPMC's own tests
  // (partition properties per caller) and by scenarios/conformance/*partition-info-get-rx-buffer.yaml.
  const scenario = readScenarioText(
    [
      'name: sp-list-is-the-spmcs',
      'world:',
      '  spmc: { profile: hafnium, partitions: [{ id: 0x8001, vcpus: 2, notifications: true }] }',
      '  hypervisor: { profile: xen }',
      '  vms: [{ name: vm1, driver: raw }]',
    ].join('\n'),
    'sp-list-is-the-spmcs.yaml',
  );
  const spec = buildWorldSpec(scenario, 1, orchestratorConfig(scenario, 'sim', 1));
  const config = (name: string) => spec.components.find((c) => c.name === name)?.config as Record<string, unknown>;
  assert.equal(config('hypervisor')['partitions'], undefined);
  assert.equal(config('vm1')['partitions'], undefined);
  assert.deepEqual((config('spmc')['partitions'] as { id: number }[]).map((p) => p.id), [0x8001]);
});

/**
 * A vCPU's SMC is synchronous on hardware, so a world has at most one call in flight per vCPU (and
 * the hypervisor's INFO_GET loop per pCPU). The hypervisor's and the SPMD's in-flight bounds are
 * sized to that, so 1,000 guests answering their NPIs at once are never refused BUSY by a bound of
 * the simulation's own (Xen's ffa_handle_notification_get never answers BUSY).
 */
test('the hypervisor and the SPMD have room for a call from every vCPU at once', () => {
  const world = (guests: number) =>
    readScenarioText(
      [
        `name: calls-in-flight-${guests}`,
        'world:',
        '  cpus: 4',
        '  spmc: { profile: hafnium, partitions: [{ id: 0x8001, vcpus: 2, notifications: true }] }',
        '  hypervisor: { profile: xen }',
        `  vms: [${Array.from({ length: guests }, (_, i) => `{ name: g${i + 1}, driver: raw, vcpus: 2 }`).join(', ')}]`,
      ].join('\n'),
      `calls-in-flight-${guests}.yaml`,
    );
  const bounds = (guests: number) => {
    const scenario = world(guests);
    const spec = buildWorldSpec(scenario, 1, orchestratorConfig(scenario, 'sim', 1));
    const config = (name: string) => spec.components.find((c) => c.name === name)?.config as Record<string, unknown>;
    return [config('hypervisor')['maxPendingGuestCalls'], config('spmd')['maxPendingForwards']];
  };
  assert.deepEqual(bounds(3), [256, 256], 'a small world keeps the services\' defaults');
  assert.deepEqual(bounds(1000), [2004, 2004], '2,000 vCPUs and 4 pCPUs');
});

test('a world of services has room for a call from every vCPU its VM table could hold, within the services\' own limits', () => {
  const scenario = readScenarioText('name: services\nworld:\n  hypervisor: { profile: xen }\n  vms: [{ name: guest, vcpus: 2, driver: linux-6.10 }]\n', 'services.yaml');
  const bounds = (maxGuests: number) => {
    const config = (role: 'hypervisor' | 'spmd') => platformComponent(scenario, role, { maxGuests }).config as Record<string, unknown>;
    return [config('hypervisor')['maxPendingGuestCalls'], config('spmd')['maxPendingForwards']];
  };
  assert.deepEqual(bounds(8), [256, 256]);
  assert.deepEqual(bounds(1000), [16_004, 16_004], '1,000 guests of up to 16 vCPUs, and 4 pCPUs');
  assert.deepEqual(bounds(4096), [65_536, 65_536], 'at most the hypervisor\'s and the SPMD\'s limit');
  assert.equal(callsInFlightBound(10, 4), 256);
});
