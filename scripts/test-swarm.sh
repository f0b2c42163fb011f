#!/usr/bin/env bash
# npm run test:swarm, and the swarm phase of npm run test:compose: docker-compose.yml deployed with
# `docker stack deploy` on a Docker Swarm of two nodes, each a private dockerd in a network
# namespace of its own on this machine, and the machine left as it was found. Not part of
# `npm test` (it needs root and a few minutes).
#
#   bash scripts/test-swarm.sh [--image FILE] [--no-run] [--no-kill-test]
#
# --image FILE: ffa-world:local as `docker save` wrote it (test-compose.sh passes its build);
# without it, node A makes the offline base image and builds. --no-run skips the full run and
# --no-kill-test the kill test.
#
# Phases: record the machine's links, network namespaces, iptables and ip_forward → two network
# namespaces joined by a veth pair ($ADDR_A and $ADDR_B: RFC 2544's benchmarking range, which no
# network and no Docker address pool uses) → a dockerd in each (node A, node B) → the image on both
# nodes (`docker save | docker load`: stack deploy ignores `build:`, every node needs the image) →
# `docker swarm init` on A, `docker swarm join` on B → the world: `docker stack deploy`, guests
# scaled to $GUESTS with `docker service scale`, spread over both nodes, to the orchestrator's
# verdict (its exit-status file, and its task's exit code) → the kill test: B's guests killed
# mid-run through B's engine; their VMs destroyed, the platform and A's guests still up, the
# verdict read the same way → tear down ALWAYS (trap EXIT: the stack, the swarm, the engines, the
# namespaces and their links), and fail if the machine is not as it was found.
#
# Settings (environment): FFA_TEST_GUESTS (default 4; at least 2, one a node),
# FFA_TEST_UP_TIMEOUT_S (default 600: each run's bound), FFA_TEST_KILL_MARK (the orchestrator's
# log text after which B's guests are killed, default "the scenario starts"), FFA_UID (the
# containers' user, default 1000).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

STACK=ffa
IMAGE=ffa-world:local
BASE_IMAGE=node:20-slim
GUESTS=${FFA_TEST_GUESTS:-4}
UP_TIMEOUT_S=${FFA_TEST_UP_TIMEOUT_S:-600}
KILL_MARK=${FFA_TEST_KILL_MARK:-the scenario starts}
KILL_WAIT_S=120
# no-lost's bound on a notification's lateness (FFA_LIVENESS_BOUND_MS; 500 ms by default). Two
# engines and nine containers on a 2-core machine, with every hop across nodes through VXLAN,
# put the default world's end-to-end p99 near 0.8 s here, and a kill stalls every container
# for a moment more: 2 s, as compose's kill test uses, still catches a notification that never comes.
LIVENESS_BOUND_MS=2000
SWARM_WAIT_S=120
STACK_RM_WAIT_S=180
export FFA_UID=${FFA_UID:-1000}
# The underlay: one /24 between the two namespaces. Names carry this shell's pid, so two runs
# never share one; link names stay within the kernel's 15 characters.
ADDR_A=198.18.0.1
ADDR_B=198.18.0.2
NS_A="ffa-swarm-$$-a"
NS_B="ffa-swarm-$$-b"
VETH_A="ffasw$$a"
VETH_B="ffasw$$b"

IMAGE_TAR=""
FULL_RUN=yes
KILL_TEST=yes
usage() { echo "usage: bash scripts/test-swarm.sh [--image FILE] [--no-run] [--no-kill-test]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --image) [ $# -ge 2 ] || usage; IMAGE_TAR=$2; shift ;;
    --no-run) FULL_RUN=no ;;
    --no-kill-test) KILL_TEST=no ;;
    *) usage ;;
  esac
  shift
done
[ "$GUESTS" -ge 2 ] 2>/dev/null || { echo "FFA_TEST_GUESTS=$GUESTS: at least 2 (a guest on each node)" >&2; exit 2; }
[ -z "$IMAGE_TAR" ] || [ -f "$IMAGE_TAR" ] || { echo "--image $IMAGE_TAR: no such file" >&2; exit 2; }

# shellcheck source=scripts/test-support/docker-test-lib.sh
source "$ROOT/scripts/test-support/docker-test-lib.sh"
# Set as the phases go, read by teardown (beside the library's own).
MADE_NETNS=no
PID_A=""
PID_B=""

