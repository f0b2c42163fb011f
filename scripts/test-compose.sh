#!/usr/bin/env bash
# npm run test:compose: docker-compose.yml for real, under a private Docker engine, and the
# machine left as it was found. Not part of `npm test` (it needs root and a few minutes).
#
#   bash scripts/test-compose.sh [--build-only] [--no-run] [--no-kill-test] [--no-swarm]
#
# --build-only stops after the image is built; --no-run skips the full run, --no-kill-test the
# kill test and --no-swarm the swarm phase (to work on one phase).
#
# Phases: install what is missing (docker.io, docker-compose, busybox-static; apt, as root) →
# record the machine's links, iptables and ip_forward → start a private dockerd in a temp folder →
# make the offline base image node:20-slim from the host's node when it is missing (no registry
# is reachable) → build ffa-world:local with docker-compose → run the world with $GUESTS guests to
# the orchestrator's verdict → the kill test (a guest dies mid-run: its VM is destroyed and the
# world stays up) → the swarm phase: the same file and image on a two-node Docker Swarm
# (scripts/test-swarm.sh, with its own engines, teardown and check of the machine) → tear down
# ALWAYS (trap EXIT), and fail if the machine is not as it was found.
#
# Settings (environment): FFA_TEST_GUESTS (default 4), FFA_TEST_UP_TIMEOUT_S (default 600),
# FFA_TEST_KILL_MARK (the orchestrator's log text after which the kill test kills a guest,
# default "the scenario starts"), FFA_UID (the containers' user, default 1000).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

PROJECT=ffa-test
IMAGE=ffa-world:local
BASE_IMAGE=node:20-slim
GUESTS=${FFA_TEST_GUESTS:-4}
UP_TIMEOUT_S=${FFA_TEST_UP_TIMEOUT_S:-600}
# The kill test kills a guest when the orchestrator logs this (the scenario has started).
KILL_MARK=${FFA_TEST_KILL_MARK:-the scenario starts}
KILL_WAIT_S=120
export FFA_UID=${FFA_UID:-1000}
DOCKER_CHAINS=(DOCKER DOCKER-USER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2)

BUILD_ONLY=no
FULL_RUN=yes
KILL_TEST=yes
SWARM_TEST=yes
for arg in "$@"; do
  case "$arg" in
    --build-only) BUILD_ONLY=yes ;;
    --no-run) FULL_RUN=no ;;
    --no-kill-test) KILL_TEST=no ;;
    --no-swarm) SWARM_TEST=no ;;
    *) echo "usage: bash scripts/test-compose.sh [--build-only] [--no-run] [--no-kill-test] [--no-swarm]" >&2; exit 2 ;;
  esac
done

# shellcheck source=scripts/test-support/docker-test-lib.sh
source "$ROOT/scripts/test-support/docker-test-lib.sh"
# Set as the phases go, read by teardown (beside the library's own).
DOCKERD_PID=""

# docker-compose v1 warns on every command that it ignores deploy.endpoint_mode (a swarm key):
# that one line is left out of the test's output.
compose() {
  docker-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" "$@" \
    2> >(grep -v '^The following deploy sub-keys are not supported and have been ignored: endpoint_mode$' >&2)
}

# ---------------------------------------------------------------------------------------------
# Phase: packages

install_packages() {
  phase "packages"
  [ "$(id -u)" = 0 ] || fail "run as root: it starts a Docker engine and changes iptables"
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v busybox >/dev/null || missing+=(busybox-static)
  command -v iptables-save >/dev/null || missing+=(iptables)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    local apt_log=/tmp/ffa-test-compose-apt.log
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$apt_log" 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$apt_log" 2>&1
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1 \
        || { tail -20 "$apt_log"; fail "could not install ${missing[*]}"; }
    fi
    rm -f "$apt_log"
  fi
  # The docker client in PATH (any version) talks to dockerd 20.10 by negotiating the API.
  command -v docker >/dev/null || fail "no docker client (docker.io ships one)"
  log "dockerd: $(dockerd --version); $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"
}

# ---------------------------------------------------------------------------------------------
# Machine state: what dockerd changes, recorded before and compared after teardown

record_machine_state() {
  phase "recording the machine's state"
  STATE=$(mktemp -d /tmp/ffa-compose-state.XXXXXX)
  machine_state >"$STATE/before"
  if grep -qxE 'docker0|br-[0-9a-f]+' "$STATE/before" || grep -q -- ':DOCKER' "$STATE/before"; then
    fail "a docker0/br-* link or DOCKER iptables chain is already there: another Docker engine runs, or an earlier run left them (remove them, or stop that engine, first)"
  fi
  log "$(grep -c . "$STATE/before") lines recorded (links, network namespaces, ip_forward, iptables)"
}

