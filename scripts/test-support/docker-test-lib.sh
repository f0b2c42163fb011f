# shellcheck shell=bash
# Sourced by scripts/test-compose.sh and scripts/test-swarm.sh (not run by itself): logging with
# phase times, the machine's state (recorded before a test, compared after its teardown), private
# Docker engines started and stopped in a folder of their own, the offline base image, and the
# readers of the orchestrator's summary.
#
# The caller sets ROOT, IMAGE and BASE_IMAGE, then sources this, which starts the clock and the
# state its phases set and its teardown reads (finish_teardown).

# Set as the phases go, read by teardown.
S=""
STATE=""
MADE_CREDENTIALS=no
MADE_BASE_IMAGE=no
STARTED_AT=$EPOCHREALTIME
PHASE_AT=$EPOCHREALTIME
VERDICT_LINES=()
# Failures that do not stop the next phase (a failing verdict still lets the kill test run).
FAILURES=()

# ---------------------------------------------------------------------------------------------
# Logging

seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '[%6ss] %s\n' "$(seconds_since "$STARTED_AT")" "$*"; }
phase() {
  log "== $* (previous phase took $(seconds_since "$PHASE_AT") s)"
  PHASE_AT=$EPOCHREALTIME
}
fail() {
  log "FAIL: $*"
  exit 1
}
fail_later() {
  log "FAIL: $*"
  FAILURES+=("$*")
}

# ---------------------------------------------------------------------------------------------
# Machine state: what dockerd changes, recorded before and compared after teardown

machine_state() {
  echo "# links"
  ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
  echo "# network namespaces"
  ip netns list | awk '{ print $1 }' | sort
  echo "# ip_forward $(sysctl -n net.ipv4.ip_forward)"
  local tool
  for tool in iptables-save ip6tables-save; do
    echo "# $tool"
    # Counters and the dump's own comments change by themselves; an empty built-in chain with
    # policy ACCEPT in a table with nothing else is no rule (nft leaves such tables behind).
    "$tool" 2>/dev/null | sed -e '/^#/d' -e 's/ \[[0-9]*:[0-9]*\]$//' | awk '
      /^\*/ { table = $0; lines = ""; meaningful = 0; next }
      /^COMMIT/ { if (meaningful) print table lines "\nCOMMIT"; next }
      { lines = lines "\n" $0; if ($0 !~ /^:(INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) ACCEPT$/) meaningful = 1 }'
  done
}

# ---------------------------------------------------------------------------------------------
# Private Docker engines

DOCKERD_START_TIMEOUT_S=${DOCKERD_START_TIMEOUT_S:-60}
DOCKERD_STOP_TIMEOUT_S=${DOCKERD_STOP_TIMEOUT_S:-30}