# A command against node a's or node b's engine: `on a docker …`.
on() {
  local node=$1
  shift
  DOCKER_HOST="unix://$S/$node/docker.sock" "$@"
}

# ---------------------------------------------------------------------------------------------
# Phase: the machine, and two hosts on it

preflight() {
  phase "preflight"
  [ "$(id -u)" = 0 ] || fail "run as root: it makes network namespaces and starts Docker engines"
  local tool
  for tool in dockerd docker ip nsenter unshare iptables-save busybox; do
    command -v "$tool" >/dev/null || fail "$tool is missing (npm run test:compose installs docker.io, docker-compose, busybox-static)"
  done
  docker stack deploy --help >/dev/null 2>&1 || fail "this docker CLI has no 'stack deploy'"
  log "dockerd: $(dockerd --version); client: $(docker --version)"
}

record_machine_state() {
  phase "recording the machine's state"
  STATE=$(mktemp -d /tmp/ffa-swarm-state.XXXXXX)
  machine_state >"$STATE/before"
  log "$(grep -c . "$STATE/before") lines recorded (links, network namespaces, ip_forward, iptables)"
}

# Two namespaces, one veth pair between them: two hosts of one /24. Docker's own links, bridges,
# VXLAN devices and iptables rules are all made inside them, and go when they are deleted.
make_hosts() {
  phase "two hosts: network namespaces $NS_A and $NS_B, joined by a veth pair"
  S=$(mktemp -d /tmp/ffa-swarm.XXXXXX)
  MADE_NETNS=yes
  ip netns add "$NS_A"
  ip netns add "$NS_B"
  ip link add "$VETH_A" type veth peer name "$VETH_B"
  ip link set "$VETH_A" netns "$NS_A"
  ip link set "$VETH_B" netns "$NS_B"
  ip -n "$NS_A" addr add "$ADDR_A/24" dev "$VETH_A"
  ip -n "$NS_B" addr add "$ADDR_B/24" dev "$VETH_B"
  local ns
  for ns in "$NS_A" "$NS_B"; do
    ip -n "$ns" link set lo up
  done
  ip -n "$NS_A" link set "$VETH_A" up
  ip -n "$NS_B" link set "$VETH_B" up
  ip netns exec "$NS_A" busybox ping -c 1 -W 5 "$ADDR_B" >/dev/null || fail "$NS_A cannot reach $ADDR_B over the veth pair"
  log "node a: $ADDR_A in $NS_A; node b: $ADDR_B in $NS_B (ping answered)"
}

start_nodes() {
  phase "a private dockerd on each host"
  start_private_dockerd "$S/a" "$NS_A" ffa-node-a
  PID_A=$DOCKERD_STARTED_PID
  start_private_dockerd "$S/b" "$NS_B" ffa-node-b
  PID_B=$DOCKERD_STARTED_PID
  log "node a: dockerd pid $PID_A (unix://$S/a/docker.sock); node b: dockerd pid $PID_B (unix://$S/b/docker.sock)"
}

# ---------------------------------------------------------------------------------------------
# Phase: the image on every node

load_image() {
  if [ -n "$IMAGE_TAR" ]; then
    phase "the image on both nodes: docker load of $IMAGE_TAR"
    on a docker load -q -i "$IMAGE_TAR" >/dev/null
    on b docker load -q -i "$IMAGE_TAR" >/dev/null
  else
    DOCKER_HOST="unix://$S/a/docker.sock" make_base_image "$S"
    phase "docker build on node a, then docker save | docker load into node b"
    [ -d node_modules ] || fail "no node_modules: run npm ci first (the image copies the host's node_modules)"
    DOCKER_HOST="unix://$S/a/docker.sock" build_image_from_tar >"$S/build.log" 2>&1 || { tail -30 "$S/build.log"; fail "docker build failed"; }
    on a docker save "$IMAGE" | on b docker load -q >/dev/null
  fi
  local node
  for node in a b; do
    on "$node" docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "node $node has no $IMAGE"
  done
  log "$IMAGE on both nodes: $(on b docker image inspect -f '{{.Id}}' "$IMAGE" | cut -c1-19)"
}

# ---------------------------------------------------------------------------------------------
# Phase: the swarm

