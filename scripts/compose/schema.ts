/**
 * Checks for docker-compose.yml in four layers, each catching what the others let through:
 *
 * - `docker-compose config` (v1.29, the one Debian ships): the file must load in the oldest
 *   Compose we support. It refuses a top-level `name:` and unknown keys, but lets an undefined
 *   network and `service_healthy` on a service without a healthcheck through.
 * - `docker stack config` (the docker CLI's own loader, the one `docker stack deploy` uses; CLI
 *   23 or later has the command): the file must deploy on a swarm, whose schema is Compose file
 *   format 3 (depends_on only as a list, for one).
 * - the compose-spec JSON schema (the copy the `dclint` package ships, read from node_modules),
 *   with ajv: unknown keys and wrong shapes, as Compose v2 would refuse them.
 * - rules of our own over the parsed YAML for what no schema can say: references between parts
 *   of the file (networks, secrets, depends_on; no tool above notices an undeclared secret),
 *   depends_on as a list (for machines without a docker CLI that has `docker stack config`) and
 *   duration syntax (v1 crashes on a bad one).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import YAML from 'yaml';

export type ComposeCheckLayer = 'yaml' | 'schema' | 'rules' | 'compose-v1' | 'stack';

export interface ComposeProblem {
  layer: ComposeCheckLayer;
  /** Where in the file, as a dotted path (`services.gic.healthcheck`), or '' for the file. */
  where: string;
  message: string;
}

/** Each service's own credentials file (scripts/compose/credentials.ts), as docker-compose.yml's `secrets:` names them. */
export const CREDENTIAL_SECRETS = ['gic', 'spmd', 'spmc', 'hypervisor', 'guest', 'orchestrator'].map((role) => ({ role, secret: `ffa-${role}`, file: `compose/credentials/ffa-${role}.json` }));

type Doc = Record<string, unknown>;

const isRecord = (value: unknown): value is Doc => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses a compose file as Compose does: YAML 1.1 merge keys (`<<: *anchor`) resolved. */
export function parseCompose(text: string): { doc: Doc | undefined; problems: ComposeProblem[] } {
  const parsed = YAML.parseDocument(text, { merge: true, prettyErrors: true });
  if (parsed.errors.length > 0) {
    return { doc: undefined, problems: parsed.errors.map((e) => ({ layer: 'yaml', where: '', message: e.message })) };
  }
  const doc: unknown = parsed.toJS({ maxAliasCount: 1000 });
  if (!isRecord(doc)) return { doc: undefined, problems: [{ layer: 'yaml', where: '', message: 'a compose file is a mapping at the top level' }] };
  return { doc, problems: [] };
}

let compiledSchema: ReturnType<Ajv['compile']> | undefined;

/** The compose-spec schema as the dclint package ships it (its schemas/compose.schema.json). */
export function composeSpecSchemaFile(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
}

function composeSpecValidator(): ReturnType<Ajv['compile']> {
  if (compiledSchema === undefined) {
    const schema: unknown = JSON.parse(readFileSync(composeSpecSchemaFile(), 'utf8'));
    // The schema declares draft-07 under a URI ajv does not know, and uses keywords and formats
    // ajv's strict mode refuses: neither changes what it says about a compose file.
    const ajv = new Ajv({ allErrors: true, validateSchema: false, strict: false, validateFormats: false, logger: false });
    compiledSchema = ajv.compile(schema as object);
  }
  return compiledSchema;
}

function describeSchemaError(error: ErrorObject): ComposeProblem {
  const where = error.instancePath.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
  const params = error.params as Record<string, unknown>;
  let message = error.message ?? error.keyword;
  if (error.keyword === 'additionalProperties') message = `unknown key '${String(params.additionalProperty)}'`;
  else if (error.keyword === 'enum') message = `${message}: ${JSON.stringify(params.allowedValues)}`;
  return { layer: 'schema', where, message };
}

