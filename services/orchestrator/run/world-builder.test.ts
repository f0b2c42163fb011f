/**
 * The component table: each role's module builds its component, and a config of another shape
 * than the role's does not compile (the @ts-expect-error line fails the type check if it does).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { COMPONENT_MODULES, componentSpec, type WorldRole } from './world-builder.ts';

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
