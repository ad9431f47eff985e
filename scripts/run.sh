#!/usr/bin/env bash
# The run command (README): installs what is missing, builds, starts a local PostgreSQL,
# Redis and RabbitMQ under .local/ (unless DATABASE_URL, REDIS_URL and RABBITMQ_URL all point
# elsewhere), migrates, seeds, and runs the API with two workers in the foreground.
# Ctrl-C (SIGINT) or SIGTERM stops everything it started, also during the start-up.
#
# HOST, PORT: the API's address (default 127.0.0.1:8080). WORKER_METRICS_PORTS: the two
# workers' /metrics ports (default PORT+1 and PORT+2). STACK_DIR, STACK_PORT_BASE: the local
# stack's --dir and --port-base (default: stack.sh's). ORDERS_SKIP_BUILD=1 skips install-deps
# and the build, and ORDERS_BINARY names the binary (default build/orders). ADMIN_TOKEN: the
# admin routes' bearer token; unset (and no ADMIN_TOKEN_FILE), one is generated for this run and
# printed, as admin routes are closed without one. Extra arguments go to `orders api`.
#
#   scripts/run.sh --cluster [API ARGS...]
# runs on `scripts/stack.sh start --cluster` (Redis Cluster of 3 masters + 3 replicas, three
# RabbitMQ nodes, one PostgreSQL; STACK_DIR defaults to .local/cluster-stack and the port base
# to 19400, beside the single stack and clear of its cluster buses at +10000) with two API processes (PORT and PORT+3) and two workers.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cluster=0
if [[ ${1:-} == --cluster ]]; then
  cluster=1
  shift
  STACK_DIR=${STACK_DIR:-$root/.local/cluster-stack} STACK_PORT_BASE=${STACK_PORT_BASE:-19400}
fi

if [[ ${ORDERS_SKIP_BUILD:-0} != 1 ]]; then
  "$root/scripts/install-deps.sh"
  "$root/scripts/build.sh"
fi
orders=${ORDERS_BINARY:-${BUILD_DIR:-$root/build}/orders}