/** Problems the compose-spec schema finds. oneOf's "tried every branch" noise is left out when a precise error is there. */
export function schemaProblems(doc: Doc): ComposeProblem[] {
  const validate = composeSpecValidator();
  if (validate(doc)) return [];
  const errors = validate.errors ?? [];
  const precise = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'type');
  const chosen = precise.length > 0 ? precise : errors;
  const seen = new Set<string>();
  const problems: ComposeProblem[] = [];
  for (const problem of chosen.map(describeSchemaError)) {
    const key = `${problem.where}: ${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}

/** A Go duration as Compose parses it: `1s`, `1m30s`, `500ms`. */
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

function serviceNetworks(service: Doc): string[] {
  const networks = service.networks;
  if (Array.isArray(networks)) return networks.map(String);
  if (isRecord(networks)) return Object.keys(networks);
  return [];
}

function dependencies(service: Doc): Array<{ name: string; condition: string }> {
  const dependsOn = service.depends_on;
  if (Array.isArray(dependsOn)) return dependsOn.map((name) => ({ name: String(name), condition: 'service_started' }));
  if (isRecord(dependsOn)) {
    return Object.entries(dependsOn).map(([name, spec]) => ({
      name,
      condition: isRecord(spec) && typeof spec.condition === 'string' ? spec.condition : 'service_started',
    }));
  }
  return [];
}

function serviceSecrets(service: Doc): string[] {
  const secrets = service.secrets;
  if (!Array.isArray(secrets)) return [];
  return secrets.map((secret) => (isRecord(secret) ? String(secret.source) : String(secret)));
}

function hasHealthcheck(service: Doc): boolean {
  const check = service.healthcheck;
  if (!isRecord(check) || check.disable === true) return false;
  const test = check.test;
  if (Array.isArray(test)) return test.length > 0 && test[0] !== 'NONE';
  return typeof test === 'string' && test.length > 0;
}

/** What neither v1 nor the schema checks: references inside the file, and durations. */
export function ruleProblems(doc: Doc): ComposeProblem[] {
  const problems: ComposeProblem[] = [];
  const refuse = (where: string, message: string) => problems.push({ layer: 'rules', where, message });
  if ('name' in doc) refuse('name', "no top-level 'name:': docker-compose v1 refuses it (set the project name with -p)");
  if ('version' in doc) refuse('version', "no 'version:': Compose v2 warns that it is obsolete, and v1.29 does not need it");
  const services = isRecord(doc.services) ? doc.services : {};
  const declaredNetworks = new Set(['default', ...Object.keys(isRecord(doc.networks) ? doc.networks : {})]);
  const declaredSecrets = new Set(Object.keys(isRecord(doc.secrets) ? doc.secrets : {}));
  for (const [name, service] of Object.entries(services)) {
    if (!isRecord(service)) continue;
    for (const secret of serviceSecrets(service)) {
      if (!declaredSecrets.has(secret)) refuse(`services.${name}.secrets`, `secret '${secret}' is not declared under the top-level 'secrets:'`);
    }
    if (isRecord(service.depends_on)) {
      refuse(`services.${name}.depends_on`, 'a list of service names, not a mapping: `docker stack deploy` refuses the `condition:` form (the services wait for their peers themselves)');
    }
    for (const network of serviceNetworks(service)) {
      if (!declaredNetworks.has(network)) {
        refuse(`services.${name}.networks`, `network '${network}' is not declared under the top-level 'networks:'`);
      }
    }
    for (const { name: dependency, condition } of dependencies(service)) {
      const target = services[dependency];
      if (!isRecord(target)) {
        refuse(`services.${name}.depends_on`, `depends on '${dependency}', which is not a service of this file`);
      } else if (condition === 'service_healthy' && !hasHealthcheck(target)) {
        refuse(`services.${name}.depends_on.${dependency}`, `waits for '${dependency}' to be healthy, but '${dependency}' declares no healthcheck: it would never start`);
      }
    }
    const check = service.healthcheck;
    if (isRecord(check)) {
      for (const key of ['interval', 'timeout', 'start_period', 'start_interval']) {
        const value = check[key];
        if (value !== undefined && (typeof value !== 'string' || !DURATION.test(value))) {
          refuse(`services.${name}.healthcheck.${key}`, `'${String(value)}' is not a duration like 1s, 500ms or 1m30s`);
        }
      }
    }
  }
  return problems;
}

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command on a copy of the text (docker-compose.yml in a temporary folder), beside
 * placeholder credentials files: the tools refuse a file whose secrets' files are missing, and the
 * real keys are never needed to validate. Throws when the command is not installed.
 */
function runOnCopy(text: string, command: string, args: string[], install: string): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'ffa-compose-'));
  try {
    writeFileSync(join(dir, 'docker-compose.yml'), text);
    mkdirSync(join(dir, 'compose', 'credentials'), { recursive: true });
    for (const { file } of CREDENTIAL_SECRETS) writeFileSync(join(dir, file), '{"placeholder": "not credentials"}\n');
    // A clean environment: the caller's FFA_*, COMPOSE_* or DOCKER_* variables must not change the result.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' };
    const run = spawnSync(command, args, { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    if (run.error !== undefined) {
      if ((run.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${command} is not installed: ${install}`);
      throw run.error;
    }
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `docker-compose -f FILE config` on a copy (not `-q`: it lets bad durations through). */
export function composeV1Config(text: string): ToolResult {
  return runOnCopy(text, 'docker-compose', ['-f', 'docker-compose.yml', 'config'], 'Debian: apt-get install -y --no-install-recommends docker-compose; .ci/run does this as root');
}

