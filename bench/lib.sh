# Sourced by the bench/*.sh that run against a whole service: the set-up they share.
# Sets root, port (BENCH_PORT, default 18090), orders, url, redis_port; exports ADMIN_TOKEN (a
# fresh one unless given: admin routes are closed without a token) and the local stack's URLs;
# builds, starts the stack (scripts/stack.sh) and migrates. bench_start_service NAME starts
# `orders api` and two workers with LOG_LEVEL=warn (logs in $TMPDIR/bench-NAME-*.log), waits for
# /health, and sets api_pid and worker_pids. On exit everything started is stopped and the
# folders in bench_temp_dirs removed.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ADMIN_TOKEN=${ADMIN_TOKEN:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
port=${BENCH_PORT:-18090}
orders=$root/build/orders
url=http://127.0.0.1:$port

"$root/scripts/build.sh" >/dev/null
eval "$("$root/scripts/stack.sh" start 2>/dev/null)"
"$orders" migrate >/dev/null
redis_port=${REDIS_URL##*:}; redis_port=${redis_port%%/*}

pids=() bench_temp_dirs=()
bench_stop_all() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for p in "${bench_temp_dirs[@]}"; do rm -rf "$p"; done
}
trap bench_stop_all EXIT

bench_start_service() {
  local log=${TMPDIR:-/tmp}/bench-$1
  LOG_LEVEL=warn "$orders" api --port "$port" >"$log-api.log" 2>&1 & api_pid=$! pids+=($!)
  worker_pids=()
  LOG_LEVEL=warn "$orders" worker >"$log-worker1.log" 2>&1 & worker_pids+=($!) pids+=($!)
  LOG_LEVEL=warn "$orders" worker >"$log-worker2.log" 2>&1 & worker_pids+=($!) pids+=($!)
  for _ in $(seq 100); do curl -sf "$url/health" >/dev/null && break; sleep 0.1; done
}