form_swarm() {
  phase "swarm: init on node a, join from node b"
  on a docker swarm init --advertise-addr "$ADDR_A" --listen-addr "$ADDR_A:2377" >/dev/null
  local token
  token=$(on a docker swarm join-token -q worker)
  timeout "$SWARM_WAIT_S" env DOCKER_HOST="unix://$S/b/docker.sock" \
    docker swarm join --token "$token" --advertise-addr "$ADDR_B" --listen-addr "$ADDR_B:2377" "$ADDR_A:2377" >/dev/null \
    || fail "node b could not join the swarm at $ADDR_A:2377"
  local deadline=$((SECONDS + SWARM_WAIT_S)) ready
  until ready=$(on a docker node ls --format '{{.Hostname}} {{.Status}}' | grep -c ' Ready$') && [ "$ready" = 2 ]; do
    [ "$SECONDS" -lt "$deadline" ] || { on a docker node ls; fail "the swarm does not have 2 ready nodes after ${SWARM_WAIT_S}s"; }
    sleep 1
  done
  log "$(on a docker node ls --format '{{.Hostname}}: {{.Status}} {{.Availability}} {{.ManagerStatus}}' | paste -sd ';' | sed 's/;/; /g')"
}

# The services' credentials files: the deploy makes each a swarm secret (readable in the
# containers whoever owns the files).
prepare_credentials() {
  if [ ! -d compose/credentials ]; then
    node --import tsx scripts/compose-credentials.ts >/dev/null
    MADE_CREDENTIALS=yes
    log "made compose/credentials/ for this run (removed at the end)"
  fi
}

# ---------------------------------------------------------------------------------------------
# The stack

# Deploys the stack with the scenario $1 and the report folder $2, then scales the guests.
deploy_stack() {
  local scenario=$1 out=$2
  rm -rf "${ROOT:?}/$out"
  install -d -o "$FFA_UID" -g "$FFA_UID" "$ROOT/$out"
  # --resolve-image never: no registry to ask for the image's digest; every node has it.
  FFA_SCENARIO=$scenario FFA_OUT_DIR="$ROOT/$out" FFA_MIN_GUESTS=$GUESTS FFA_LIVENESS_BOUND_MS=$LIVENESS_BOUND_MS \
    on a docker stack deploy --resolve-image never -c docker-compose.yml "$STACK" >"$S/deploy.log" 2>&1 \
    || { cat "$S/deploy.log"; fail "docker stack deploy failed"; }
  log "stack deploy: $(grep -i 'ignoring' "$S/deploy.log" | paste -sd ';' || true)"
  on a docker service scale --detach "${STACK}_guest=$GUESTS" >/dev/null 2>&1 || fail "docker service scale ${STACK}_guest=$GUESTS failed"
  log "scaled ${STACK}_guest to $GUESTS (deploy.replicas says 2)"
}

# The running containers of a service on one node: `containers_of b guest`.
containers_of() {
  on "$1" docker ps -q --filter "label=com.docker.swarm.service.name=${STACK}_$2"
}

# Why the stack's tasks are not running: each task's node, state and error.
explain_tasks() {
  on a docker stack ps "$STACK" --no-trunc --format '{{.Name}} on {{.Node}}: {{.CurrentState}} {{.Error}}' 2>&1 | head -30 | sed 's/^/    /'
}

# Every service's log (docker service logs: from whichever node ran it) into $1/swarm-logs/,
# and each service's last plain-text lines (refusals, failures: the rest are JSON lines).
save_service_logs() {
  local dir="$ROOT/$1/swarm-logs" service
  mkdir -p "$dir"
  for service in gic spmc spmd hypervisor guest orchestrator; do
    timeout 60 env DOCKER_HOST="unix://$S/a/docker.sock" docker service logs --raw "${STACK}_$service" >"$dir/$service.log" 2>&1
    grep -E '^[^{]' "$dir/$service.log" | cut -c1-300 | tail -"$([ "$service" = orchestrator ] && echo 25 || echo 3)" | sed "s/^/    $service: /" || true
  done
  log "service logs: $dir/"
}

