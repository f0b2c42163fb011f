/**
 * The credentials files of a world of services (docs/compose.md, docs/threat-model.md): one per
 * service role, `ffa-<role>.json`, each holding the keys of that service's own links only
 * (services/orchestrator/run/service-credentials.ts), derived from a world secret drawn here and
 * kept nowhere. docker-compose.yml mounts each file into its own service only (compose
 * `secrets:`, at /run/secrets/ffa-<role>, where scripts/service.ts reads it).
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newSecret } from '../../shared/runtime/ws/credentials.ts';
import { SERVICE_ROLES, type ServiceRole } from '../../services/orchestrator/run/distributed-world.ts';
import { serviceCredentials } from '../../services/orchestrator/run/service-credentials.ts';

/** The file a role's credentials are in, in `folder`. */
export function credentialsFileName(role: ServiceRole): string {
  return `ffa-${role}.json`;
}

export class CredentialsExistError extends Error {
  readonly code = 'CREDENTIALS_EXIST';
}

/**
 * Write every role's file into `folder` (made 0700), each 0600, from a fresh world secret. Refuses
 * when any exists unless `force`: running services would no longer match. Returns the paths.
 */
export function writeWorldCredentials(folder: string, force = false): string[] {
  const files = SERVICE_ROLES.map((role) => ({ role, path: join(folder, credentialsFileName(role)) }));
  const present = files.filter((f) => existsSync(f.path));
  if (present.length > 0 && !force) throw new CredentialsExistError(`${present.map((f) => f.path).join(', ')} exist(s); not overwriting (use --force to make new credentials)`);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const worldSecret = newSecret();
  for (const { role, path } of files) {
    // Written whole, then renamed: a service never reads half a file.
    const partial = `${path}.partial`;
    writeFileSync(partial, `${JSON.stringify(serviceCredentials(worldSecret, role), null, 2)}\n`, { mode: 0o600 });
    renameSync(partial, path);
  }
  return files.map((f) => f.path);
}
