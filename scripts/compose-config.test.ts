/**
 * docker-compose.yml, the Dockerfile and their helpers, checked without an engine or a network:
 * the compose file loads in docker-compose v1.29 (`config`) and in the docker CLI's stack loader
 * (`docker stack config`, what `docker stack deploy` reads), passes the compose-spec schema and our
 * own rules, and says what scripts/service.ts's contract needs (each service mounts its own
 * credentials file only), on one engine and on a swarm; broken copies are refused; the
 * healthcheck and the credentials maker behave. The real runs (compose, and a two-node swarm) are
 * `npm run test:compose`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import YAML from 'yaml';
import { type Credentials, parseCredentials } from '../shared/runtime/ws/credentials.ts';
import {
  checkComposeText,
  composeV1Available,
  composeV1Config,
  formatProblem,
  parseCompose,
  ruleProblems,
  schemaProblems,
  stackConfig,
  stackConfigAvailable,
  CREDENTIAL_SECRETS,
  type ComposeCheckLayer,
} from './compose/schema.ts';

const root = join(import.meta.dirname, '..');
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'ffa-compose-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

type Doc = Record<string, unknown>;
type Service = Record<string, unknown> & { environment?: Record<string, unknown> };

function composeDoc(): Doc & { services: Record<string, Service>; networks: Record<string, unknown> } {
  const { doc, problems } = parseCompose(composeText);
  assert.deepEqual(problems, []);
  return doc as Doc & { services: Record<string, Service>; networks: Record<string, unknown> };
}

const ROLES = ['gic', 'spmd', 'spmc', 'hypervisor', 'guest', 'orchestrator'];

/**
 * The v1 layer needs Debian's docker-compose. `.ci/run` installs it, so CI always runs that layer;
 * on a fresh machine without it, `npm test` skips that layer (and says so) and runs the others.
 */
const V1 = composeV1Available();
const V1_SKIP = V1 ? false : 'docker-compose is not installed (Debian: apt-get install docker-compose; .ci/run installs it)';
/** The stack layer needs a docker CLI with `docker stack config` (23 or later); skipped, and said, without one. */
const STACK = stackConfigAvailable();
const STACK_SKIP = STACK ? false : 'no docker CLI with `docker stack config` (version 23 or later) on the PATH';

