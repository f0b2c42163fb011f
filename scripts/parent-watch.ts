/**
 * A long run started by a launcher ends when its launcher does. `npm start` execs node as npm's
 * own child (package.json), so npm's SIGTERM and SIGINT reach this process and end it, threads
 * and all. SIGKILL cannot be passed on: killed that way, npm leaves this process to be reparented
 * (to init or a subreaper), and it would run the world to its end with nobody to read it. Polling
 * process.ppid (a fresh getppid(2) on every read) sees the change.
 */

/** How often the parent is looked for: a run outlives its launcher by at most about this long. */
const PARENT_POLL_MS = 250;
/** 128 + SIGHUP's 1: what a shell reports for a process whose terminal went away. */
const EXIT_PARENT_GONE = 129;

/** Exit (after `onOrphaned`, if given) once the process that started this one is gone. */
export function exitWithParent(what: string, onOrphaned?: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.stderr.write(`${what}: the process that started it (pid ${parent}) is gone: stopping\n`);
    onOrphaned?.();
    process.exit(EXIT_PARENT_GONE);
  }, PARENT_POLL_MS);
  // The watch alone must never keep a finished run alive.
  timer.unref();
}
