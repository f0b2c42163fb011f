/**
 * Where a world of services' platform components are, as their environment says (docker compose's
 * FFA_GIC, FFA_SPMD, FFA_SPMC, FFA_HYPERVISOR, and FFA_HOSTS for compose:local's loopback names):
 * read the same way by every service (scripts/service.ts) and by `ffa-world load --attach`
 * (scripts/load-attach.ts), so a command run beside the orchestrator finds what it would.
 */
import type { PlatformRole } from '../services/orchestrator/run/distributed-world.ts';
import { PLATFORM_ROLES } from '../services/orchestrator/run/distributed-world.ts';
import { type EnvironmentReader, quoted } from './environment.ts';

/** The port every service listens on unless told (FFA_PORT). */
export const DEFAULT_SERVICE_PORT = 7100;
const PORT_MAX = 65535;
/** A host name or an IPv4 address, as FFA_HOSTS and the FFA_<ROLE> addresses take them (RFC 1123: at most 253). */
const HOST_PATTERN = /^[A-Za-z0-9_.-]{1,253}$/;

/** The variable that names a platform role's address: FFA_GIC, FFA_SPMD, FFA_SPMC, FFA_HYPERVISOR. */
export const addressVariable = (role: PlatformRole): string => `FFA_${role.toUpperCase()}`;

/** host:port, or a name FFA_HOSTS maps to an address. */
export function resolveAddress(reader: EnvironmentReader, variable: string, fallback: string, hosts: Record<string, string>): string {
  const raw = reader.text(variable, fallback);
  const match = /^([A-Za-z0-9_.-]{1,253}):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[2]);
  reader.check(match !== null && port >= 1 && port <= PORT_MAX, `${variable}=${quoted(raw)} must be host:port (port 1..${PORT_MAX})`);
  const host = match?.[1] ?? '';
  return `ws://${Object.hasOwn(hosts, host) ? hosts[host] : host}:${match?.[2] ?? ''}`;
}

/** FFA_HOSTS: a JSON object of host name to address (compose-local.ts gives each service its own), or {}. */
export function readHosts(reader: EnvironmentReader): Record<string, string> {
  const hosts = reader.json('FFA_HOSTS', {});
  const valid =
    typeof hosts === 'object' && hosts !== null && !Array.isArray(hosts) && Object.entries(hosts).every(([name, address]) => HOST_PATTERN.test(name) && typeof address === 'string' && HOST_PATTERN.test(address));
  reader.check(valid, 'FFA_HOSTS must be a JSON object {"name": "address"} of host names and addresses (letters, digits, . _ -; at most 253 each)');
  return valid ? (hosts as Record<string, string>) : {};
}

/**
 * The ws:// URL of each platform service: FFA_<ROLE> (default <role>:7100), names resolved through
 * FFA_HOSTS. `variableOf` names where a role's address is read (and what a message calls it).
 */
export function readPlatformAddresses(reader: EnvironmentReader, variableOf: (role: PlatformRole) => string = addressVariable): Record<PlatformRole, string> {
  const hosts = readHosts(reader);
  return Object.fromEntries(PLATFORM_ROLES.map((role) => [role, resolveAddress(reader, variableOf(role), `${role}:${DEFAULT_SERVICE_PORT}`, hosts)])) as Record<PlatformRole, string>;
}