describe('docker-compose.yml is valid', () => {
  it('loads in docker-compose v1.29 (`config`, with placeholder tokens beside a copy)', { skip: V1_SKIP }, () => {
    const v1 = composeV1Config(composeText);
    assert.equal(v1.status, 0, v1.stderr);
    // What v1 resolved keeps what the world needs: the replicas, the start order, the secrets.
    const resolved = YAML.parse(v1.stdout) as { services: Record<string, Service> };
    assert.deepEqual(Object.keys(resolved.services).sort(), [...ROLES].sort());
    assert.deepEqual(resolved.services.guest?.deploy, { endpoint_mode: 'dnsrr', replicas: 2, restart_policy: { condition: 'none' } });
    assert.deepEqual(resolved.services.guest?.depends_on, { hypervisor: { condition: 'service_started' } });
    assert.deepEqual(resolved.services.guest?.secrets, [{ source: 'ffa-guest' }]);
  });

  it('loads in `docker stack config`, as `docker stack deploy` reads it, keeping what a swarm needs', { skip: STACK_SKIP }, () => {
    const stack = stackConfig(composeText);
    assert.equal(stack.status, 0, stack.stderr);
    const resolved = YAML.parse(stack.stdout) as { services: Record<string, Service>; networks: Record<string, Record<string, unknown> | null>; secrets: Record<string, { file: string }> };
    assert.deepEqual(Object.keys(resolved.services).sort(), [...ROLES].sort());
    for (const [name, service] of Object.entries(resolved.services)) {
      const deploy = service.deploy as { endpoint_mode?: string; restart_policy?: { condition?: string } };
      assert.equal(deploy.endpoint_mode, 'dnsrr', `${name}: endpoint_mode`);
      assert.equal(deploy.restart_policy?.condition, 'none', `${name}: restart_policy`);
      assert.deepEqual(service.secrets, [{ source: `ffa-${name}` }], `${name}: its own credentials`);
      assert.deepEqual(service.cap_drop, ['ALL'], `${name}: cap_drop`);
    }
    assert.deepEqual((resolved.services.orchestrator?.deploy as { placement?: unknown }).placement, { constraints: ['node.role == manager'] });
    // No driver: the stack's default, overlay.
    assert.equal(resolved.networks.ffa?.driver, undefined);
    for (const { secret, file } of CREDENTIAL_SECRETS) assert.ok(resolved.secrets[secret]?.file.endsWith(`/${file}`), `${secret}: from ${file}`);
  });

  it('passes the compose-spec schema (dclint\'s copy) and our own rules', () => {
    const doc = composeDoc();
    assert.deepEqual(schemaProblems(doc).map(formatProblem), []);
    assert.deepEqual(ruleProblems(doc).map(formatProblem), []);
  });

  /** Each broken copy, and the layers that must refuse it, with what they must say. */
  const broken: Array<{ what: string; edit: (doc: Doc & { services: Record<string, Service> }) => void; refusedBy: Partial<Record<ComposeCheckLayer, RegExp>> }> = [
    {
      what: "a typo'd service key",
      edit: (doc) => {
        const orchestrator = doc.services.orchestrator!;
        orchestrator.restrat = orchestrator.restart;
        delete orchestrator.restart;
      },
      refusedBy: {
        'compose-v1': /Unsupported config option for services\.orchestrator: 'restrat'/,
        schema: /services\.orchestrator: unknown key 'restrat'/,
      },
    },
    {
      what: 'an undefined network',
      edit: (doc) => {
        doc.services.guest!.networks = ['ffa', 'backend'];
      },
      refusedBy: { rules: /services\.guest\.networks: network 'backend' is not declared under the top-level 'networks:'/ },
    },
    {
      what: "a top-level 'name:'",
      edit: (doc) => {
        doc.name = 'ffa-world';
      },
      refusedBy: { 'compose-v1': /'name' does not match any of the regexes/, rules: /no top-level 'name:'/ },
    },
    {
      what: 'service_healthy on a service without a healthcheck',
      edit: (doc) => {
        doc.services.guest!.depends_on = { hypervisor: { condition: 'service_healthy' } };
        delete doc.services.hypervisor!.healthcheck;
      },
      refusedBy: { rules: /services\.guest\.depends_on\.hypervisor: waits for 'hypervisor' to be healthy, but 'hypervisor' declares no healthcheck/ },
    },
    {
      what: 'depends_on with conditions (a mapping), which `docker stack deploy` refuses',
      edit: (doc) => {
        doc.services.spmc!.depends_on = { gic: { condition: 'service_healthy' } };
      },
      refusedBy: { stack: /services\.spmc\.depends_on must be a list/, rules: /services\.spmc\.depends_on: a list of service names, not a mapping/ },
    },
    {
      what: 'a secret that is not declared',
      edit: (doc) => {
        doc.services.guest!.secrets = ['ffa-root'];
      },
      // Neither docker-compose v1 nor `docker stack config` notices; a deploy would fail.
      refusedBy: { rules: /services\.guest\.secrets: secret 'ffa-root' is not declared/ },
    },
    {
      what: 'a bad healthcheck duration',
      edit: (doc) => {
        (doc.services.gic!.healthcheck as Record<string, unknown>).interval = '1x';
      },
      refusedBy: { 'compose-v1': /crashed/, rules: /services\.gic\.healthcheck\.interval: '1x' is not a duration/ },
    },
  ];

  for (const { what, edit, refusedBy } of broken) {
    it(`refuses ${what}`, () => {
      const doc = composeDoc();
      edit(doc);
      // YAML 1.1 as v1 reads it: "no" stays quoted rather than turning into false.
      const problems = checkComposeText(YAML.stringify(doc, { version: '1.1' }), { v1: V1, stack: STACK });
      const said = problems.map(formatProblem).join('\n');
      assert.ok(problems.length > 0, `nothing refused ${what}`);
      for (const [layer, pattern] of Object.entries(refusedBy)) {
        if ((layer === 'compose-v1' && !V1) || (layer === 'stack' && !STACK)) continue; // V1_SKIP, STACK_SKIP
        assert.ok(
          problems.some((p) => p.layer === layer && pattern.test(p.message === '' ? p.where : `${p.where}: ${p.message}`)),
          `${layer} should refuse ${what} (${pattern}); the checks said:\n${said}`,
        );
      }
    });
  }
});