# Waits (bounded) until every guest task runs, and says where they run; both nodes must have some.
wait_guests_running() {
  local deadline=$((SECONDS + UP_TIMEOUT_S)) on_a on_b
  while :; do
    on_a=$(containers_of a guest | grep -c . || true)
    on_b=$(containers_of b guest | grep -c . || true)
    [ $((on_a + on_b)) -lt "$GUESTS" ] || break
    [ "$SECONDS" -lt "$deadline" ] || { explain_tasks; fail "only $((on_a + on_b)) of $GUESTS guests run after ${UP_TIMEOUT_S}s"; }
    sleep 1
  done
  log "guests: $on_a on node a, $on_b on node b"
  if [ "$on_a" = 0 ] || [ "$on_b" = 0 ]; then fail "the guests did not spread over both nodes ($on_a on a, $on_b on b)"; fi
}

# How many of the credentials files' keys (their strings of 16 characters or more) the text on
# stdin holds.
# shellcheck disable=SC2016 # the node -e program is JavaScript in single quotes
keys_found_in() {
  node -e '
    const { readdirSync, readFileSync } = require("fs");
    const keys = new Set();
    const collect = (value) => {
      if (typeof value === "string" && value.length >= 16) keys.add(value);
      else if (typeof value === "object" && value !== null) Object.values(value).forEach(collect);
    };
    for (const file of readdirSync(process.argv[1])) collect(JSON.parse(readFileSync(`${process.argv[1]}/${file}`, "utf8")));
    const text = readFileSync(0, "utf8");
    console.log([...keys].filter((key) => text.includes(key)).length);
  ' "$ROOT/compose/credentials"
}

# What the swarm made of the file: an overlay network across the nodes, the credentials as
# secrets (no key in a service's spec), and the order in which the containers started (no
# depends_on on a swarm: each service waits for its peers itself).
report_stack_facts() {
  local network secrets leaked
  network=$(on a docker network inspect -f '{{.Driver}} {{.Scope}}' "${STACK}_ffa")
  [ "$network" = "overlay swarm" ] || fail "network ${STACK}_ffa is '$network', not an overlay"
  on b docker network inspect "${STACK}_ffa" >/dev/null 2>&1 || fail "node b has no ${STACK}_ffa"
  secrets=$(on a docker secret ls --format '{{.Name}}' | grep -c "^${STACK}_ffa-" || true)
  [ "$secrets" = 6 ] || fail "expected 6 credentials secrets, found $secrets"
  leaked=$(on a docker service ls -q --filter "label=com.docker.stack.namespace=$STACK" \
    | xargs -r env DOCKER_HOST="unix://$S/a/docker.sock" docker service inspect | keys_found_in)
  [ "$leaked" = 0 ] || fail "$leaked keys of the credentials files in the services' specs"
  log "network ${STACK}_ffa: $network, on both nodes; 6 credentials secrets, and none of their keys in the services' specs"
  log "containers in the order they started (the swarm ignores depends_on):"
  { on a docker ps -q | xargs -r env DOCKER_HOST="unix://$S/a/docker.sock" docker inspect -f '{{.State.StartedAt}} a {{index .Config.Labels "com.docker.swarm.service.name"}}'
    on b docker ps -q | xargs -r env DOCKER_HOST="unix://$S/b/docker.sock" docker inspect -f '{{.State.StartedAt}} b {{index .Config.Labels "com.docker.swarm.service.name"}}'
  } | sort | awk '{ printf "%s%s on %s at %s", (NR > 1 ? ", " : "    "), $3, $2, substr($1, 12, 12) } END { print "" }'
}

# The orchestrator's verdict, read as docs/beyond-one-machine.md says: its exit-status file in the
# report folder $1 (bounded wait), checked against its task's exit code. Sets EXIT_STATUS.
EXIT_STATUS=""
wait_verdict() {
  local out=$1 deadline=$((SECONDS + UP_TIMEOUT_S)) state
  until [ -f "$ROOT/$out/exit-status" ]; do
    state=$(on a docker service ps "${STACK}_orchestrator" --format '{{.CurrentState}}' | head -1)
    case "$state" in
      Failed* | Rejected* | Complete* | Shutdown*)
        sleep 2
        [ -f "$ROOT/$out/exit-status" ] || { explain_tasks; save_service_logs "$out"; fail "the orchestrator's task ended ($state) without writing $out/exit-status"; } ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || { explain_tasks; save_service_logs "$out"; fail "no verdict in $out/exit-status within ${UP_TIMEOUT_S}s"; }
    sleep 1
  done
  EXIT_STATUS=$(cat "$ROOT/$out/exit-status")
  # The task's state and exit code read together: its exit code reads 0 while it still runs.
  local task ended state_and_code
  task=$(on a docker service ps -q "${STACK}_orchestrator" | head -1)
  deadline=$((SECONDS + 60))
  until state_and_code=$(on a docker inspect -f '{{.Status.State}} {{.Status.ContainerStatus.ExitCode}}' "$task") \
    && case "$state_and_code" in complete* | failed*) true ;; *) false ;; esac; do
    [ "$SECONDS" -lt "$deadline" ] || fail "the orchestrator's task did not end within 60 s of its verdict ($state_and_code)"
    sleep 1
  done
  ended=${state_and_code#* }
  [ "$ended" = "$EXIT_STATUS" ] || fail "exit-status says $EXIT_STATUS, the task's exit code is $ended"
  log "verdict: exit-status $EXIT_STATUS, the task's exit code $ended ($(on a docker service ps "${STACK}_orchestrator" --format '{{.CurrentState}}' | head -1))"
  save_service_logs "$out"
}

