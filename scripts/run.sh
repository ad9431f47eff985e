#!/usr/bin/env bash
# The run command (README): installs what is missing, builds, starts a local PostgreSQL,
# Redis and RabbitMQ under .local/ (unless DATABASE_URL, REDIS_URL and RABBITMQ_URL all point
# elsewhere), migrates, seeds, and runs the API with two workers in the foreground.
# Ctrl-C stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
orders="${BUILD_DIR:-$root/build}/orders"

started_stack=0
if [[ -z ${DATABASE_URL:-} || -z ${REDIS_URL:-} || -z ${RABBITMQ_URL:-} ]]; then
  # URLs the caller gave win over the local stack's.
  given_db=${DATABASE_URL:-} given_redis=${REDIS_URL:-} given_amqp=${RABBITMQ_URL:-}
  eval "$("$root/scripts/stack.sh" start)"
  started_stack=1
  export DATABASE_URL=${given_db:-$DATABASE_URL} REDIS_URL=${given_redis:-$REDIS_URL}
  export RABBITMQ_URL=${given_amqp:-$RABBITMQ_URL}
fi

"$orders" migrate
"$orders" seed

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo "run.sh: stopping" >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((started_stack)); then "$root/scripts/stack.sh" stop; fi
}
trap stop_all INT TERM EXIT

"$orders" api "$@" &
pids+=($!)
"$orders" worker &
pids+=($!)
"$orders" worker &
pids+=($!)

echo "run.sh: API on http://${HOST:-127.0.0.1}:${PORT:-8080} with two workers; Ctrl-C stops everything" >&2
# When any of them exits (a crash, or Ctrl-C), stop the rest.
wait -n "${pids[@]}" || true
