/**
 * The roles a component presents in its hello (docs/design.md §4): who it is in the FF-A world.
 * The wire validates a peer's role against this list, and the runtime gives each role its links.
 */
export type Role = 'gic' | 'spmd' | 'spmc' | 'hypervisor' | 'guest' | 'orchestrator' | 'test';
export const ROLES: readonly Role[] = ['gic', 'spmd', 'spmc', 'hypervisor', 'guest', 'orchestrator', 'test'];
