#!/usr/bin/env bash
# Worker drain rate: builds a backlog of order.created events with no worker running (purchases
# through the API for SECONDS with wrk), then starts two workers and times how long they take
# to persist the backlog into PostgreSQL.
#   bench/drain.sh [seconds of purchasing=20] [connections=256]
# DRAIN_DATABASE_URL: run against that database instead of the local stack's (bench/drain_at_scale.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Admin routes are closed without a token (SPEC): one for this run, for the product set-up.
export ADMIN_TOKEN=${ADMIN_TOKEN:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
seconds=${1:-20} connections=${2:-256}
port=${BENCH_PORT:-18090}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
"$root/scripts/build.sh" >/dev/null
eval "$("$root/scripts/stack.sh" start)"
export DATABASE_URL=${DRAIN_DATABASE_URL:-$DATABASE_URL}
"$root/build/orders" migrate >/dev/null

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
"$root/build/orders" api --port "$port" >"${TMPDIR:-/tmp}/bench-drain-api.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

export PRODUCT_ID
PRODUCT_ID=$(curl -sf -X POST "http://127.0.0.1:$port/api/products" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $ADMIN_TOKEN" \
  -d '{"name":"Drain","price":9.99,"stock":100000000}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
wrk -t1 -c"$connections" -d"${seconds}s" --timeout 5s -s "$root/bench/purchase.lua" "http://127.0.0.1:$port" >/dev/null
sleep 1  # let the requests still in flight when wrk stops finish
accepted=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^orders_accepted_total /{print $2}')
count() { psql -tAq "$DATABASE_URL" -c "SELECT count(*) FROM order_items WHERE product_id = '$PRODUCT_ID'"; }
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%FT%TZ)"
# #13's "accepted orders/s, workers started after the firing": the API alone with the broker
# and Redis, no PostgreSQL writes beside it.
python3 -c "print(f'== accepted with no worker running: {$accepted:,.0f} in ${seconds} s of purchasing: {$accepted/$seconds:,.0f} orders/s')"
echo "== backlog: $accepted accepted orders for one product; starting 2 workers"

start=$(date +%s.%N)
for _ in 1 2; do "$root/build/orders" worker >>"${TMPDIR:-/tmp}/bench-drain-workers.log" 2>&1 & pids+=($!); done
deadline=$(( $(date +%s) + 300 ))
while (( $(count) < accepted )) && (( $(date +%s) < deadline )); do sleep 0.2; done
end=$(date +%s.%N)
persisted=$(count)
python3 -c "d=$end-$start; print(f'== persisted {$persisted} of {$accepted} in {d:.2f} s: {$persisted/d:,.0f} orders/s (includes worker start-up)')"
