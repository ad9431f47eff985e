#!/usr/bin/env bash
# Every headline figure of BENCHMARKS.md in one run, with its same-run reference:
#   1. GET /health (the HTTP ceiling)          orders bench read --path /health
#   2. cached product reads                    orders bench read
#   3. flash-sale decisions (stock << buyers)  orders bench flash-sale --stock 10000 --buyers 100000
#      and sold out (every answer a refusal)    orders bench flash-sale --stock 1 --buyers 150000
#   4. accepted orders (stock >= buyers)       orders bench flash-sale --stock 100000 --buyers 100000
#   5. redis-benchmark running reserve.lua (EVALSHA, the sold-out path) on the same Redis
#   6. each server alone per accepted order: reserve.lua accepting (redis-benchmark), orders bench
#      broker (RabbitMQ), orders bench persist (PostgreSQL, a database of its own)
# Starts the local stack (scripts/stack.sh), `orders api` on 127.0.0.1:${BENCH_PORT:-18090} with
# LOG_LEVEL=warn (no request lines) and two workers; stops the processes it started.
#   bench/headline.sh [connections=256]
# It ends with one summary table of the headline figures (rate, p99, µs of box CPU per unit).
# The worker drain rate is bench/drain.sh.
set -euo pipefail
connections=${1:-256}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start_service headline

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $(date -u +%FT%TZ); commit $(git -C "$root" rev-parse --short HEAD)"
echo
echo "== 1. HTTP ceiling: orders bench read --url $url --path /health --connections 64 --duration 10s"
out=$(mktemp -d "${TMPDIR:-/tmp}/bench-headline.XXXXXX") bench_temp_dirs+=("$out")
"$orders" bench read --url "$url" --path /health --connections 64 --duration 10s | tee "$out/health"
echo
echo "== 2. cached reads: orders bench read --url $url --connections 64 --duration 10s"
"$orders" bench read --url "$url" --connections 64 --duration 10s | tee "$out/reads"
echo
echo "== 3. decisions: orders bench flash-sale --url $url --products 1 --stock 10000 --buyers 100000 --connections $connections"
"$orders" bench flash-sale --url "$url" --products 1 --stock 10000 --buyers 100000 --connections "$connections" |
  tee "$out/decisions"
echo
echo "== 3b. sold out: orders bench flash-sale --url $url --products 1 --stock 1 --buyers 150000 --connections $connections"
"$orders" bench flash-sale --url "$url" --products 1 --stock 1 --buyers 150000 --connections "$connections" |
  tee "$out/soldout"
echo
echo "== 4. accepted: orders bench flash-sale --url $url --products 1 --stock 100000 --buyers 100000 --connections $connections"
"$orders" bench flash-sale --url "$url" --products 1 --stock 100000 --buyers 100000 --connections "$connections" |
  tee "$out/accepted"
echo

# The reference for decisions/s: Redis alone running the same script for a sold-out product,
# a new user and key per call, 50 connections (and pipelined, Redis' own ceiling).
product=bench-ceiling
redis-cli -p "$redis_port" HSET "{p:$product}:info" active 1 price 100 >/dev/null
redis-cli -p "$redis_port" SET "{p:$product}:stock" 0 >/dev/null
sha=$(redis-cli -p "$redis_port" SCRIPT LOAD "$(cat "$root/src/ordering/lua/reserve.lua")")
args=(EVALSHA "$sha" 8 "idem:{u}:__rand_int__" order:x outbox outbox:x abandoned:x "{p:$product}:stock" "{p:$product}:info"
  "{p:$product}:buyers" "u__rand_int__" "k__rand_int__" fp oid ref 2026-01-01T00:00:00Z eid 30000 86400 604800
  1767225600000 "" "$product" 1)
