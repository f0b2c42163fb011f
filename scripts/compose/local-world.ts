/**
 * docker-compose.yml's services as OS processes on this machine (`npm run compose:local`): each
 * container of the file (guest × --scale) becomes a process of scripts/service.ts with the
 * environment compose would give it (environment, env_file, ${VAR:-default} interpolation), and
 * each service name resolves to a loopback address of its own (127.77.S.R: every process listens
 * on the file's port at its own address, as containers do). Services start in depends_on order,
 * each once those it depends on report themselves started (the status file the healthcheck
 * reads), or all at once in the reverse order (`startOrder: 'all-at-once'`), as
 * `docker stack deploy` starts them, ignoring depends_on. A service's one secret (its credentials file, `secrets:`) is handed to it as
 * FFA_CREDENTIALS, the host file's path; when any of the world's credentials files is missing, a
 * fresh set is made for this run in a private temporary folder, removed when the world stops.
 * What compose does and this does not: images, volumes (the report and every process's own
 * history go to `out`), networks other than loopback, restart policies, and the isolation of
 * containers (every process here runs as the same user, so this keeps each service's credentials
 * apart by path only).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseEnv as parseEnvFile } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../../shared/runtime/component-modules.ts';
import { makeFolder } from '../../shared/runtime/files.ts';
import { buildServiceBundle } from '../service-bundle.ts';
import { writeWorldCredentials } from './credentials.ts';

const SERVICE_ENTRY = join(PROJECT_ROOT, 'scripts', 'service.ts');
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 3_000;
const POLL_MS = 50;

export interface LocalComposeOptions {
  file: string;
  /** Replicas per service (--scale guest=4); default: deploy.replicas, else 1. */
  scale: Record<string, number>;
  /** Where the orchestrator's report and every process's log go. */
  out: string;
  /** Environment for ${VAR} interpolation and overrides (FFA_SCENARIO, FFA_SEED…). */
  env: NodeJS.ProcessEnv;
  /** Loopback network 127.77.0.0/16 by default; a test may pick another second octet. */
  network?: number;
  /** Environment set on every process of a service, by service name (a test's FFA_TEST_CLOCK_SKEW_NS). */
  serviceEnv?: Record<string, Record<string, string>>;
  /** depends_on (default): each service once those it depends on started; all-at-once: as a swarm does. */
  startOrder?: 'depends_on' | 'all-at-once';
}

interface ServiceDefinition {
  name: string;
  environment: Record<string, string>;
  envFiles: string[];
  /** The secrets it mounts, by name (the top-level `secrets:` says which file each is). */
  secrets: string[];
  dependsOn: string[];
  replicas: number;
}

export interface LocalContainer {
  service: string;
  replica: number;
  address: string;
  process: ChildProcess;
  statusFile: string;
  exited: Promise<number>;
  /** Launched by launchExtra: not one of the world's, nothing waits for it. */
  extra: boolean;
}

/**
 * ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message} and $$, as compose interpolates
 * (compose-spec interpolation.md). Not dotenv-expand: it reads the same text otherwise, as
 * measured on this file's test line: "${EMPTY-f}" gives f (compose: empty, the variable is set),
 * "$$x" gives "$" (compose: "$x"), and "${UNSET:?message}" gives "" where compose stops.
 * The env files themselves are parsed by Node's util.parseEnv.
 */
export function interpolate(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-|:?\?)([^}]*))?\}/g, (whole, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (whole === '$$') return '$';
    const value = env[name as string];
    const unset = value === undefined || (op?.startsWith(':') === true && value === '');
    if (op?.endsWith('?') && unset) throw new Error(`${name} is required: ${arg ?? ''}`);
    if (op?.endsWith('-') && unset) return arg ?? '';
    return value ?? '';
  });
}

/** A key without a value takes the caller's, and is left unset when the caller has none (as compose does). */
function environmentOf(raw: unknown, env: NodeJS.ProcessEnv): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  const pairs: [string, string | undefined][] = Array.isArray(raw)
    ? raw.map((item: string) => {
        const at = item.indexOf('=');
        return at < 0 ? [item, env[item]] : [item.slice(0, at), interpolate(item.slice(at + 1), env)];
      })
    : Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k, v === null ? env[k] : interpolate(String(v), env)]);
  return Object.fromEntries(pairs.filter((pair): pair is [string, string] => pair[1] !== undefined));
}