# ---------------------------------------------------------------------------------------------
# Phase: a private dockerd

start_dockerd() {
  phase "starting a private dockerd"
  S=$(mktemp -d /tmp/ffa-compose.XXXXXX)
  start_private_dockerd "$S"
  DOCKERD_PID=$DOCKERD_STARTED_PID
  export DOCKER_HOST="unix://$S/docker.sock"
  log "dockerd pid $DOCKERD_PID at $DOCKER_HOST (log: $S/dockerd.log)"
}

# ---------------------------------------------------------------------------------------------
# Phase: what the build and the run need from the work tree

prepare_work_tree() {
  phase "work tree"
  if [ ! -d node_modules ]; then
    log "no node_modules: npm ci (the image copies the host's node_modules)"
    npm ci
  fi
  if [ ! -d compose/credentials ]; then
    node --import tsx scripts/compose-credentials.ts >/dev/null
    MADE_CREDENTIALS=yes
    log "made compose/credentials/ for this run (removed at the end)"
  else
    log "using the existing compose/credentials/"
  fi
  # Mounted as they are (compose secrets are bind mounts): the containers' user must own them.
  chown -R "$FFA_UID:$FFA_UID" compose/credentials
}

# A fresh report folder, writable by the containers' user.
fresh_out_dir() {
  local dir=$1
  rm -rf "${ROOT:?}/${dir:?}"
  install -d -o "$FFA_UID" -g "$FFA_UID" "$ROOT/$dir"
}

# ---------------------------------------------------------------------------------------------
# Phase: build

build_image() {
  if [ -L node_modules ]; then
    phase "docker build (node_modules is a symlink: from a tar that follows it)"
    build_image_from_tar >"$S/build.log" 2>&1 || { tail -30 "$S/build.log"; fail "docker build failed"; }
  else
    phase "docker-compose build"
    compose build >"$S/build.log" 2>&1 || { tail -30 "$S/build.log"; fail "docker-compose build failed"; }
  fi
  local images
  images=$(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -c "^$IMAGE$" || true)
  [ "$images" = 1 ] || fail "expected one image $IMAGE after the build"
  log "built $IMAGE: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
  # The image runs node and tsx as the node user, and its healthcheck says why it is unhealthy.
  local said
  said=$(docker run --rm "$IMAGE" node --import tsx --input-type=module \
    -e 'await import("./scripts/compose/schema.ts"); console.log(`tsx loads the project as uid ${process.getuid()}, node ${process.version}`)') \
    || fail "node --import tsx does not run in $IMAGE"
  log "in the image: $said"
  said=$(docker run --rm "$IMAGE" node scripts/healthcheck.mjs) && fail "the healthcheck says healthy with no service running"
  log "in the image, before any service: $said"
}

# ---------------------------------------------------------------------------------------------
# Phase: the world, to the orchestrator's verdict

# Not `up --build`: the build phase built the image (and a symlinked node_modules needs its tar).
run_world() {
  phase "up: the world with $GUESTS guests, to the orchestrator's verdict"
  local out=out/compose-test status=0
  fresh_out_dir "$out"
  FFA_OUT_DIR="./$out" FFA_MIN_GUESTS="$GUESTS" timeout --kill-after=20s "$UP_TIMEOUT_S" \
    docker-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" up --no-color --scale "guest=$GUESTS" --exit-code-from orchestrator \
    >"$S/up.log" 2>&1 || status=$?
  # What the orchestrator printed (its verdict), and warnings or errors from anyone.
  grep -E '^orchestrator_1 +\| [^{]|"level":(40|50|60)' "$S/up.log" | cut -c1-300 | tail -40 || true
  [ "$status" != 124 ] || { tail -30 "$S/up.log"; fail "the world did not finish within ${UP_TIMEOUT_S}s"; }
  local summary
  summary=$(print_summary "$out/summary.json") || { tail -20 "$S/up.log"; explain_containers; fail "the orchestrator wrote no summary (exit $status)"; }
  VERDICT_LINES+=("run: orchestrator exit $status; $summary; report: $ROOT/$out/report.html")
  log "orchestrator exit $status: $summary"
  log "report: $ROOT/$out/report.html (logs: $S/up.log until teardown)"
  cp "$S/up.log" "$out/compose-up.log" 2>/dev/null || true
  compose down -v --remove-orphans >/dev/null 2>&1 || true
  case "$status" in
    0 | 1) judge_run run "$out/summary.json" ;;
    *) fail "run: the orchestrator exited $status (2 = invalid input)" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Phase: a guest dies mid-run

container_state() { docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null || echo gone; }