# Removes the stack and waits (bounded) until its containers and network are gone from both nodes.
remove_stack() {
  on a docker stack rm "$STACK" >/dev/null 2>&1 || true
  local deadline=$((SECONDS + STACK_RM_WAIT_S)) node left
  for node in a b; do
    until left=$(on "$node" docker ps -aq --filter "label=com.docker.stack.namespace=$STACK" | grep -c . || true) && [ "$left" = 0 ] \
      && ! on "$node" docker network inspect "${STACK}_ffa" >/dev/null 2>&1; do
      [ "$SECONDS" -lt "$deadline" ] || { log "node $node: the stack's containers or network are still there after ${STACK_RM_WAIT_S}s"; return 1; }
      sleep 1
    done
  done
}

# ---------------------------------------------------------------------------------------------
# Phase: the world, to the orchestrator's verdict

run_world() {
  phase "stack: the default world with $GUESTS guests over two nodes, to the orchestrator's verdict"
  local out=out/swarm-test
  deploy_stack scenarios/default-world.yaml "$out"
  wait_guests_running
  report_stack_facts
  wait_verdict "$out"
  local summary
  summary=$(print_summary "$out/summary.json") || fail "the orchestrator wrote no summary (exit-status $EXIT_STATUS)"
  VERDICT_LINES+=("swarm run: exit-status $EXIT_STATUS; $summary; report: $ROOT/$out/report.html")
  case "$EXIT_STATUS" in
    0 | 1) judge_run "swarm run" "$out/summary.json" ;;
    *) fail "swarm run: the orchestrator exited $EXIT_STATUS (2 = invalid input)" ;;
  esac
  remove_stack || fail "the stack did not go away"
}

# ---------------------------------------------------------------------------------------------
# Phase: node b's guests die mid-run

# How many records named $2 the hypervisor made, in the history $1.
# shellcheck disable=SC2016 # the node -e program is JavaScript in single quotes
hypervisor_records() {
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l !== "");
    const records = lines.map((l) => JSON.parse(l).event).filter((e) => e.type === "record" && e.component === "hypervisor" && e.data.event === process.argv[2]);
    console.log(records.length);
  ' "$1" "$2"
}

