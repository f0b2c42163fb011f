/**
 * Where a run's outputs go when no --out is given, as Jepsen's store lays them out
 * (jepsen/src/jepsen/store.clj): a new folder per run, out/<name>/<timestamp>-<seed>/, and
 * out/<name>/latest, a symbolic link to the newest. A second run of a scenario, or a copy of it
 * with the same name, never overwrites an earlier run's report.
 */
import { lstatSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** 2025-01-31T09:05:07.123Z → 20250131T090507.123Z: sorts by time, and no colons for any file system. */
export function runStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '');
}

/** out/<name>/<timestamp>-<seed> (not yet created). */
export function runFolder(root: string, name: string, seed: number, now: Date = new Date()): string {
  return join(root, name, `${runStamp(now)}-${seed}`);
}

/**
 * Points <folder>/../latest at the run folder (a relative link, so the store can be moved), and
 * returns the link's path. The link is made beside and renamed over the old one: a reader never
 * sees no `latest`.
 */
export function linkLatest(runDir: string): string {
  const latest = join(dirname(runDir), 'latest');
  const fresh = `${latest}.${process.pid}.tmp`;
  rmSync(fresh, { force: true });
  mkdirSync(dirname(runDir), { recursive: true });
  symlinkSync(basename(runDir), fresh, 'dir');
  const old = lstatOrNull(latest);
  // A real folder named latest (not ours) is left alone.
  if (old && !old.isSymbolicLink()) {
    rmSync(fresh, { force: true });
    return runDir;
  }
  renameSync(fresh, latest);
  return latest;
}

function lstatOrNull(path: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
