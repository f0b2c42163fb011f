/**
 * deploy/k8s/, checked without a cluster or a network: every manifest passes the Kubernetes API's
 * schema for its kind (kubernetes-models: validators generated from the Kubernetes OpenAPI
 * schema; no npm package ships the JSON schema files themselves), and the sweep's two Jobs say
 * what a sharded sweep needs: K indexed pods for K shards, each its own shard by
 * JOB_COMPLETION_INDEX with options `ffa-world sweep` accepts, writing into the claim the merge
 * reads. Those schemas do not refuse unknown fields, so the fields that matter are read here by name.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseArgs } from 'node:util';
import { Job, type IJob } from 'kubernetes-models/batch/v1';
import { PersistentVolumeClaim } from 'kubernetes-models/v1';
import YAML from 'yaml';
import { readScenarioFile } from '../services/orchestrator/scenario/reader/index.ts';
import { workFolder } from './test-support/cli.ts';
import { parseSweepOptions } from './sweep.ts';
import { shardSeeds } from './sweep-shard.ts';

const root = join(import.meta.dirname, '..');
const K8S = join(root, 'deploy', 'k8s');
const { dir: work } = workFolder('ffa-k8s-');

type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };

function manifestsIn(file: string): Manifest[] {
  const documents = YAML.parseAllDocuments(readFileSync(join(K8S, file), 'utf8'));
  return documents.map((document) => {
    assert.deepEqual(document.errors, [], `${file}: YAML errors`);
    return document.toJS() as Manifest;
  });
}

/** The schema of each kind shipped here; a new kind needs its model added. */
function validate(manifest: Manifest): void {
  const models: Record<string, (data: never) => { validate(): void }> = {
    'v1/PersistentVolumeClaim': (data) => new PersistentVolumeClaim(data),
    'batch/v1/Job': (data) => new Job(data),
  };
  const model = models[`${manifest.apiVersion}/${manifest.kind}`];
  assert.ok(model, `${manifest.kind} ${manifest.metadata.name}: no schema for ${manifest.apiVersion} ${manifest.kind} in this test`);
  model(manifest as never).validate();
}

const byKind = <T>(manifests: Manifest[], kind: string): T => {
  const found = manifests.filter((m) => m.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0] as T;
};

const sweepManifests = manifestsIn('sweep-job.yaml');
const sweepJob = byKind<IJob>(sweepManifests, 'Job');
const claim = byKind<Manifest>(sweepManifests, 'PersistentVolumeClaim');
const mergeJob = byKind<IJob>(manifestsIn('sweep-merge-job.yaml'), 'Job');

function podOf(job: IJob) {
  const pod = job.spec?.template.spec;
  assert.ok(pod, `${job.metadata?.name}: a pod template`);
  assert.equal(pod.containers.length, 1);
  return { pod, container: pod.containers[0] as NonNullable<typeof pod.containers[0]> };
}

/** Where the container mounts the sweep's claim. */
function resultsMount(job: IJob): { path: string; readOnly: boolean } {
  const { pod, container } = podOf(job);
  const volume = pod.volumes?.find((v) => v.persistentVolumeClaim?.claimName === claim.metadata.name);
  assert.ok(volume, `${job.metadata?.name} mounts the claim ${claim.metadata.name}`);
  const mount = container.volumeMounts?.find((m) => m.name === volume.name);
  assert.ok(mount, `${job.metadata?.name}: the claim's volume is mounted`);
  return { path: mount.mountPath, readOnly: mount.readOnly === true };
}

/** The shard container's arguments as `ffa-world` reads them. */
function shardCommandLine(): { file: string; options: Record<string, unknown> } {
  const { container } = podOf(sweepJob);
  const { values, positionals } = parseArgs({
    args: container.args ?? [],
    allowPositionals: true,
    strict: true,
    options: { seeds: { type: 'string' }, from: { type: 'string' }, jobs: { type: 'string' }, shard: { type: 'string' }, out: { type: 'string' }, 'check-determinism': { type: 'boolean' } },
  });
  assert.equal(positionals[0], 'sweep');
  assert.equal(positionals.length, 2, 'sweep and one scenario file');
  const { 'check-determinism': checkDeterminism, ...rest } = values;
  return { file: positionals[1] as string, options: { ...rest, checkDeterminism } };
}