function listOf(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') return [raw];
  // env_file entries may be {path}, secrets {source}.
  if (Array.isArray(raw)) return raw.map((item) => (typeof item === 'string' ? item : String((item as { path?: string; source?: string }).path ?? (item as { source?: string }).source)));
  return Object.keys(raw as object);
}

interface ComposeDocument {
  services?: Record<string, Record<string, unknown>>;
  secrets?: Record<string, { file?: string }>;
}

function readComposeDocument(file: string): ComposeDocument {
  return parseYaml(readFileSync(file, 'utf8'), { merge: true }) as ComposeDocument;
}

/** Each top-level secret's file, resolved beside the compose file. */
export function readComposeSecrets(file: string): Record<string, string> {
  const secrets = readComposeDocument(file)?.secrets ?? {};
  return Object.fromEntries(Object.entries(secrets).flatMap(([name, secret]) => (typeof secret?.file === 'string' ? [[name, resolve(dirname(file), secret.file)]] : [])));
}

export function readComposeServices(file: string, env: NodeJS.ProcessEnv): ServiceDefinition[] {
  const document = readComposeDocument(file);
  if (!document?.services) throw new Error(`${file}: no services`);
  return Object.entries(document.services).map(([name, service]) => {
    const deploy = service['deploy'] as { replicas?: number } | undefined;
    return {
      name,
      environment: environmentOf(service['environment'], env),
      envFiles: listOf(service['env_file']),
      secrets: listOf(service['secrets']),
      dependsOn: listOf(service['depends_on']),
      replicas: deploy?.replicas ?? 1,
    };
  });
}

function envFileValues(path: string): Record<string, string> {
  if (!existsSync(path)) throw new Error(`env_file ${path} does not exist`);
  return parseEnvFile(readFileSync(path, 'utf8')) as Record<string, string>;
}

/** Plain-text lines of a service's stderr (its refusals and failures; its logs are JSON lines). */
function plainLines(chunk: Buffer): string {
  return chunk
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('{'))
    .map((line) => `${line}\n`)
    .join('');
}

/** Services in an order where each comes after what it depends on. */
function startOrder(services: ServiceDefinition[]): ServiceDefinition[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const ordered: ServiceDefinition[] = [];
  const visit = (service: ServiceDefinition, path: string[]): void => {
    if (ordered.includes(service)) return;
    if (path.includes(service.name)) throw new Error(`depends_on cycle: ${[...path, service.name].join(' → ')}`);
    for (const dependency of service.dependsOn) {
      const other = byName.get(dependency);
      if (!other) throw new Error(`${service.name} depends on ${dependency}, which is not a service`);
      visit(other, [...path, service.name]);
    }
    ordered.push(service);
  };
  for (const service of services) visit(service, []);
  return ordered;
}

function readState(statusFile: string): string | null {
  try {
    return (JSON.parse(readFileSync(statusFile, 'utf8')) as { state?: string }).state ?? null;
  } catch {
    return null;
  }
}

/** A world of processes, started and stopped as one. */
export class LocalWorld {
  readonly containers: LocalContainer[] = [];
  private readonly hosts: Record<string, string> = {};
  /** How a service process starts: the service bundle (service-bundle.ts), or tsx when it could not be built. */
  private entry: string[] = ['--import', 'tsx', SERVICE_ENTRY];
  /** Each env file read once. */
  private readonly envFiles = new Map<string, Record<string, string>>();
  /** Secret name → the file a process gets (the compose file's, or this run's fresh one); made at start. */
  private secretFiles: Record<string, string> = {};
  private freshCredentials: string | null = null;

  constructor(private readonly options: LocalComposeOptions) {
    // However this process ends, its services do not outlive it.
    process.once('exit', () => {
      for (const c of this.containers) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    });
  }

  /** Start every service but `except` (the orchestrator, usually), each once its dependencies started. */
  async startServices(except: readonly string[] = []): Promise<void> {
    await this.prepareEntry();
    this.prepareSecrets();
    const services = startOrder(readComposeServices(this.options.file, this.options.env));
    this.planAddresses(services);
    const allAtOnce = this.options.startOrder === 'all-at-once';
    for (const service of allAtOnce ? services.reverse() : services) {
      if (except.includes(service.name)) continue;
      if (!allAtOnce) for (const dependency of service.dependsOn) if (!except.includes(dependency)) await this.waitStarted(dependency);
      for (let replica = 1; replica <= this.replicasOf(service); replica++) this.launch(service, replica);
    }
  }

