/**
 * The component table: each role's module builds its component, and a config of another shape
 * than the role's does not compile (the @ts-expect-error line fails the type check if it does);
 * and the facts one component learns from another at run time, given to it by the builder.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readScenarioText } from '../scenario/reader/index.ts';
import { orchestratorConfig } from './runner.ts';
import { buildWorldSpec, COMPONENT_MODULES, componentSpec, type WorldRole } from './world-builder.ts';

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
test('the hypervisor and the guests are given each SP\'s properties as the SPMC reports them to the normal world', () => {
  const world = (profile: string) =>
    readScenarioText(
      [
        'name: properties-relayed',
        'world:',
        `  spmc: { profile: ${profile}, partitions: [`,
        '    { id: 0x8001, vcpus: 2, notifications: true, ffaVersion: "1.2" },',
        '    { id: 0x8002, vcpus: 1, notifications: true, messaging: [direct, indirect], ffaVersion: "1.0" },',
        '    { id: 0x8003, vcpus: 2, behaviour: optee, ffaVersion: "1.1" } ] }',
        '  hypervisor: { profile: xen }',
        '  vms: [{ name: vm1, driver: raw }]',
      ].join('\n'),
      'properties-relayed.yaml',
    );
  const relayed = (profile: string) => {
    const scenario = world(profile);
    const spec = buildWorldSpec(scenario, 1, orchestratorConfig(scenario, 'sim', 1));
    const config = (name: string) => spec.components.find((c) => c.name === name)?.config as { partitions: { id: number; properties: number }[] };
    return { hypervisor: config('hypervisor').partitions.map((p) => p.properties), guest: config('vm1').partitions.map((p) => p.properties) };
  };
  // Linux arm_ffa.h FFA_PARTITION_*: direct recv 1, send 2, indirect 4, notifications 8, VM created 64, destroyed 128, AArch64 256.
  // Hafnium ffa_setup_partition_properties, to the NWd: no DIRECT_REQ_SEND; NOTIFICATION and INDIRECT_MSG only at v1.1+.
  // (OP-TEE as an SP under Hafnium takes no VM_CREATED/DESTROYED here: world-builder.ts spMessaging.)
  assert.deepEqual(relayed('hafnium'), { hypervisor: [0x109, 0x101, 0x101], guest: [0x109, 0x101, 0x101] });
  // OP-TEE spmc_fill_partition_entry: the same bits to every caller; its own SP with NS-virtualization takes VM_CREATED/DESTROYED.
  assert.deepEqual(relayed('optee'), { hypervisor: [0x10b, 0x10f, 0x1c3], guest: [0x10b, 0x10f, 0x1c3] });
});