describe('deploy/k8s', () => {
  it('every manifest passes the Kubernetes schema of its kind', () => {
    const files = readdirSync(K8S).filter((name) => name.endsWith('.yaml'));
    assert.deepEqual(files.sort(), ['sweep-job.yaml', 'sweep-merge-job.yaml']);
    for (const file of files) for (const manifest of manifestsIn(file)) validate(manifest);
  });

  it('the schema refuses a broken copy: a count that is not a number, a completion mode that does not exist', () => {
    const broken = (spec: object): Manifest => ({ ...sweepJob, spec: { ...sweepJob.spec, ...spec } }) as unknown as Manifest;
    assert.throws(() => validate(broken({ completions: 'four' })), /completions must be integer/);
    assert.throws(() => validate(broken({ completionMode: 'Indexd' })), /completionMode must be equal to one of the allowed values/);
  });

  it('runs K indexed pods for K shards, pod I running shard I by JOB_COMPLETION_INDEX, and the K shards are the whole sweep', () => {
    const spec = sweepJob.spec;
    assert.equal(spec?.completionMode, 'Indexed');
    const shards = spec?.completions ?? 0;
    assert.ok(shards >= 1 && spec?.parallelism === shards, 'completions = parallelism = K');
    const { file, options } = shardCommandLine();
    assert.equal(options['shard'], `$(JOB_COMPLETION_INDEX)/${shards}`);
    assert.equal(readScenarioFile(join(root, file)).name.length > 0, true, 'the scenario is in the repository (and so in the image)');
    const blocks = Array.from({ length: shards }, (_, index) => {
      const parsed = parseSweepOptions(file, { ...options, shard: String(options['shard']).replace('$(JOB_COMPLETION_INDEX)', String(index)) });
      assert.equal(typeof parsed, 'object', `pod ${index}: ${String(parsed)}`);
      if (typeof parsed === 'string' || parsed.shard === null) throw new Error('unreachable');
      return shardSeeds(parsed.from, parsed.seeds, parsed.shard);
    });
    assert.equal(blocks.reduce((n, b) => n + b.seeds, 0), Number(options['seeds']));
    assert.equal(options['out'], resultsMount(sweepJob).path, '--out is the mounted claim');
  });

  it('lets a shard with failing seeds complete, fails at once on an invalid scenario, and retries a crash', () => {
    const { pod, container } = podOf(sweepJob);
    assert.equal(pod.restartPolicy, 'Never');
    const failJob = sweepJob.spec?.podFailurePolicy?.rules.find((rule) => rule.action === 'FailJob');
    assert.deepEqual(failJob?.onExitCodes, { containerName: container.name, operator: 'In', values: [2] });
    // The wrapper, run by sh with a stand-in for node that exits as told.
    const [shell, flag, script, name] = container.command ?? [];
    assert.deepEqual([shell, flag, name], ['sh', '-c', 'ffa-world']);
    writeFileSync(join(work, 'node'), '#!/bin/sh\nexit "$FAKE_STATUS"\n');
    chmodSync(join(work, 'node'), 0o755);
    for (const [status, podStatus] of [[0, 0], [1, 0], [2, 2], [137, 137]]) {
      const run = spawnSync('sh', ['-c', script as string, 'ffa-world', ...(container.args ?? [])], { env: { PATH: `${work}:/usr/bin:/bin`, FAKE_STATUS: String(status) } });
      assert.equal(run.status, podStatus, `ffa-world exit ${status}`);
    }
  });

  it('the merge Job reads the same claim, read-only, with sweep merge, once', () => {
    const { container } = podOf(mergeJob);
    const mount = resultsMount(mergeJob);
    assert.deepEqual([...(container.command ?? []), ...(container.args ?? [])], ['node', 'scripts/ffa-world.mjs', 'sweep', 'merge', mount.path]);
    assert.equal(mount.readOnly, true);
    assert.equal(mergeJob.spec?.backoffLimit, 0);
    assert.match(readFileSync(join(root, 'Dockerfile'), 'utf8'), /^COPY scenarios \.\/scenarios$/m, 'the image holds the scenarios');
  });
});