kill_test() {
  phase "kill test: node b's guests killed while the scenario runs"
  local out=out/swarm-test-kill id deadline victims killed left
  deploy_stack scenarios/compose/guest-leaves.yaml "$out"
  wait_guests_running
  victims=$(containers_of b guest)
  killed=$(printf '%s\n' "$victims" | grep -c . || true)
  deadline=$((SECONDS + KILL_WAIT_S))
  until id=$(containers_of a orchestrator | head -1) && [ -n "$id" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { explain_tasks; fail "no orchestrator container on node a within ${KILL_WAIT_S}s"; }
    sleep 0.5
  done
  # Kill when the orchestrator says the scenario starts, so the guests die mid-run; if that line
  # never comes, kill anyway, and say so.
  left=$((deadline - SECONDS))
  [ "$left" -ge 1 ] || left=1
  if ! DOCKER_HOST="unix://$S/a/docker.sock" follow_log_until "$id" "$KILL_MARK" "$left"; then
    [ -f "$ROOT/$out/exit-status" ] && fail "the orchestrator finished before '$KILL_MARK'"
    log "no '$KILL_MARK' from the orchestrator within ${KILL_WAIT_S}s: killing now"
  fi
  log "killing node b's $killed guest containers through node b's engine"
  printf '%s\n' "$victims" | xargs -r env DOCKER_HOST="unix://$S/b/docker.sock" docker kill >/dev/null
  wait_verdict "$out"

  # The world stayed up: every platform task still runs, and so do node a's guests.
  local service state down=()
  for service in gic spmd spmc hypervisor; do
    state=$(on a docker service ps "${STACK}_$service" --filter desired-state=running --format '{{.CurrentState}}' | head -1)
    case "$state" in Running*) ;; *) down+=("$service ($state)") ;; esac
  done
  [ "${#down[@]}" = 0 ] || fail "the world went down with the guests: ${down[*]}"
  local running_a
  running_a=$(containers_of a guest | grep -c . || true)
  [ "$running_a" = $((GUESTS - killed)) ] || fail "expected node a's $((GUESTS - killed)) guests still running, found $running_a"

  # Every killed guest's VM was destroyed, and the result says so.
  local lost destroyed departures summary
  lost=$(hypervisor_records "$out/history.jsonl" guest-link-lost)
  destroyed=$(hypervisor_records "$out/history.jsonl" vm-destroyed)
  departures=$(node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); for (const d of s.departures ?? []) console.log(d)' "$out/summary.json")
  printf '%s\n' "$departures" | sed 's/^/    /'
  summary=$(print_summary "$out/summary.json" || echo "no summary")
  VERDICT_LINES+=("swarm kill test: exit-status $EXIT_STATUS; $summary; $killed guests killed on node b: guest-link-lost x$lost, vm-destroyed x$destroyed; platform up, $running_a guests running on node a")
  if [ "$lost" != "$killed" ] || [ "$destroyed" != "$killed" ]; then
    fail_later "swarm kill test: $killed guests killed, but guest-link-lost x$lost and vm-destroyed x$destroyed in the history"
  fi
  [ "$(printf '%s\n' "$departures" | grep -c 'went away (link lost): VM [0-9]* destroyed' || true)" = "$killed" ] \
    || fail_later "swarm kill test: the result does not report $killed VMs destroyed"
  case "$EXIT_STATUS" in
    0 | 1) judge_run "swarm kill test" "$out/summary.json" ;;
    *) fail "swarm kill test: the orchestrator exited $EXIT_STATUS (2 = invalid input)" ;;
  esac
  remove_stack || fail "the stack did not go away"
}

# ---------------------------------------------------------------------------------------------
# Teardown: always, whatever failed

teardown() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  phase "teardown"
  if [ -n "$PID_A" ] && kill -0 "$PID_A" 2>/dev/null; then
    [ "$status" = 0 ] || { log "node a's dockerd log, last lines:"; tail -5 "$S/a/dockerd.log"; }
    remove_stack
    [ "$MADE_BASE_IMAGE" = yes ] && on a docker image rm -f "$BASE_IMAGE" >/dev/null 2>&1
  fi
  local node pid
  for node in b a; do
    pid=$([ "$node" = a ] && echo "$PID_A" || echo "$PID_B")
    [ -n "$pid" ] || continue
    kill -0 "$pid" 2>/dev/null && timeout 60 env DOCKER_HOST="unix://$S/$node/docker.sock" docker swarm leave --force >/dev/null 2>&1
    stop_private_dockerd "$pid" "$S/$node"
  done
  [ -n "$PID_A$PID_B" ] && log "swarm left, dockerds stopped"
  # The namespaces take with them every link, bridge, VXLAN device and iptables rule made in them.
  if [ "$MADE_NETNS" = yes ]; then
    local ns
    for ns in "$NS_A" "$NS_B"; do
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
      ip netns del "$ns" 2>/dev/null
    done
    # A veth not yet moved into its namespace would still be here.
    ip link del "$VETH_A" 2>/dev/null
    log "network namespaces deleted"
  fi
  finish_teardown "$status"
}

main() {
  trap teardown EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  preflight
  record_machine_state
  make_hosts
  start_nodes
  load_image
  form_swarm
  prepare_credentials
  if [ "$FULL_RUN" = yes ]; then run_world; fi
  if [ "$KILL_TEST" = yes ]; then kill_test; fi
  if [ "${#FAILURES[@]}" -gt 0 ]; then exit 1; fi
}

main
