/**
 * Guests that register (config.registration; docker compose --scale guest=N): a guest component
 * no config names links to the hypervisor and sends `register`; the hypervisor creates its VM on
 * the normal vm-create path (vm-lifecycle.ts) and answers with its FF-A ID. When the guest's link
 * drops (its process or container died), the VM is destroyed on the normal vm-destroy path.
 *
 * Xen has no guest self-registration: the toolstack creates a domain (`xl create`, libxl
 * libxl__domain_make → XEN_DOMCTL_createdomain) and destroys it (`xl destroy`). This is the
 * simulation's stand-in for that toolstack, driven by the guest itself because under docker
 * compose nothing else knows the guest exists.
 *
 * Protocol (control messages, from = the runtime's name of the sender):
 *   register {vcpus: 1..maxVcpusPerVm, url: string (<= 200) | null, driver: string (<= 32) | null}
 *     → register-result {ok, reason, name, id}   (reason null when ok; id null when no VM)
 * The VM is named after the sender, has it as its guest component, gets the lowest free FF-A ID
 * when its turn in the life-cycle queue comes (as a vm-create without an ID does), and is
 * assigned to the sender at the GIC before its vCPUs go online (vm-assigned, gic-port.ts).
 *
 * Records: guest-registered {component, id, vcpus, url, driver}; control-refused {from, op,
 * reason} for a refused register; guest-link-lost {component, id} (id null for a VM still
 * queued) when a VM's guest link drops; link-lost {peer} for any other peer.
 */
import type { ControlData } from '../../shared/protocol/control.ts';
import type { ControlMessage } from '../../shared/protocol/messages.ts';
import { CONFIG_LIMITS } from './config.ts';
import type { HypervisorState } from './guest-call.ts';
import type { Lifecycle, LifecycleResult } from './vm-lifecycle.ts';
import type { GuestAdvert } from './vm-table.ts';

/** What a register asks for, once read. */
interface Registration {
  readonly vcpus: number;
  readonly advert: GuestAdvert;
}

const REGISTER_FIELDS = ['vcpus', 'url', 'driver'];

/**
 * What a refusal echoes of a sender's unknown keys: the first few, each cut short. A refusal goes
 * back on the wire, whose frames are bounded (shared/wire/validate.ts FIELD_LIMITS), so it must
 * stay small whatever the sender sent; the rest are counted, not quoted.
 */
const UNKNOWN_KEYS_ECHOED = 5;
const ECHOED_KEY_LENGTH = 32;

function echoedKey(key: string): string {
  return key.length <= ECHOED_KEY_LENGTH ? key : `${key.slice(0, ECHOED_KEY_LENGTH - 1)}…`;
}