# Why containers are not healthy: each one's state, its last probe's answer, its last log lines.
explain_containers() {
  local cid name health
  for cid in $(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"); do
    name=$(docker inspect -f '{{.Name}}' "$cid" | tr -d /)
    health=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}no healthcheck{{end}}' "$cid")
    log "$name: $(container_state "$cid"), $health"
    if [ "$health" != healthy ]; then
      docker inspect -f '{{if .State.Health}}{{range .State.Health.Log}}{{.Output}}{{end}}{{end}}' "$cid" | tail -2 | sed 's/^/    probe: /'
      docker logs --tail 5 "$cid" 2>&1 | cut -c1-300 | sed 's/^/    log: /'
    fi
  done
}

kill_test() {
  phase "kill test: $GUESTS guests, one killed while the scenario runs"
  local out=out/compose-test-kill deadline id victim status
  fresh_out_dir "$out"
  # guest-leaves.yaml notifies every guest for 3 s, long enough for the kill to land mid-run.
  # FFA_LIVENESS_BOUND_MS: the `docker kill` itself stalls every container of a 2-core machine
  # for up to ~0.8 s (no event from anyone), so notifications in flight then arrive later than
  # no-lost's default 500 ms; 2 s still catches a notification that never arrives.
  FFA_LIVENESS_BOUND_MS=2000 FFA_SCENARIO=scenarios/compose/guest-leaves.yaml FFA_OUT_DIR="./$out" FFA_MIN_GUESTS="$GUESTS" timeout 300 \
    docker-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" up -d --scale "guest=$GUESTS" >"$S/kill-up.log" 2>&1 \
    || { tail -5 "$S/kill-up.log"; explain_containers; fail "up -d failed"; }
  id=$(compose ps -q orchestrator)
  [ -n "$id" ] || fail "no orchestrator container"
  victim=$(compose ps -q guest | sed -n 1p)
  # Kill when the orchestrator says the scenario starts (its log line), so the guest dies mid-run;
  # if that line never comes, kill anyway once the orchestrator runs, and say so.
  if ! follow_log_until "$id" "$KILL_MARK" "$KILL_WAIT_S"; then
    case "$(container_state "$id")" in
      exited | dead | gone) docker logs "$id" 2>&1 | tail -10; fail "the orchestrator stopped before '$KILL_MARK'" ;;
    esac
    log "no '$KILL_MARK' from the orchestrator within ${KILL_WAIT_S}s: killing now"
  fi
  log "orchestrator is $(container_state "$id"); killing guest container ${victim:0:12}"
  docker kill "$victim" >/dev/null

  deadline=$((SECONDS + UP_TIMEOUT_S))
  until [ "$(container_state "$id")" = exited ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "the orchestrator did not exit within ${UP_TIMEOUT_S}s"
    sleep 0.5
  done
  status=$(docker inspect -f '{{.State.ExitCode}}' "$id")
  compose logs --no-color >"$S/kill-logs.log" 2>&1 || true
  cp "$S/kill-logs.log" "$out/compose-logs.log" 2>/dev/null || true

  # The world stayed up: every platform service and the other guests still run.
  local service cid down=()
  for service in gic spmd spmc hypervisor; do
    cid=$(compose ps -q "$service")
    [ "$(container_state "$cid")" = running ] || down+=("$service")
  done
  local running_guests
  running_guests=$(for cid in $(compose ps -q guest); do container_state "$cid"; done | grep -c '^running$' || true)
  [ "${#down[@]}" = 0 ] || fail "the world went down with the guest: ${down[*]} not running"
  [ "$running_guests" = $((GUESTS - 1)) ] || fail "expected $((GUESTS - 1)) guests still running, found $running_guests"

  # The killed guest's VM was destroyed: the orchestrator's history, or the hypervisor's log.
  local evidence
  evidence=$( { grep -hoE '"(vm-destroyed|guest-link-lost)"' "$out/history.jsonl" 2>/dev/null || true;
                compose logs --no-color hypervisor 2>/dev/null | grep -oE 'vm-destroyed|guest-link-lost' || true; } \
              | tr -d '"' | sort | uniq -c | awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }')
  [ -n "$evidence" ] || fail "no vm-destroyed or guest-link-lost in $out/history.jsonl nor in the hypervisor's log"
  local summary
  summary=$(print_summary "$out/summary.json" || echo "no summary")
  [ "$status" != 2 ] || fail "the orchestrator refused its input (exit 2): $summary"
  VERDICT_LINES+=("kill test: orchestrator exit $status; $summary; evidence: $evidence; platform up, $running_guests guests running")
  docker logs "$id" 2>&1 | grep -E '^[^{]' | cut -c1-300 | tail -25 || true
  log "orchestrator exit $status ($summary); evidence: $evidence"
  log "platform still up, $running_guests guests still running; report: $ROOT/$out/report.html"
  grep -c '"left the world"\|went away (link lost): VM [0-9]* destroyed' "$out/summary.json" >/dev/null \
    || fail_later "kill test: the result does not report the killed guest's VM destroyed"
  judge_run "kill test" "$out/summary.json"
  compose down -v --remove-orphans >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------------------------
# Phase: the same file and image on a two-node swarm

# scripts/test-swarm.sh, given this engine's image (docker save): it starts its own engines in
# network namespaces of its own, and tears them down and checks the machine itself.
swarm_phase() {
  phase "swarm: scripts/test-swarm.sh with this build's image"
  local image="$S/ffa-world-image.tar" status=0
  docker save -o "$image" "$IMAGE" || fail "docker save $IMAGE failed"
  bash "$ROOT/scripts/test-swarm.sh" --image "$image" 2>&1 | sed -u 's/^/  swarm| /' || status=$?
  rm -f "$image"
  if [ "$status" = 0 ]; then VERDICT_LINES+=("swarm: passed (scripts/test-swarm.sh; its lines above are marked 'swarm|')")
  else fail_later "swarm: scripts/test-swarm.sh failed with status $status (its lines above are marked 'swarm|')"; fi
}

# ---------------------------------------------------------------------------------------------
# Teardown: always, whatever failed

remove_docker_network_leftovers() {
  local link table tool rule chain
  # Links dockerd made (the bridges; veths go with their containers).
  for link in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep -E '^(docker0|br-[0-9a-f]+|veth[0-9a-f]+)$'); do
    grep -qx "$link" "$STATE/before" || ip link delete "$link" 2>/dev/null || true
  done
  for tool in iptables ip6tables; do
    command -v "$tool" >/dev/null || continue
    for table in filter nat; do
      # Rules in the built-in chains that jump to dockerd's chains or name its bridges.
      "$tool-save" -t "$table" 2>/dev/null | grep -E '^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) ' \
        | grep -E 'DOCKER|docker0|br-[0-9a-f]+' | while read -r rule; do
          eval "$tool -t $table ${rule/#-A/-D}" 2>/dev/null || true
        done
      for chain in "${DOCKER_CHAINS[@]}"; do
        "$tool" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in "${DOCKER_CHAINS[@]}"; do
        "$tool" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
    # dockerd sets FORWARD's policy to DROP when it turns ip_forward on: put the policies back.
    for chain in INPUT FORWARD OUTPUT; do
      "$tool" -t filter -P "$chain" "$(policy_before "$tool-save" filter "$chain")" 2>/dev/null || true
    done
  done
}

