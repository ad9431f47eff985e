#!/usr/bin/env bash
# Cached product reads with wrk (Debian package `wrk`, installed here if missing: a load
# generator for this benchmark only, not a dependency of the service). Starts the local stack
# and an `orders api` of its own on 127.0.0.1:${BENCH_PORT:-18090}, creates one product, warms
# its cache, then measures GET /api/products/{id} and, as the HTTP ceiling, GET /health.
# Usage: bench/read.sh [connections=64] [seconds=20] [threads=1]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Admin routes are closed without a token (SPEC): one for this run, for the product set-up.
export ADMIN_TOKEN=${ADMIN_TOKEN:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
connections=${1:-64} seconds=${2:-20} threads=${3:-1}
port=${BENCH_PORT:-18090}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
"$root/scripts/build.sh" >/dev/null
eval "$("$root/scripts/stack.sh" start)"
"$root/build/orders" migrate >/dev/null

"$root/build/orders" api --port "$port" >"${TMPDIR:-/tmp}/bench-read-api.log" 2>&1 &
api=$!
trap 'kill "$api" 2>/dev/null; wait "$api" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

id=$(curl -sf -X POST "http://127.0.0.1:$port/api/products" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $ADMIN_TOKEN" \
  -d '{"name":"Benchmark Sneaker","price":199.99,"stock":1000000,"maxPerUser":2}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
curl -sf "http://127.0.0.1:$port/api/products/$id" >/dev/null  # warm the cache

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%FT%TZ)"
echo "== cached GET /api/products/{id}: wrk -t$threads -c$connections -d${seconds}s --latency"
wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port/api/products/$id"
echo "== HTTP ceiling, GET /health: wrk -t$threads -c$connections -d${seconds}s --latency"
wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port/health"
curl -sf "http://127.0.0.1:$port/metrics" | grep -E '^(orders_cache_requests_total|orders_db_loads_total)'
