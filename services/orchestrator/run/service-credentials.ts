/**
 * What each service of a world of services holds (docs/threat-model.md, docs/compose.md): the
 * keys of its own links, derived from the world secret by whoever makes the credentials
 * (scripts/compose-credentials.ts, or compose:local for one run), and nothing of any other link.
 *
 *   gic           its dialers' link keys (spmc, hypervisor, orchestrator); the guest issuer key
 *   spmc          the spmd's and orchestrator's link keys; its own to the gic
 *   spmd          the hypervisor's and orchestrator's link keys; its own to the spmc
 *   hypervisor    the orchestrator's link key; its own to the spmd and the gic; the guest issuer
 *                 key and the enrollment credential (it binds guest names)
 *   guest         the enrollment credential only: its own key comes in the hypervisor's welcome
 *   orchestrator  its link keys to the four platform services; the guest issuer key
 *
 * No credential of a guest opens a platform component's name, and the enrollment credential is
 * useless to a service that is not a guest.
 */
import { type Credentials, enrollmentKey, guestIssuerKey, type KeyText, linkKey } from '../../../shared/runtime/ws/credentials.ts';
import { DIALS, dialledBy, type ServiceRole } from './distributed-world.ts';
import { COMPONENTS, RESERVED_NAMES } from './world-builder.ts';

/** The service that answers under each role's name (a guest has none in advance). */
const nameOf = (role: Exclude<ServiceRole, 'guest'>): string => COMPONENTS[role];

/** The roles whose services derive each guest's own key: those guests link to, and the orchestrator, which dials them. */
const GUEST_FACING: readonly ServiceRole[] = ['gic', 'hypervisor', 'orchestrator'];
/** The one service that binds guest names (it creates their VMs: registration.ts). */
const GUEST_BINDER: ServiceRole = 'hypervisor';

export function serviceCredentials(worldSecret: KeyText, role: ServiceRole): Credentials {
  if (role === 'guest') return { accept: {}, dial: {}, enrolling: { enrollment: enrollmentKey(worldSecret), accept: { [COMPONENTS.orchestrator]: 'orchestrator' } } };
  const self = nameOf(role);
  const credentials: Credentials = { accept: {}, dial: {} };
  for (const dialer of dialledBy(role)) {
    if (dialer !== 'guest') credentials.accept[nameOf(dialer)] = { key: linkKey(worldSecret, nameOf(dialer), self), role: dialer };
  }
  for (const target of DIALS[role]) credentials.dial[nameOf(target)] = linkKey(worldSecret, self, nameOf(target));
  if (GUEST_FACING.includes(role)) {
    credentials.guests = { issuer: guestIssuerKey(worldSecret), reserved: [...RESERVED_NAMES], ...(role === GUEST_BINDER ? { enrollment: enrollmentKey(worldSecret) } : {}) };
  }
  return credentials;
}

/**
 * What a service's credentials lack for its role, one line each: a file made for another role
 * (a mount mixed up) is refused at start, not at its first link.
 */
export function credentialProblems(role: ServiceRole, credentials: Credentials): string[] {
  const problems: string[] = [];
  const want = (ok: boolean, what: string): void => {
    if (!ok) problems.push(`no ${what}: is this the ${role}'s credentials file?`);
  };
  if (role === 'guest') {
    want(credentials.enrolling !== undefined, 'guest enrollment credential ("enrolling")');
    return problems;
  }
  for (const dialer of dialledBy(role)) if (dialer !== 'guest') want(credentials.accept[nameOf(dialer)] !== undefined, `key for the ${dialer}'s link ("accept.${nameOf(dialer)}")`);
  for (const target of DIALS[role]) want(credentials.dial[nameOf(target)] !== undefined, `key for the link to the ${target} ("dial.${nameOf(target)}")`);
  if (GUEST_FACING.includes(role)) want(credentials.guests !== undefined, 'guest issuer key ("guests.issuer")');
  if (role === GUEST_BINDER) want(credentials.guests?.enrollment !== undefined, 'enrollment credential to check ("guests.enrollment")');
  if (credentials.enrolling !== undefined) problems.push(`an enrollment credential of its own ("enrolling"): only a guest enrolls; is this a guest's file?`);
  return problems;
}