function unknownFieldsWhy(unknown: readonly string[]): string {
  const shown = unknown.slice(0, UNKNOWN_KEYS_ECHOED).map(echoedKey).join(', ');
  const more = unknown.length > UNKNOWN_KEYS_ECHOED ? ` and ${unknown.length - UNKNOWN_KEYS_ECHOED} more` : '';
  return `unknown field(s) ${shown}${more}: a register takes ${REGISTER_FIELDS.join(', ')}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string of at most `max` characters, or null (absent reads as null). */
function optionalText(data: Record<string, unknown>, key: string, max: number): string | null | undefined {
  const value = data[key] ?? null;
  if (value === null) return null;
  return typeof value === 'string' && value.length <= max ? value : undefined;
}

/** A register's data, or why it is not one (the sender's problem, not a bug). */
export function readRegistration(data: unknown, maxVcpusPerVm: number): Registration | { readonly why: string } {
  if (!isObject(data)) return { why: 'data must be an object' };
  const unknown = Object.keys(data).filter((key) => !REGISTER_FIELDS.includes(key));
  if (unknown.length > 0) return { why: unknownFieldsWhy(unknown) };
  const { vcpus } = data;
  if (typeof vcpus !== 'number' || !Number.isInteger(vcpus) || vcpus < 1 || vcpus > maxVcpusPerVm) return { why: `data.vcpus must be an integer in 1..${maxVcpusPerVm}` };
  const url = optionalText(data, 'url', CONFIG_LIMITS.guestUrlLengthMax);
  if (url === undefined) return { why: `data.url must be a string of at most ${CONFIG_LIMITS.guestUrlLengthMax} characters, or null` };
  const driver = optionalText(data, 'driver', CONFIG_LIMITS.guestDriverLengthMax);
  if (driver === undefined) return { why: `data.driver must be a string of at most ${CONFIG_LIMITS.guestDriverLengthMax} characters, or null` };
  return { vcpus, advert: { url, driver } };
}

export class Registrations {
  constructor(
    private readonly hv: HypervisorState,
    private readonly lifecycle: Lifecycle,
  ) {}

  onRegister(from: string, message: ControlMessage): void {
    const registration = this.refusal(from) ?? readRegistration(message.data, this.hv.config.maxVcpusPerVm);
    if ('why' in registration) return this.refuse(from, registration.why);
    const vm = { name: from, id: null, vcpus: registration.vcpus, component: from, pcpus: null };
    this.lifecycle.submit({ op: 'vm-create', vm, advert: registration.advert }, null, (result) => this.onCreated(from, registration, result));
  }

  /** Why `from` may not register at all, or null. */
  private refusal(from: string): { readonly why: string } | null {
    const { config, vms } = this.hv;
    if (!config.registration) return { why: 'registration is off (config.registration false)' };
    if (config.controllers.has(from)) return { why: `${from} is a controller, not a guest` };
    const own = vms.ofComponent(from);
    if (own.length > 0) return { why: `${from} already has VM ${own.map((vm) => vm.id).join(', ')} (${own.map((vm) => vm.state).join(', ')})` };
    if (this.lifecycle.queuedCreatesFor(from).length > 0) return { why: `a VM for ${from} is already queued for creation` };
    return null;
  }

  private refuse(from: string, why: string): void {
    this.hv.ctx.record({ event: 'control-refused', from, op: 'register', reason: why });
    this.hv.ctx.log.warn({ from, reason: why }, 'registration refused');
    this.answer(from, { ok: false, reason: why, name: from, id: null });
  }

  private onCreated(from: string, registration: Registration, result: LifecycleResult): void {
    const id = typeof result['id'] === 'number' ? result['id'] : null;
    if (!result.ok) this.hv.ctx.log.warn({ from, reason: result.reason }, 'registration refused: the VM could not be created');
    if (result.ok) {
      const { url, driver } = registration.advert;
      this.hv.ctx.record({ event: 'guest-registered', component: from, id, vcpus: registration.vcpus, url, driver });
    }
    this.answer(from, { ok: result.ok, reason: result.reason, name: from, id });
  }

  private answer(to: string, data: ControlData<'register-result'>): void {
    this.hv.ctx.send(to, { kind: 'control', op: 'register-result', data });
  }

  /**
   * A link dropped. A guest's VMs (running, being created, or still queued) are destroyed, as
   * `xl destroy` would after the domain's guest died; a VM already being destroyed is left to
   * it. Any other peer (the GIC, the SPMD, a controller) is only recorded: the world carries on.
   */
  onLinkLost(peer: string): void {
    const { vms } = this.hv;
    const live = vms.ofComponent(peer).filter((vm) => vm.state !== 'destroying');
    const queued = this.lifecycle.queuedCreatesFor(peer);
    if (!this.hv.config.registration || live.length + queued.length === 0) {
      this.hv.ctx.record({ event: 'link-lost', peer });
      return;
    }
    const doomed: { readonly name: string; readonly id: number | null }[] = [...live.map(({ name, id }) => ({ name, id })), ...queued.map((name) => ({ name, id: null }))];
    for (const { name, id } of doomed) {
      this.hv.ctx.record({ event: 'guest-link-lost', component: peer, id });
      // Queued after a create still waiting its turn: the queue runs in order, so it is created, then destroyed.
      this.lifecycle.submit({ op: 'vm-destroy', name }, null);
    }
  }
}