describe("docker-compose.yml says what scripts/service.ts's contract needs", () => {
  const doc = composeDoc();
  const services = doc.services;

  it('has one service per role, each with its FFA_ROLE, on the declared network ffa', () => {
    assert.deepEqual(Object.keys(services).sort(), [...ROLES].sort());
    assert.ok('ffa' in doc.networks, "top-level networks declares 'ffa'");
    for (const [name, service] of Object.entries(services)) {
      assert.equal(service.environment?.FFA_ROLE, name, `${name}: FFA_ROLE`);
      assert.deepEqual(service.networks, ['ffa'], `${name}: networks`);
      assert.equal(service.container_name, undefined, `${name}: no container_name (the project name keeps runs apart)`);
    }
  });

  it('builds one image, ffa-world:local, once (only gic has build:), and runs it as uid ${FFA_UID:-1000}', () => {
    for (const [name, service] of Object.entries(services)) {
      assert.equal(service.image, 'ffa-world:local', `${name}: image`);
      assert.equal(service.user, '${FFA_UID:-1000}', `${name}: user`);
    }
    assert.deepEqual(Object.keys(services).filter((name) => 'build' in services[name]!), ['gic']);
  });

  it('lets any number of guests run: no container_name, no ports, 2 replicas by default', () => {
    const guest = services.guest!;
    assert.equal(guest.container_name, undefined);
    assert.equal(guest.ports, undefined);
    assert.equal((guest.deploy as { replicas?: number }).replicas, 2);
  });

  it('gives each service its own credentials file only (a secret each), and keeps keys out of the compose file, the environment and the image', () => {
    const declared = (doc as { secrets?: Record<string, { file?: string }> }).secrets ?? {};
    assert.deepEqual(
      Object.fromEntries(Object.entries(declared).map(([name, secret]) => [name, secret.file])),
      Object.fromEntries(CREDENTIAL_SECRETS.map(({ secret, file }) => [secret, file])),
    );
    for (const [name, service] of Object.entries(services)) {
      assert.deepEqual(service.secrets, [`ffa-${name}`], `${name}: its own credentials, and no other service's`);
      assert.equal(service.env_file, undefined, `${name}: no env_file (keys are never in the environment)`);
      assert.equal(service.environment?.FFA_CREDENTIALS, undefined, `${name}: reads /run/secrets/ffa-${name}, its default`);
      assert.deepEqual(service.cap_drop, ['ALL'], `${name}: no capabilities (no NET_RAW to forge packets with)`);
    }
    const guestVolumes = (services.guest!['volumes'] as string[]).map(String);
    assert.ok(guestVolumes.every((v) => !/:\/out(:|$)/.test(v)), `a guest mounts no report folder, where it could rewrite the platform's histories: ${guestVolumes.join(', ')}`);
    assert.ok(guestVolumes.every((v) => v.endsWith(':ro')), 'what a guest mounts, it reads only');
    assert.doesNotMatch(composeText, /FFA_TOKEN_|"key":/);
    assert.doesNotMatch(dockerfile.replace(/^#.*$/gm, ''), /FFA_TOKEN_|TOKEN|credentials|secrets/i, 'no key, nor a file of keys, in the image');
    assert.doesNotMatch(dockerfile, /^\s*COPY\s+.*(compose|\.env)/m, 'no credentials copied into the image');
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['compose', '.git', 'out', 'bench-results']) assert.ok(ignored.includes(entry), `.dockerignore: ${entry}`);
    assert.ok(!ignored.some((l) => /^\/?node_modules(\/|\/\*\*)?$/.test(l)), '.dockerignore keeps node_modules: the Dockerfile copies it');
    assert.match(readFileSync(join(root, '.gitignore'), 'utf8'), /^compose\/credentials\/$/m);
  });

  it('starts in the contract\'s order, and waits for no one\'s health (the services wait for their peers themselves, as on a swarm)', () => {
    const dependsOn = (name: string) => {
      const spec = services[name]!.depends_on ?? [];
      assert.ok(Array.isArray(spec), `${name}: depends_on is a list (docker stack deploy refuses conditions)`);
      return [...(spec as string[])].sort();
    };
    assert.deepEqual(dependsOn('gic'), []);
    assert.deepEqual(dependsOn('spmc'), ['gic']);
    assert.deepEqual(dependsOn('spmd'), ['spmc']);
    assert.deepEqual(dependsOn('hypervisor'), ['gic', 'spmd']);
    assert.deepEqual(dependsOn('guest'), ['hypervisor']);
    assert.deepEqual(dependsOn('orchestrator'), ['gic', 'guest', 'hypervisor', 'spmc', 'spmd']);
  });

  it('on a swarm: names resolve to the tasks (dnsrr), nothing restarts, the orchestrator runs on a manager, the network is the stack\'s overlay', () => {
    for (const [name, service] of Object.entries(services)) {
      const deploy = service.deploy as { endpoint_mode?: string; restart_policy?: { condition?: string } };
      assert.equal(deploy.endpoint_mode, 'dnsrr', `${name}: endpoint_mode`);
      assert.deepEqual(deploy.restart_policy, { condition: 'none' }, `${name}: restart_policy`);
    }
    assert.deepEqual((services.orchestrator!.deploy as { placement?: unknown }).placement, { constraints: ['node.role == manager'] });
    // No driver: a bridge under compose, an overlay under `docker stack deploy`.
    assert.deepEqual(doc.networks.ffa, {});
  });

  it('checks health with a grep of the status file in exec form (no node start per probe), every second, a bounded number of times', () => {
    for (const [name, service] of Object.entries(services)) {
      const check = service.healthcheck as Record<string, unknown>;
      assert.deepEqual(check.test, ['CMD', 'grep', '-q', '"state":"started"', '/tmp/ffa-world-status.json'], `${name}: healthcheck test`);
      assert.equal(check.interval, '1s', `${name}: interval`);
      assert.ok(typeof check.retries === 'number' && check.retries > 0 && check.retries <= 60, `${name}: retries`);
      assert.equal(typeof check.start_period, 'string', `${name}: start_period`);
    }
  });

  it('gives the orchestrator its report folder, a scenario the caller can choose, and no restart', () => {
    const orchestrator = services.orchestrator!;
    assert.equal(orchestrator.restart, 'no');
    assert.ok((orchestrator.volumes as string[]).includes('${FFA_OUT_DIR:-./out/compose}:/out'));
    assert.equal(orchestrator.environment?.FFA_OUT, '/out');
    // Every service reads the same scenario (the world's platform config comes from it).
    for (const [name, service] of Object.entries(services)) {
      assert.equal(service.environment?.FFA_SCENARIO, '${FFA_SCENARIO:-scenarios/default-world.yaml}', `${name}: FFA_SCENARIO`);
      assert.ok((service.volumes as string[]).includes('./scenarios:/app/scenarios:ro'), `${name}: scenarios mounted read-only`);
    }
  });

  it('Dockerfile: node:20-slim, non-root, the service entry point, the healthcheck, host-built node_modules', () => {
    assert.match(dockerfile, /^FROM node:20-slim$/m);
    assert.match(dockerfile, /^WORKDIR \/app$/m);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^ENV NODE_ENV=production$/m);
    assert.match(dockerfile, /^HEALTHCHECK .*CMD \["node", "scripts\/healthcheck\.mjs"\]$/m);
    assert.match(dockerfile, /^RUN node --import tsx scripts\/service-bundle\.ts --out node_modules\/\.cache\/ffa-world\/service\.mjs$/m);
    assert.match(dockerfile, /^CMD \["node", "--enable-source-maps", "node_modules\/\.cache\/ffa-world\/service\.mjs"\]$/m);
    for (const folder of ['node_modules', 'shared', 'services', 'scripts', 'scenarios']) {
      assert.match(dockerfile, new RegExp(`^COPY ${folder} \\./${folder}$`, 'm'), `COPY ${folder}`);
    }
    assert.match(dockerfile, /^#\s+RUN npm ci --omit=dev$/m, 'the registry alternative, commented');
  });
});

describe('scripts/healthcheck.mjs', () => {
  const statusFile = join(work, 'status.json');
  const check = () => {
    const run = spawnSync(process.execPath, [join(root, 'scripts', 'healthcheck.mjs')], {
      env: { PATH: process.env.PATH, FFA_STATUS_FILE: statusFile },
      encoding: 'utf8',
      timeout: 10_000,
    });
    return { status: run.status, said: run.stdout.trim() };
  };
  const writeStatus = (status: unknown) => writeFileSync(statusFile, typeof status === 'string' ? status : JSON.stringify(status));

  it('is unhealthy without a status file', () => {
    rmSync(statusFile, { force: true });
    assert.deepEqual(check(), { status: 1, said: `unhealthy: no status file ${statusFile} (ENOENT): the service has not started listening yet` });
  });

  it('is healthy once a running service says "started"', () => {
    writeStatus({ state: 'started', role: 'guest', name: 'vm1', pid: process.pid });
    assert.deepEqual(check(), { status: 0, said: `healthy: guest vm1 started (pid ${process.pid})` });
  });

  it('is unhealthy while the service is only listening, or stopped', () => {
    writeStatus({ state: 'listening', role: 'gic', pid: process.pid });
    assert.deepEqual(check(), { status: 1, said: 'unhealthy: gic is "listening", not "started"' });
    writeStatus({ state: 'stopped', role: 'gic', pid: process.pid });
    assert.equal(check().status, 1);
  });

  it('is unhealthy when the process that wrote "started" is gone', () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeStatus({ state: 'started', role: 'spmc', pid: gone });
    assert.deepEqual(check(), { status: 1, said: `unhealthy: spmc: process ${gone} is not running` });
  });

  it('is unhealthy when the file is older than the process (left by an earlier run of the container)', () => {
    writeStatus({ state: 'started', role: 'spmd', pid: process.pid });
    utimesSync(statusFile, new Date(0), new Date(0));
    assert.match(check().said, /^unhealthy: spmd: status file .* is older than process \d+: left by an earlier run$/);
  });

  it('is unhealthy, saying why, when the file is not a status', () => {
    writeStatus('{"state":');
    assert.deepEqual(check(), { status: 1, said: `unhealthy: status file ${statusFile} is not JSON` });
    writeStatus({ state: 'started' });
    assert.deepEqual(check(), { status: 1, said: `unhealthy: status file ${statusFile} has no valid pid` });
  });
});