  /** Start one service's containers (the orchestrator, once the world is up; all-at-once: at once); resolves with the first's exit code. */
  async run(serviceName: string): Promise<number> {
    const service = this.service(serviceName);
    if (this.options.startOrder !== 'all-at-once') for (const dependency of service.dependsOn) await this.waitStarted(dependency);
    return this.launch(service, 1).exited;
  }

  /** One more container of a service, with some of its environment changed (a test's rogue guest). */
  launchExtra(serviceName: string, replica: number, overrides: Record<string, string>): LocalContainer {
    const service = this.service(serviceName);
    const container = this.launch({ ...service, environment: { ...service.environment, ...overrides } }, replica, overrides);
    container.extra = true;
    return container;
  }

  /** The ws:// URL of a service's first container (its address and the port it listens on). */
  urlOf(service: string, replica = 1): string {
    const port = this.service(service).environment['FFA_PORT'] ?? '7100';
    return `ws://${this.addressOf(service, replica)}:${port}`;
  }

  /**
   * What an orchestrator started outside this world needs to attach to it (`ffa-world load
   * --attach`): each platform service's address as the services read it (FFA_GIC …
   * FFA_HYPERVISOR), and the orchestrator's credentials file (FFA_CREDENTIALS).
   */
  attachEnvironment(): Record<string, string> {
    const address = (service: string): string => this.urlOf(service).replace(/^ws:\/\//, '');
    const platform = Object.fromEntries(['gic', 'spmd', 'spmc', 'hypervisor'].map((service) => [`FFA_${service.toUpperCase()}`, address(service)]));
    return { ...platform, FFA_CREDENTIALS: this.credentialsOf('orchestrator') };
  }

  /** Resolves once a container's log matches `pattern` (bounded). */
  async waitForLog(service: string, replica: number, pattern: RegExp, timeoutMs: number): Promise<void> {
    const file = join(this.options.out, 'logs', `${service}-${replica}.log`);
    const deadline = Date.now() + timeoutMs;
    while (!(existsSync(file) && pattern.test(readFileSync(file, 'utf8')))) {
      if (Date.now() > deadline) throw new Error(`${service}-${replica}'s log did not show ${pattern} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Stop everything: SIGTERM, then SIGKILL past the grace period; this run's fresh credentials go. */
  async stop(): Promise<void> {
    const running = this.containers.filter((c) => c.process.exitCode === null && c.process.signalCode === null);
    for (const c of running) c.process.kill('SIGTERM');
    const grace = setTimeout(() => running.forEach((c) => c.process.kill('SIGKILL')), STOP_GRACE_MS);
    await Promise.all(running.map((c) => c.exited));
    clearTimeout(grace);
    if (this.freshCredentials !== null) rmSync(this.freshCredentials, { recursive: true, force: true });
  }

  /** The credentials file a service's processes get (a test plays a rogue holder of it). */
  credentialsOf(service: string): string {
    const secret = this.service(service).secrets[0];
    const file = secret === undefined ? undefined : this.secretFiles[secret];
    if (file === undefined) throw new Error(`${service} mounts no credentials (or the world has not started)`);
    return file;
  }

  /** The compose file's credentials files, or (any one missing) a fresh set for this run. */
  private prepareSecrets(): void {
    const declared = readComposeSecrets(this.options.file);
    if (Object.values(declared).every((file) => existsSync(file))) {
      this.secretFiles = declared;
      return;
    }
    this.freshCredentials = mkdtempSync(join(tmpdir(), 'ffa-credentials-'));
    writeWorldCredentials(this.freshCredentials);
    this.secretFiles = Object.fromEntries(Object.entries(declared).map(([name, file]) => [name, join(this.freshCredentials as string, basename(file))]));
  }

  private service(name: string): ServiceDefinition {
    const service = readComposeServices(this.options.file, this.options.env).find((s) => s.name === name);
    if (!service) throw new Error(`${this.options.file} has no service ${name}`);
    return service;
  }

  private async prepareEntry(): Promise<void> {
    try {
      this.entry = ['--enable-source-maps', (await buildServiceBundle()).file];
    } catch (error) {
      process.stderr.write(`compose:local: the service bundle could not be built (${(error as Error).message}); services load through tsx\n`);
    }
  }

  private replicasOf(service: ServiceDefinition): number {
    return this.options.scale[service.name] ?? service.replicas;
  }

  private planAddresses(services: ServiceDefinition[]): void {
    const second = this.options.network ?? 77;
    services.forEach((service, index) => {
      this.hosts[service.name] = `127.${second}.${index + 1}.1`;
    });
  }

  private addressOf(service: string, replica: number): string {
    const first = this.hosts[service] as string;
    return first.replace(/\.1$/, `.${replica}`);
  }

  private environment(service: ServiceDefinition, replica: number, statusFile: string): NodeJS.ProcessEnv {
    const fromFiles = Object.assign({}, ...service.envFiles.map((f) => this.envFile(resolve(dirname(this.options.file), f)))) as Record<string, string>;
    const address = this.addressOf(service.name, replica);
    const local: Record<string, string> = {
      FFA_HOSTS: JSON.stringify(this.hosts),
      FFA_LISTEN_HOST: address,
      FFA_ADVERTISE_HOST: address,
      FFA_STATUS_FILE: statusFile,
      // Should this process be killed outright (its 'exit' handler then never runs), its services stop by themselves.
      FFA_EXIT_WITH_PARENT: '1',
      ...(service.secrets[0] !== undefined && this.secretFiles[service.secrets[0]] !== undefined ? { FFA_CREDENTIALS: this.secretFiles[service.secrets[0]] as string } : {}),
      ...(service.name === 'guest' ? { FFA_NAME: `guest-${replica}` } : {}),
      ...(service.environment['FFA_ROLE'] === 'orchestrator' ? { FFA_OUT: this.options.out } : {}),
      // Each process writes its own history there as it runs; the orchestrator merges them.
      FFA_HISTORY_DIR: join(this.options.out, 'histories'),
    };
    const overrides = Object.fromEntries(Object.entries(this.options.env).filter(([k]) => ['FFA_SCENARIO', 'FFA_SEED', 'FFA_LOG_LEVEL', 'FFA_LIVENESS_BOUND_MS', 'FFA_GUEST_ANSWER_MS'].includes(k))) as Record<string, string>;
    const own = this.options.serviceEnv?.[service.name] ?? {};
    return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...fromFiles, ...service.environment, ...overrides, ...own, ...local };
  }

  private envFile(path: string): Record<string, string> {
    const values = this.envFiles.get(path) ?? envFileValues(path);
    this.envFiles.set(path, values);
    return values;
  }

  private launch(service: ServiceDefinition, replica: number, overrides: Record<string, string> = {}): LocalContainer {
    const logs = join(this.options.out, 'logs');
    makeFolder(logs);
    const statusFile = join(logs, `${service.name}-${replica}.status.json`);
    // FFA_CPU_PROF_DIR=dir: each process writes a CPU profile there when it exits (as the ws runtime's workers do).
    const profile = this.options.env['FFA_CPU_PROF_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${this.options.env['FFA_CPU_PROF_DIR']}`, `--cpu-prof-name=${service.name}-${replica}.cpuprofile`] : [];
    const child = spawn(process.execPath, [...profile, ...this.entry], { cwd: PROJECT_ROOT, env: { ...this.environment(service, replica, statusFile), ...overrides }, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(logs, `${service.name}-${replica}.log`));
    child.stderr?.pipe(log);
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(plainLines(chunk)));
    child.stdout?.on('data', (chunk: Buffer) => (service.name === 'orchestrator' ? process.stdout.write(chunk) : log.write(chunk)));
    const exited = new Promise<number>((done) => child.on('exit', (code, signal) => done(code ?? (signal ? 128 : 1))));
    const container: LocalContainer = { service: service.name, replica, address: this.addressOf(service.name, replica), process: child, statusFile, exited, extra: false };
    this.containers.push(container);
    return container;
  }

  /** Every container of a service reports itself started (bounded); one that exits first fails the start. */
  async waitStarted(service: string): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const container of this.containers.filter((c) => c.service === service && !c.extra)) {
      while (readState(container.statusFile) !== 'started') {
        if (container.process.exitCode !== null) throw new Error(`${service}-${container.replica} exited with ${container.process.exitCode} before it started (log: ${join(this.options.out, 'logs')})`);
        if (Date.now() > deadline) throw new Error(`${service}-${container.replica} did not start within ${START_TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }
  }
}