# A dockerd whose every file is under $1 (socket $1/docker.sock, --data-root, --exec-root,
# --pidfile, log $1/dockerd.log); with $2 (a network namespace) and $3 (a host name) it runs in
# that namespace, under that name. Waits (bounded) until it answers; sets DOCKERD_STARTED_PID.
#
# nsenter --net, not `ip netns exec`: that one also makes a mount namespace and mounts a fresh
# /sys in it, which hides the cgroup mounts under /sys/fs/cgroup, and dockerd stops at once
# ("failed to start daemon: Devices cgroup isn't mounted"). unshare --uts gives the node its own
# host name, so `docker node ls` tells the nodes apart.
start_private_dockerd() {
  local dir=$1 netns=${2:-} name=${3:-}
  mkdir -p "$dir"
  local dockerd=(dockerd --host "unix://$dir/docker.sock" --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/pid")
  if [ -n "$netns" ]; then
    # shellcheck disable=SC2016 # $1 and $@ are the inner shell's
    nsenter --net="/run/netns/$netns" unshare --uts sh -c 'hostname "$1" && shift && exec "$@"' sh "$name" "${dockerd[@]}" \
      >"$dir/dockerd.log" 2>&1 &
  else
    "${dockerd[@]}" >"$dir/dockerd.log" 2>&1 &
  fi
  DOCKERD_STARTED_PID=$!
  local deadline=$((SECONDS + DOCKERD_START_TIMEOUT_S))
  until DOCKER_HOST="unix://$dir/docker.sock" docker version >/dev/null 2>&1; do
    kill -0 "$DOCKERD_STARTED_PID" 2>/dev/null || { tail -20 "$dir/dockerd.log"; fail "dockerd ($dir) exited while starting"; }
    [ "$SECONDS" -lt "$deadline" ] || { tail -20 "$dir/dockerd.log"; fail "dockerd ($dir) did not answer within ${DOCKERD_START_TIMEOUT_S}s"; }
    sleep 0.2
  done
}

# Stops the dockerd with pid $1 whose files are under $2 (TERM, then KILL past the bound), then
# what may outlive it: its containerd and shims (by pid, found by that folder in their command
# lines), and mounts under the folder (overlay layers, namespaces), deepest first.
stop_private_dockerd() {
  local pid=$1 dir=$2
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    local deadline=$((SECONDS + DOCKERD_STOP_TIMEOUT_S))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { log "dockerd $pid did not stop in ${DOCKERD_STOP_TIMEOUT_S}s: KILL"; kill -KILL "$pid"; }
  fi
  wait "$pid" 2>/dev/null || true
  local left
  for left in $(pgrep -f -- "$dir/" || true); do
    if [ "$left" != $$ ]; then kill -KILL "$left" 2>/dev/null || true; fi
  done
  awk -v s="$dir/" 'index($2, s) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mount; do
    umount -l "$mount" 2>/dev/null || true
  done
}

# Follows the log of container $1 (in the engine DOCKER_HOST names) until it shows the text $2, for
# at most $3 seconds; fails when the bound runs out or the container ends first. Following, not
# polling `docker logs`: a kill test's window is the scenario's few seconds, and on a loaded
# machine each `docker logs` call takes a good part of one.
follow_log_until() {
  local seen=1 dir follower
  dir=$(mktemp -d /tmp/ffa-follow.XXXXXX)
  mkfifo "$dir/log"
  # A job of its own, so $! is its pid (a process substitution does not set $!).
  timeout "$3" docker logs -f "$1" >"$dir/log" 2>&1 &
  follower=$!
  grep -m1 -q -F -- "$2" <"$dir/log" && seen=0
  kill "$follower" 2>/dev/null || true
  wait "$follower" 2>/dev/null || true
  rm -rf "$dir"
  return "$seen"
}

# ---------------------------------------------------------------------------------------------
# The base image, offline

# node:20-slim made from the host's own node, in the engine DOCKER_HOST names: the binary, the
# libraries it and the project's native addons link, busybox as /bin/sh and the other tools, and
# the node user (uid 1000). $1: a scratch folder for the image's files. Sets MADE_BASE_IMAGE=yes
# when it made the image (the caller removes it at teardown).
make_base_image() {
  phase "base image $BASE_IMAGE"
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "$BASE_IMAGE is there already"
    return
  fi
  local rootfs="$1/rootfs" node lib
  node=$(readlink -f "$(command -v node)")
  mkdir -p "$rootfs"/{bin,usr/local/bin,etc,tmp,root,home/node}
  cp "$node" "$rootfs/usr/local/bin/node"
  {
    ldd "$node"
    find node_modules -name '*.glibc.node' -o -name '*-gnu.node' | while read -r addon; do ldd "$addon" || true; done
  } | grep -oE '/[^ ]+\.so[^ ]*' | sort -u | while read -r lib; do
    cp -L --parents "$lib" "$rootfs/"
  done
  cp "$(readlink -f "$(command -v busybox)")" "$rootfs/bin/busybox"
  for tool in $("$rootfs/bin/busybox" --list); do
    [ -e "$rootfs/bin/$tool" ] || ln -s busybox "$rootfs/bin/$tool"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' >"$rootfs/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  chmod 1777 "$rootfs/tmp"
  chown 1000:1000 "$rootfs/home/node"
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' - "$BASE_IMAGE" >/dev/null
  # shellcheck disable=SC2034 # read by the caller's teardown
  MADE_BASE_IMAGE=yes
  rm -rf "$rootfs"
  log "made $BASE_IMAGE from $node ($("$node" --version)): $(docker image inspect -f '{{.Size}}' "$BASE_IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
}

# ---------------------------------------------------------------------------------------------
# The image

# The Dockerfile's COPY sources (and the Dockerfile), which is all of the build context it reads.
BUILD_CONTEXT_PATHS=(Dockerfile .dockerignore package.json package-lock.json tsconfig.json node_modules shared services scripts scenarios)

# $IMAGE built in the engine DOCKER_HOST names, from a tar of the work tree that follows symlinks:
# a work tree whose node_modules is a symlink (a git worktree sharing another's) builds too, where
# a build context would carry the link itself and `COPY node_modules` would find nothing. The
# excludes are .dockerignore's entries inside those paths (an archive context is taken as it is).
build_image_from_tar() {
  tar -C "$ROOT" -ch --exclude=node_modules/.cache --exclude='*.log' --exclude='*.history.jsonl' "${BUILD_CONTEXT_PATHS[@]}" \
    | docker build -t "$IMAGE" -
}

# ---------------------------------------------------------------------------------------------
# The orchestrator's summary

# shellcheck disable=SC2016 # the node -e programs are JavaScript in single quotes
print_summary() {
  local file=$1
  [ -f "$file" ] || { log "no $file"; return 1; }
  node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const pick = ["verdict", "passed", "status", "name", "runtime", "seed", "durationMs"].filter((k) => k in s);
    console.log(pick.length > 0 ? pick.map((k) => `${k}=${JSON.stringify(s[k])}`).join(" ") : JSON.stringify(s).slice(0, 300));
  ' "$file"
}

# The checks that failed, one a line: "<name>: <detail>". A speed figure (a missed latency
# threshold, or a no-lost-notification whose every failure is a late delivery: "late is not
# lost", docs/load-and-benchmarks.md) is measured, not asserted, so it is printed as "figure" and
# the caller does not fail on it; any other failed check is "FAILED". The tests' own rule decides
# which is which (isSpeedFigure, services/orchestrator/scenario/test-support/verdict.ts).
# shellcheck disable=SC2016 # the node -e program is JavaScript in single quotes
failed_checks() {
  (cd "$ROOT" && node --import tsx --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { isSpeedFigure } from "./services/orchestrator/scenario/test-support/verdict.ts";
    const s = JSON.parse(readFileSync(process.argv[1], "utf8"));
    for (const c of s.checks ?? []) if (!c.passed) console.log(`${isSpeedFigure(s, c) ? "figure" : "FAILED"} ${c.name}: ${c.detail}`);
    for (const st of s.steps ?? []) if (!st.passed) console.log(`FAILED step ${st.index} ${st.label}: ${st.detail}`);
    if (s.ended !== "done") console.log(`FAILED the run ended ${s.ended}`);
  ' "$(realpath "$1")")
}

# Judge a run's summary: fail (later) on anything but a latency figure.
judge_run() {
  local what=$1 file=$2 failures
  failures=$(failed_checks "$file")
  [ -z "$failures" ] || printf '%s\n' "$failures" | sed "s/^/[$what] /"
  if printf '%s\n' "$failures" | grep -c '^FAILED' >/dev/null; then
    fail_later "$what: a correctness check failed (see the lines above and the report)"
  fi
}

# The end of a teardown (status: the run's so far): the temp folder and the credentials this run
# made go, the machine is compared with its recorded state (a difference fails the run), the
# verdict lines are printed, and the script exits with the status. Reads S, MADE_CREDENTIALS,
# STATE, VERDICT_LINES and STARTED_AT.
finish_teardown() {
  local status=$1
  [ -n "$S" ] && rm -rf "$S"
  [ "$MADE_CREDENTIALS" = yes ] && rm -rf compose/credentials
  if [ -n "$STATE" ] && [ -f "$STATE/before" ]; then
    machine_state >"$STATE/after"
    if diff -u "$STATE/before" "$STATE/after" >"$STATE/diff"; then
      log "machine left as it was found (links, network namespaces, ip_forward, iptables)"
    else
      log "FAIL: the machine is not as it was found:"
      cat "$STATE/diff"
      [ "$status" = 0 ] && status=1
    fi
    rm -rf "$STATE"
  fi
  for line in "${VERDICT_LINES[@]}"; do log "$line"; done
  if [ "$status" = 0 ]; then log "PASS (total $(seconds_since "$STARTED_AT") s)"; else log "FAILED with status $status (total $(seconds_since "$STARTED_AT") s)"; fi
  exit "$status"
}