describe('scripts/compose-credentials.ts', () => {
  const script = join(root, 'scripts', 'compose-credentials.ts');
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 60_000 });
  const folder = join(work, 'credentials');
  const read = (role: string): Credentials => JSON.parse(readFileSync(join(folder, `ffa-${role}.json`), 'utf8')) as Credentials;

  it('writes one file per service, readable by its owner only, and will not overwrite without --force', () => {
    const first = run(['--out', folder]);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    for (const { role } of CREDENTIAL_SECRETS) {
      assert.equal(statSync(join(folder, `ffa-${role}.json`)).mode & 0o777, 0o600, role);
      assert.ok(parseCredentials(read(role)).ok, `${role}: a credentials file`);
    }
    const made = read('gic');
    const again = run(['--out', folder]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exist\(s\); not overwriting \(use --force/);
    assert.deepEqual(read('gic'), made);
    const forced = run(['--out', folder, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.notDeepEqual(read('gic'), made);
  });

  it('hands each service the keys of its own links only: a guest holds the enrollment credential and nothing else', () => {
    const guest = read('guest');
    assert.deepEqual(Object.keys(guest.accept), []);
    assert.deepEqual(Object.keys(guest.dial), []);
    assert.equal(guest.guests, undefined, 'no guest issuer key: a guest cannot derive another guest\'s key');
    assert.deepEqual(guest.enrolling?.accept, { orchestrator: 'orchestrator' });
    const hypervisor = read('hypervisor');
    assert.equal(hypervisor.guests?.enrollment, guest.enrolling?.enrollment, 'the hypervisor checks enrollments');
    for (const role of ['gic', 'spmc', 'spmd', 'orchestrator']) assert.equal(read(role).guests?.enrollment, undefined, `${role}: no enrollment credential`);
    // A link key is held by its two ends only.
    const holders = new Map<string, string[]>();
    for (const { role } of CREDENTIAL_SECRETS) {
      const own = read(role);
      for (const key of [...Object.values(own.accept).map((a) => a.key), ...Object.values(own.dial)]) holders.set(key, [...(holders.get(key) ?? []), role]);
    }
    for (const [, roles] of holders) assert.equal(roles.length, 2, `a link key held by ${roles.join(', ')}`);
    assert.deepEqual(Object.keys(read('orchestrator').dial).sort(), ['gic', 'hypervisor', 'spmc', 'spmd']);
  });

  it('refuses an unknown argument', () => {
    const bad = run(['--frce']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown argument --frce/);
  });
});

/** Maps merged key by key, the second file winning, as `docker stack deploy -c a -c b` merges services. */
function mergedOver(base: unknown, over: unknown): unknown {
  const isMap = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(base) || !isMap(over)) return over;
  const merged: Doc = { ...base };
  for (const [key, value] of Object.entries(over)) merged[key] = key in base ? mergedOver(base[key], value) : value;
  return merged;
}

describe('deploy/swarm/load-attach.yml (a stack for ffa-world load --attach)', () => {
  const override = YAML.parse(readFileSync(join(root, 'deploy', 'swarm', 'load-attach.yml'), 'utf8')) as Doc;
  const stack = mergedOver(composeDoc(), override) as Doc & { services: Record<string, Service & { deploy?: Record<string, unknown> }> };

  it('merged over docker-compose.yml, passes the compose-spec schema and our own rules', () => {
    assert.deepEqual(schemaProblems(stack).map(formatProblem), []);
    assert.deepEqual(ruleProblems(stack).map(formatProblem), []);
  });

  it('runs no orchestrator (the load is one), and each guest labels the node it runs on, with its settings given', () => {
    assert.equal(stack.services['orchestrator']?.deploy?.['replicas'], 0);
    const guest = stack.services['guest']?.environment ?? {};
    assert.equal(guest['FFA_HOST_LABEL'], '{{.Node.Hostname}}');
    assert.equal(guest['FFA_ROLE'], 'guest', 'the compose file\'s own environment is kept');
    assert.ok(guest['FFA_GUEST_VCPUS'] && guest['FFA_GUEST_DRIVER'], 'no value left to the caller\'s environment');
  });
});