# A built-in chain's policy in the recorded state; ACCEPT where the table was not there.
policy_before() {
  awk -v dump="# $1" -v table="*$2" -v chain=":$3" '
    /^# / { in_dump = ($0 == dump); in_table = 0; next }
    in_dump && /^\*/ { in_table = ($0 == table); next }
    in_dump && in_table && $1 == chain { policy = $2 }
    END { print (policy == "" ? "ACCEPT" : policy) }' "$STATE/before"
}

stop_dockerd() {
  [ -n "$DOCKERD_PID" ] || return 0
  stop_private_dockerd "$DOCKERD_PID" "$S"
}

teardown() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  phase "teardown"
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    [ "$status" = 0 ] || { log "dockerd log, last lines:"; tail -5 "$S/dockerd.log"; }
    timeout 120 docker-compose -p "$PROJECT" -f "$ROOT/docker-compose.yml" down -v --rmi local --remove-orphans >/dev/null 2>&1
    docker image rm -f "$IMAGE" >/dev/null 2>&1
    [ "$MADE_BASE_IMAGE" = yes ] && docker image rm -f "$BASE_IMAGE" >/dev/null 2>&1
  fi
  stop_dockerd
  log "dockerd stopped"
  # Only what our dockerd made: with no dockerd of ours, leave the machine alone.
  if [ -n "$DOCKERD_PID" ] && [ -f "$STATE/before" ]; then
    remove_docker_network_leftovers
    sysctl -qw "net.ipv4.ip_forward=$(sed -n 's/^# ip_forward //p' "$STATE/before")"
  fi
  finish_teardown "$status"
}

main() {
  trap teardown EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  install_packages
  record_machine_state
  start_dockerd
  make_base_image "$S"
  prepare_work_tree
  build_image
  if [ "$BUILD_ONLY" = yes ]; then
    log "--build-only: not starting the world"
    return
  fi
  [ -f scripts/service.ts ] || fail "scripts/service.ts does not exist yet: the image builds, but there is no service to run"
  if [ "$FULL_RUN" = yes ]; then run_world; fi
  if [ "$KILL_TEST" = yes ]; then kill_test; fi
  if [ "$SWARM_TEST" = yes ]; then swarm_phase; fi
  if [ "${#FAILURES[@]}" -gt 0 ]; then exit 1; fi
}

main
