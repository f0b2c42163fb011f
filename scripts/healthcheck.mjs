#!/usr/bin/env node
// The container healthcheck (Dockerfile HEALTHCHECK and docker-compose.yml): healthy when the
// service wrote state "started" into its status file and that process is still running.
// Plain JavaScript with no dependencies and no tsx, so it costs one short node start per check.
//
// The status file, FFA_STATUS_FILE (default /tmp/ffa-world-status.json), is written by
// scripts/service.ts: {"state":"listening"|"started"|"stopped","role","name","pid"}. It lives in
// the container's own /tmp, so a new container never sees an old container's file; a restarted
// container can (same /tmp, and often the same pid 1), so a file older than its process is stale.
//
// Exit 0 healthy; 1 not, with a one-line reason on stdout (docker keeps it in `docker inspect`).
import { readFileSync, statSync } from 'node:fs';

const file = process.env.FFA_STATUS_FILE || '/tmp/ffa-world-status.json';

function unhealthy(reason) {
  process.stdout.write(`unhealthy: ${reason}\n`);
  process.exit(1);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return error.code === 'EPERM';
  }
}

/** When the process started, in ms since the epoch, from /proc; undefined where /proc says nothing. */
function processStartMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, starttime in clock ticks since boot; fields after the ")" of the command name.
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const bootLine = readFileSync('/proc/stat', 'utf8').split('\n').find((line) => line.startsWith('btime '));
    if (!Number.isFinite(startTicks) || bootLine === undefined) return undefined;
    // USER_HZ is 100 on every Linux ABI Node runs on. btime is rounded down to the second, so
    // this is at most 1 s early: it never calls a fresh file stale.
    return (Number(bootLine.slice(6)) + startTicks / 100) * 1000;
  } catch {
    return undefined;
  }
}

let text;
try {
  text = readFileSync(file, 'utf8');
} catch (error) {
  unhealthy(`no status file ${file} (${error.code ?? error.message}): the service has not started listening yet`);
}

let status;
try {
  status = JSON.parse(text);
} catch {
  unhealthy(`status file ${file} is not JSON`);
}
if (typeof status !== 'object' || status === null) unhealthy(`status file ${file} is not a JSON object`);

const { state, role, pid } = status;
const who = `${role ?? 'service'}${status.name ? ` ${status.name}` : ''}`;
if (!Number.isInteger(pid) || pid <= 0) unhealthy(`status file ${file} has no valid pid`);
if (!isAlive(pid)) unhealthy(`${who}: process ${pid} is not running`);
const startMs = processStartMs(pid);
if (startMs !== undefined && statSync(file).mtimeMs < startMs - 1000) {
  unhealthy(`${who}: status file ${file} is older than process ${pid}: left by an earlier run`);
}
if (state !== 'started') unhealthy(`${who} is ${JSON.stringify(state)}, not "started"`);

process.stdout.write(`healthy: ${who} started (pid ${pid})\n`);
