/**
 * The guest names one server has bound (docs/threat-model.md): the hypervisor, in a world of
 * services whose guests are not named in advance. A name is bound to the first peer that
 * proves the enrollment credential under it, and stays bound for the server's life: a later
 * claim must prove that guest's own key (keyring.ts). What the enrollment credential may bind
 * is bounded twice: in all, and per source address, so one holder of the credential can neither
 * fill the world's VM table nor hold many names.
 */
import type { LinkLimits } from './limits.ts';

export class Enrollments {
  /** Name → the address it was bound from. */
  private readonly bound = new Map<string, string>();
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: Pick<LinkLimits, 'maxEnrollments' | 'maxEnrollmentsPerAddress'>) {}

  isBound(name: string): boolean {
    return this.bound.has(name);
  }

  get count(): number {
    return this.bound.size;
  }

  /** Why `name` may not be bound from `address` now, or null. */
  refusal(name: string, address: string): string | null {
    if (this.bound.has(name)) return `${name} is bound to another peer already: a reconnect proves that guest's own key`;
    if (this.bound.size >= this.limits.maxEnrollments) return `${this.bound.size} guest names bound already, the most the enrollment credential may bind here (maxEnrollments)`;
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxEnrollmentsPerAddress) {
      return `${address} bound ${fromAddress} guest name(s) already, the most one address may (maxEnrollmentsPerAddress)`;
    }
    return null;
  }

  bind(name: string, address: string): void {
    const why = this.refusal(name, address);
    if (why !== null) throw new Error(`bug: bound ${name} against the rule: ${why}`);
    this.bound.set(name, address);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
  }
}
