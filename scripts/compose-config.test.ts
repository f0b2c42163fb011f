/**
 * docker-compose.yml, the Dockerfile and their helpers, checked without an engine or a network:
 * the compose file loads in docker-compose v1.29 (`config`) and in the docker CLI's stack loader
 * (`docker stack config`, what `docker stack deploy` reads), passes the compose-spec schema and our
 * own rules, and says what scripts/service.ts's contract needs, on one engine and on a swarm;
 * broken copies are refused; the healthcheck and the token maker behave. The real runs (compose,
 * and a two-node swarm) are `npm run test:compose`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import YAML from 'yaml';
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
  TOKEN_ROLES,
  type ComposeCheckLayer,
} from './compose/schema.ts';
import { dialledBy, type ServiceRole } from '../services/orchestrator/run/distributed-world.ts';

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
    // What v1 resolved keeps what the world needs: the replicas and the health-gated start order.
    const resolved = YAML.parse(v1.stdout) as { services: Record<string, Service> };
    assert.deepEqual(Object.keys(resolved.services).sort(), [...ROLES].sort());
    assert.deepEqual(resolved.services.guest?.deploy, { endpoint_mode: 'dnsrr', replicas: 2, restart_policy: { condition: 'none' } });
    assert.deepEqual(resolved.services.guest?.depends_on, { hypervisor: { condition: 'service_started' } });
    assert.deepEqual(resolved.services.guest?.secrets, [{ source: 'ffa-token-guest' }, { source: 'ffa-token-orchestrator' }]);
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
      assert.equal(service.env_file, undefined, `${name}: no env_file (its values would show in \`docker service inspect\`)`);
    }
    assert.deepEqual((resolved.services.orchestrator?.deploy as { placement?: unknown }).placement, { constraints: ['node.role == manager'] });
    // No driver: the stack's default, overlay.
    assert.equal(resolved.networks.ffa?.driver, undefined);
    assert.deepEqual(Object.keys(resolved.secrets).sort(), TOKEN_ROLES.map((role) => `ffa-token-${role}`).sort());
    for (const role of TOKEN_ROLES) assert.match(resolved.secrets[`ffa-token-${role}`]?.file ?? '', new RegExp(`/compose/tokens/${role}$`));
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
        doc.services.guest!.secrets = ['ffa-token-guest', 'ffa-token-root'];
      },
      // Neither docker-compose v1 nor `docker stack config` notices; a deploy would fail.
      refusedBy: { rules: /services\.guest\.secrets: secret 'ffa-token-root' is not declared/ },
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

  it('keeps the tokens in docker secrets: each service mounts its own and its dialers\', read through FFA_TOKEN_<ROLE>_FILE', () => {
    assert.deepEqual(
      doc.secrets,
      Object.fromEntries(TOKEN_ROLES.map((role) => [`ffa-token-${role}`, { file: `compose/tokens/${role}` }])),
      'one secret per role, each from its file',
    );
    for (const [name, service] of Object.entries(services)) {
      const role = name as ServiceRole;
      const needed = [role, ...dialledBy(role)].map((r) => `ffa-token-${r}`);
      assert.deepEqual([...(service.secrets as string[])].sort(), needed.sort(), `${name}: the secrets its role needs, no other`);
      for (const r of TOKEN_ROLES) assert.equal(service.environment?.[`FFA_TOKEN_${r.toUpperCase()}_FILE`], `/run/secrets/ffa-token-${r}`, `${name}: FFA_TOKEN_${r.toUpperCase()}_FILE`);
      assert.equal(service.env_file, undefined, `${name}: no env_file`);
    }
    assert.doesNotMatch(composeText, /FFA_TOKEN_[A-Z]+(?!_FILE):/, 'no token value in the compose file');
  });

  it('keeps the tokens out of the image and out of git', () => {
    assert.doesNotMatch(dockerfile, /FFA_TOKEN_|TOKEN/);
    assert.doesNotMatch(dockerfile, /^\s*COPY\s+.*(compose|\.env)/m, 'no token copied into the image');
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['compose', '.git', 'out', 'bench-results']) assert.ok(ignored.includes(entry), `.dockerignore: ${entry}`);
    assert.ok(!ignored.some((l) => /^\/?node_modules(\/|\/\*\*)?$/.test(l)), '.dockerignore keeps node_modules: the Dockerfile copies it');
    assert.match(readFileSync(join(root, '.gitignore'), 'utf8'), /^compose\/tokens\/$/m);
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

describe('scripts/compose-tokens.sh', () => {
  const script = join(root, 'scripts', 'compose-tokens.sh');
  /** The folder's tokens, by role, in TOKEN_ROLES's order. */
  const tokens = (dir: string) => TOKEN_ROLES.map((role) => readFileSync(join(dir, role), 'utf8'));
  const run = (args: string[], env: NodeJS.ProcessEnv = { PATH: process.env.PATH }) =>
    spawnSync('/bin/sh', [script, ...args], { env, encoding: 'utf8', timeout: 10_000 });

  it('writes one random token per role, a file each, readable by its owner only, and will not overwrite without --force', () => {
    const dir = join(work, 'compose', 'tokens');
    const first = run(['--out', dir]);
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(readdirSync(dir).sort(), [...TOKEN_ROLES].sort());
    const made = tokens(dir);
    for (const value of made) assert.match(value, /^[A-Za-z0-9_-]{43}$/, 'the token alone: no name, no line end');
    assert.equal(new Set(made).size, 6, 'six different tokens');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const role of TOKEN_ROLES) assert.equal(statSync(join(dir, role)).mode & 0o777, 0o400, role);

    const again = run(['--out', dir]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exists; not overwriting it \(use --force/);
    assert.deepEqual(tokens(dir), made);

    const forced = run(['--out', dir, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.notDeepEqual(tokens(dir), made);
    assert.deepEqual(readdirSync(join(work, 'compose')), ['tokens'], 'no partial folder left beside it');
  });

  it('falls back to od for hex tokens where base64 is missing', () => {
    // A PATH with only the tools the script needs, base64 left out.
    const bin = join(work, 'bin-without-base64');
    mkdirSync(bin);
    for (const tool of ['dirname', 'dd', 'od', 'tr', 'mkdir', 'mv', 'rm', 'chmod']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      assert.ok(found !== '', `${tool} on this machine`);
      symlinkSync(found, join(bin, tool));
    }
    const dir = join(work, 'hex');
    const made = run(['--out', dir], { PATH: bin });
    assert.equal(made.status, 0, made.stderr);
    for (const value of tokens(dir)) assert.match(value, /^[0-9a-f]{64}$/);
  });

  it('refuses an unknown argument, and a --uid that is not a number', () => {
    const bad = run(['--frce']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown argument '--frce'/);
    const uid = run(['--uid', 'node', '--out', join(work, 'uid')]);
    assert.equal(uid.status, 2);
    assert.match(uid.stderr, /--uid 'node' is not a number/);
  });
});