/** `docker stack config -c FILE` on a copy: the file as `docker stack deploy` reads it (no engine needed). */
export function stackConfig(text: string): ToolResult {
  return runOnCopy(text, 'docker', ['stack', 'config', '-c', 'docker-compose.yml'], 'a docker CLI of version 23 or later');
}

/** Whether Debian's docker-compose (v1) is on the PATH, for the `compose-v1` layer. */
export function composeV1Available(): boolean {
  const run = spawnSync('docker-compose', ['version'], { encoding: 'utf8', timeout: 30_000 });
  return run.error === undefined && run.status === 0;
}

/** Whether the docker CLI on the PATH has `docker stack config` (23 or later), for the `stack` layer. */
export function stackConfigAvailable(): boolean {
  const run = spawnSync('docker', ['stack', 'config', '--help'], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return run.error === undefined && run.status === 0;
}

/** The tool layers to run: each needs its tool installed. */
export interface ToolLayers {
  v1: boolean;
  stack: boolean;
}

/**
 * Every layer's problems with one compose file's text; the tools are skipped when the YAML does
 * not parse, or when `tools` leaves them out (not installed).
 */
export function checkComposeText(text: string, tools: ToolLayers = { v1: true, stack: true }): ComposeProblem[] {
  const { doc, problems } = parseCompose(text);
  if (doc === undefined) return problems;
  const toolProblems: ComposeProblem[] = [];
  if (tools.v1) {
    const v1 = composeV1Config(text);
    if (v1.status !== 0) toolProblems.push({ layer: 'compose-v1', where: '', message: v1Complaint(v1.stderr) });
  }
  if (tools.stack) {
    const stack = stackConfig(text);
    if (stack.status !== 0) toolProblems.push({ layer: 'stack', where: '', message: stack.stderr.trim().split('\n').slice(0, 2).join(' ') });
  }
  return [...toolProblems, ...schemaProblems(doc), ...ruleProblems(doc)];
}

/** v1's complaint in one line: its first two lines, or a traceback's last line (v1 crashes on some bad values). */
function v1Complaint(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.some((l) => l.startsWith('Traceback'))) return `docker-compose crashed: ${lines[lines.length - 1] ?? ''}`;
  return lines.slice(0, 2).join(' ');
}

export function formatProblem(problem: ComposeProblem): string {
  return `${problem.layer}: ${problem.where === '' ? '' : `${problem.where}: `}${problem.message}`;
}