host=${HOST:-127.0.0.1} port=${PORT:-8080}
read -r -a worker_ports <<<"${WORKER_METRICS_PORTS:-$((port + 1)) $((port + 2))}"
if ((${#worker_ports[@]} != 2)); then
  echo "run.sh: WORKER_METRICS_PORTS must name two ports, got '${WORKER_METRICS_PORTS:-}'" >&2
  exit 2
fi
stack_dir_args=()
if [[ -n ${STACK_DIR:-} ]]; then stack_dir_args=(--dir "$STACK_DIR"); fi
stack_start_args=("${stack_dir_args[@]}")
if [[ -n ${STACK_PORT_BASE:-} ]]; then stack_start_args+=(--port-base "$STACK_PORT_BASE"); fi
if ((cluster)); then stack_start_args+=(--cluster); fi

started_stack=0 step_pid='' pids=()
stack_env=$(mktemp "${TMPDIR:-/tmp}/orders-run-env.XXXXXX")

# shellcheck disable=SC2317 # wait_gone and stop_all run from the traps
# Wait for PID until it is gone: a trapped signal ends `wait` early, and the clean-up must
# still see its step through.
wait_gone() {
  while kill -0 "$1" 2>/dev/null; do wait "$1" 2>/dev/null || true; done
}

# Set-up steps (stack start, migrate, seed) run in the background and are waited for: bash
# runs a trap only once the foreground command has returned, so a foreground step would hold
# Ctrl-C back for as long as it runs (a stack start: minutes), and stop_all could not stop it.
run_step() {
  local rc=0
  "$@" &
  step_pid=$!
  wait "$step_pid" || rc=$?
  step_pid=
  return "$rc"
}

# shellcheck disable=SC2317
# Installed before anything starts: whatever is interrupted (a step of the start-up, or the
# running API and workers) is stopped, then the stack if this script started it.
stop_all() {
  local rc=$1 pid
  trap - EXIT
  # A second Ctrl-C must not leave half the stack running; every step below is bounded.
  trap 'echo "run.sh: still stopping, please wait" >&2' INT TERM
  echo "run.sh: stopping" >&2
  # A stack start stops the servers it launched when it gets SIGTERM (scripts/stack.sh).
  if [[ -n $step_pid ]]; then
    kill -TERM "$step_pid" 2>/dev/null || true
    wait_gone "$step_pid"
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait_gone "$pid"; done
  if ((started_stack)); then
    # In the background: a foreground child would get the terminal's next Ctrl-C too.
    "$root/scripts/stack.sh" stop "${stack_dir_args[@]}" &
    wait_gone "$!"
  fi
  rm -f "$stack_env"
  exit "$rc"
}
trap 'stop_all 130' INT
trap 'stop_all 143' TERM
trap 'stop_all $?' EXIT

if ((cluster)) || [[ -z ${DATABASE_URL:-} || -z ${REDIS_URL:-} || -z ${RABBITMQ_URL:-} ]]; then
  # URLs the caller gave win over the local stack's.
  given_db=${DATABASE_URL:-} given_redis=${REDIS_URL:-} given_amqp=${RABBITMQ_URL:-}
  started_stack=1
  # A failed start stops here (`eval "$(stack.sh start)"` would run on with no URLs set).
  if ! run_step "$root/scripts/stack.sh" start "${stack_start_args[@]}" >"$stack_env"; then
    echo "run.sh: the local stack did not start (output above)" >&2
    exit 1
  fi
  # shellcheck source=/dev/null # the export lines of stack.sh start
  source "$stack_env"
  if ((!cluster)); then
    export DATABASE_URL=${given_db:-$DATABASE_URL} REDIS_URL=${given_redis:-$REDIS_URL}
    export RABBITMQ_URL=${given_amqp:-$RABBITMQ_URL}
  fi
fi

run_step "$orders" migrate
run_step "$orders" seed

# Admin routes (catalog writes, marking an order PAID) answer 403 without a token: a fresh one
# for this run, through the environment (a flag would show in `ps`).
if [[ -z ${ADMIN_TOKEN:-} && -z ${ADMIN_TOKEN_FILE:-} ]]; then
  ADMIN_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  export ADMIN_TOKEN
fi

"$orders" api "$@" &
pids+=($!)
if ((cluster)); then
  # A second API process: the load balancer in front of a real deployment spreads over both.
  PORT=$((port + 3)) "$orders" api "$@" &
  pids+=($!)
fi
"$orders" worker --metrics-port "${worker_ports[0]}" &
pids+=($!)
"$orders" worker --metrics-port "${worker_ports[1]}" &
pids+=($!)

worker_host=${WORKER_METRICS_HOST:-127.0.0.1}
if ((cluster)); then
  cat >&2 <<EOF
run.sh: on the clusters of $STACK_DIR: REDIS_CLUSTER_NODES=$REDIS_CLUSTER_NODES
run.sh:   RABBITMQ_URL=$RABBITMQ_URL
run.sh:   a second API on http://$host:$((port + 3))
EOF
fi
cat >&2 <<EOF
run.sh: API on http://$host:$port with two workers; Ctrl-C stops everything
run.sh:   API             http://$host:$port  (GET /api/products, /health)
run.sh:   metrics         http://$host:$port/metrics
run.sh:   API docs        http://$host:$port/api-docs
run.sh:   worker metrics  http://$worker_host:${worker_ports[0]}/metrics  http://$worker_host:${worker_ports[1]}/metrics
run.sh:   admin token     export ADMIN_TOKEN=${ADMIN_TOKEN:-"(from $ADMIN_TOKEN_FILE)"}
run.sh:                   curl -H "Authorization: Bearer \$ADMIN_TOKEN" ...  (catalog writes, PUT /api/orders/{id}/status)
EOF
# When any of them exits (a crash, or Ctrl-C), stop the rest.
rc=0
wait -n "${pids[@]}" || rc=$?
exit "$rc"
