#!/usr/bin/env bash
# Flash-sale purchases with wrk until the `orders bench` tool exists (Benchmark issue).
# Starts the local stack and an `orders api` on 127.0.0.1:${BENCH_PORT:-18090}, creates one
# product with STOCK units, and fires POST /api/orders from a new user per request:
#   bench/purchase.sh [stock=10000] [connections=256] [seconds=20]
# With stock far below what arrives, most answers are "sold out" (409): decisions/s. With
# stock above it (e.g. 100000000), every answer is an accepted order: accepted/s.
# Prints the answers by status from /metrics, and redis-benchmark running the reservation
# script (EVALSHA, the sold-out path) on the same Redis as the ceiling.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Admin routes are closed without a token (SPEC): one for this run, for the product set-up.
export ADMIN_TOKEN=${ADMIN_TOKEN:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
stock=${1:-10000} connections=${2:-256} seconds=${3:-20}
port=${BENCH_PORT:-18090}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
"$root/scripts/build.sh" >/dev/null
eval "$("$root/scripts/stack.sh" start)"
"$root/build/orders" migrate >/dev/null
redis_port=${REDIS_URL##*:}; redis_port=${redis_port%%/*}

"$root/build/orders" api --port "$port" >"${TMPDIR:-/tmp}/bench-purchase-api.log" 2>&1 &
api=$!
trap 'kill "$api" 2>/dev/null; wait "$api" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

export PRODUCT_ID
PRODUCT_ID=$(curl -sf -X POST "http://127.0.0.1:$port/api/products" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $ADMIN_TOKEN" \
  -d "{\"name\":\"Bench Drop\",\"price\":199.99,\"stock\":$stock}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%FT%TZ)"
echo "== POST /api/orders, stock $stock: wrk -t1 -c$connections -d${seconds}s --latency -s bench/purchase.lua"
wrk -t1 -c"$connections" -d"${seconds}s" --timeout 5s --latency -s "$root/bench/purchase.lua" "http://127.0.0.1:$port"
curl -sf "http://127.0.0.1:$port/metrics" |
  grep -E '^(orders_accepted_total|orders_rejected_total|orders_publish_confirms_total|orders_http_requests_total\{route="/api/orders")'
echo "== counter left: $(redis-cli -p "$redis_port" GET "{p:$PRODUCT_ID}:stock")"

# The ceiling: Redis running the same script for the same (now sold-out or plentiful) product.
sha=$(redis-cli -p "$redis_port" SCRIPT LOAD "$(cat "$root/src/ordering/lua/reserve.lua")")
echo "== redis-benchmark: EVALSHA reserve.lua (one item), 50 connections"
redis-benchmark -p "$redis_port" -c 50 -n 300000 -q EVALSHA "$sha" 8 "idem:x:" "order:bench" outbox "outbox:bench" "abandoned:bench" \
  "{p:$PRODUCT_ID}:stock" "{p:$PRODUCT_ID}:info" "{p:$PRODUCT_ID}:buyers" \
  "rb__rand_int__" "" fp bench-order ORD-BENCH 2026-01-01T00:00:00.000Z ev 5000 86400 60 "$PRODUCT_ID" 1 |
  tr '\r' '\n' | tail -1