for pipeline in 1 16; do
  echo "== 5. redis-benchmark -c 50 -P $pipeline -r 100000000 EVALSHA reserve.lua (sold out)"
  redis-benchmark -p "$redis_port" -n 200000 -r 100000000 -c 50 -P "$pipeline" -q "${args[@]}" 2>&1 | tr '\r' '\n' |
    grep 'requests per second' | sed 's/^.*: \([0-9.]* requests per second.*\)$/\1/' | tee "$out/redis-$pipeline"
done

# The references for an accepted order: what each server spends on one order alone. The API and
# the workers are stopped first, so none of their polling counts. Redis: reserve.lua accepting (a
# new order, user and key per call; short TTLs and keys of its own, removed afterwards), CPU from
# INFO cpu, an AOF rewrite the run triggers included (its forked child: used_cpu_*_children), as in
# a sale; it must have accepted every call. RabbitMQ: orders bench broker. PostgreSQL: orders bench
# persist into a database of its own.
echo "== 6. the servers alone, per accepted order"
kill "$api_pid" "${worker_pids[@]}" 2>/dev/null || true
wait "$api_pid" "${worker_pids[@]}" 2>/dev/null || true
product=bench-accept
persist_url=${DATABASE_URL%/*}/orders_persist
section6_cleanup() {
  { redis-cli -p "$redis_port" --scan --pattern 'outbox:bench-*' | xargs -r -n 1000 redis-cli -p "$redis_port" UNLINK; } \
    >/dev/null 2>&1 || true
  redis-cli -p "$redis_port" UNLINK bench-outbox "{p:$product}:buyers" "{p:$product}:stock" "{p:$product}:info" \
    >/dev/null 2>&1 || true
  psql -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS orders_persist" >/dev/null 2>&1 || true
}
trap 'section6_cleanup; bench_stop_all' EXIT
redis_cpu() {
  redis-cli -p "$redis_port" INFO cpu |
    awk -F: '/^used_cpu_(sys|user)(_children)?:/ { s += $2 } END { printf "%.6f", s }'
}
redis-cli -p "$redis_port" HSET "{p:$product}:info" active 1 price 999 >/dev/null
redis-cli -p "$redis_port" SET "{p:$product}:stock" 1000000000 >/dev/null
head='{"id":"0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d","type":"order.created","version":1,"occurredAt":"2026-01-01T00:00:00.000Z","data":'
before=$(redis_cpu)
redis-benchmark -p "$redis_port" -n 50000 -r 100000000 -c 50 -q EVALSHA "$sha" 8 "idem:{u}:__rand_int__" \
  "order:bench-__rand_int__" bench-outbox "outbox:bench-__rand_int__" "abandoned:__rand_int__" "{p:$product}:stock" \
  "{p:$product}:info" "{p:$product}:buyers" "u__rand_int__" "k__rand_int__" fp "0190c3b2-6f1e-7a2b-8c3d-__rand_int__" \
  "ORD-__rand_int__" 2026-01-01T00:00:00.000Z "$head" 30000 60 60 1767225600000 "" "$product" 1 >/dev/null 2>&1 || true
after=$(redis_cpu)
# Each accepted call put its order into the outbox (a few random ids repeat: a replay accepts nothing).
accepted=$(redis-cli -p "$redis_port" ZCARD bench-outbox)
if ((accepted > 49000)); then
  awk -v a="$before" -v b="$after" -v n="$accepted" \
    'BEGIN { printf "redis reserve.lua accepting: %.1f us of CPU per order (%d accepted)\n", (b - a) * 1e6 / n, n }' |
    tee "$out/redis-accept"
else
  echo "redis reserve.lua accepting: FAILED, $accepted of 50000 calls accepted" | tee "$out/redis-accept"
fi
"$orders" bench broker --messages 50000 | tee "$out/broker" || echo "orders bench broker: FAILED" | tee -a "$out/broker"
psql -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS orders_persist" 2>/dev/null
psql -q "$DATABASE_URL" -c "CREATE DATABASE orders_persist"
"$orders" migrate --database-url "$persist_url" >/dev/null
"$orders" bench persist --database-url "$persist_url" --orders 50000 | tee "$out/persist" ||
  echo "orders bench persist: FAILED" | tee -a "$out/persist"
echo

# One table of the figures above: the rate, the p99, the box column of the CPU table.
rate() { grep -m1 -E "^$2 " "$out/$1" | sed -E 's/.*: ([0-9.]+) ?(req)?\/s.*/\1/'; }
p99() { grep -m1 '^latency' "$out/$1" | sed -E 's/.*p99 ([0-9.]+ ms).*/\1/'; }
box() { grep -m1 -E "^ +$2 " "$out/$1" | awk '{print $NF}'; }
checks() { if grep -q '^result     PASS' "$out/$1"; then echo "G1-G5 PASS"; else echo "CHECKS FAILED"; fi; }
health=$(rate health requests) reads=$(rate reads requests)
echo
echo "== summary: commit $(git -C "$root" rev-parse --short HEAD), $(date -u +%FT%TZ)"
printf '%-44s %12s %11s %14s  %s\n' figure rate/s p99 "us box CPU" notes
printf '%-44s %12s %11s %14s\n' "GET /health (HTTP ceiling)" "$health" "$(p99 health)" "$(box health request)"
printf '%-44s %12s %11s %14s  %s\n' "cached product reads" "$reads" "$(p99 reads)" "$(box reads request)" \
  "$(awk -v r="$reads" -v h="$health" 'BEGIN { if (h > 0) printf "%.2f x /health", r / h }')"
printf '%-44s %12s %11s %14s  %s\n' "decisions (stock 10,000, 100,000 buyers)" "$(rate decisions decisions)" \
  "$(p99 decisions)" "$(box decisions decision)" "$(checks decisions)"
printf '%-44s %12s %11s %14s  %s\n' "sold-out decisions (stock 1, 150,000 buyers)" "$(rate soldout decisions)" \
  "$(p99 soldout)" "$(box soldout decision)" "$(checks soldout) $(awk -v r="$(rate soldout decisions)" -v h="$health" \
  'BEGIN { if (h > 0) printf "%.2f x /health", r / h }')"
printf '%-44s %12s %11s %14s  %s\n' "accepted orders (stock 100,000), persisting" "$(rate accepted accepted)" \
  "$(p99 accepted)" "$(box accepted 'accepted order')" "$(checks accepted)"
printf '%-44s %12s\n' "redis-benchmark EVALSHA reserve.lua, sold out" "$(sed -E 's/ requests.*//' "$out/redis-1")"
printf '%-44s %12s\n' "  the same pipelined (-P 16)" "$(sed -E 's/ requests.*//' "$out/redis-16")"
# The servers alone (section 6), µs of their own CPU per accepted order.
# (A phase that failed leaves its figure empty, and the line says FAILED.)
mq() { grep -m1 "^$1" "$out/broker" | sed -E 's/.*rabbitmq ([0-9.]+).*/\1/' || true; }
redis_alone=$(sed -nE 's/.*: ([0-9.]+) us.*/\1/p' "$out/redis-accept")
pg_alone=$(grep -m1 '^cpu' "$out/persist" | sed -E 's/.*postgres ([0-9.]+).*/\1/' || true)
mq_queued=$(mq 'publish+confirm, queued') mq_deliver=$(mq 'deliver') mq_unrouted=$(mq 'publish+confirm, no')
if [[ -n $redis_alone && -n $pg_alone && -n $mq_queued && -n $mq_deliver && -n $mq_unrouted ]]; then
  printf '%-44s %12s %11s %14s  %s\n' "per accepted order, each server alone" "" "" \
    "$(awk -v r="$redis_alone" -v q="$mq_queued" -v d="$mq_deliver" -v u="$mq_unrouted" -v p="$pg_alone" \
      'BEGIN { printf "%.1f", r + q + d + u + p }')" \
    "redis $redis_alone + rabbitmq $mq_queued+$mq_deliver+$mq_unrouted + postgres $pg_alone"
else
  printf '%-44s %12s\n' "per accepted order, each server alone" "FAILED (section 6 above)"
fi
