#!/usr/bin/env bash
# Cost as the work grows (issue #13), on the local stack (scripts/stack.sh) with `orders api` on
# 127.0.0.1:${BENCH_PORT:-18090} and two workers:
#   1. decisions/s with 1, 10 and 100 products on sale (10,000 units in all, 100,000 buyers)
#   2. Redis bytes per accepted order (what stays for 24 h: the idempotency record, the buyer's
#      count) and per refusal (SPEC G6: none), from INFO memory before and after a sale
#   3. the API's memory and p99 with 1,000 and 10,000 open keep-alive connections reading
# Quiet box only: anything else running costs the figures 30%.
#   bench/growth.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start_service growth
api=$api_pid log=${TMPDIR:-/tmp}/bench-growth

summary() { grep -E '^(firing|decisions|accepted|latency|cpu|  +(decision|accepted order|request) |G[0-9]|result)' || true; }
used_memory() { redis-cli -p "$redis_port" INFO memory | awk -F: '/^used_memory:/{print $2}' | tr -d '\r'; }

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%FT%TZ); commit $(git -C "$root" rev-parse --short HEAD)"
for n in 1 10 100; do
  echo
  echo "== 1. $n products x $((10000 / n)) units, 100000 buyers, 256 connections"
  "$orders" bench flash-sale --url "$url" --products "$n" --stock $((10000 / n)) --buyers 100000 --connections 256 |
    summary
done

echo
echo "== 2a. Redis bytes per accepted order: 100000 orders of 1 unit (10% of the keys sent twice)"
before=$(used_memory)
"$orders" bench flash-sale --url "$url" --stock 100000 --buyers 100000 --connections 256 | summary
after=$(used_memory)
echo "redis      used_memory $before -> $after: $(((after - before) / 100000)) bytes per accepted order"
echo
echo "== 2b. Redis bytes per refusal: 1 unit, 100000 buyers (99999 refused, 10% of the keys sent twice)"
before=$(used_memory)
"$orders" bench flash-sale --url "$url" --stock 1 --buyers 100000 --connections 256 | summary
after=$(used_memory)
echo "redis      used_memory $before -> $after: $(((after - before) / 99999)) bytes per refusal ($((after - before)) in all)"

for c in 1000 10000; do
  echo
  echo "== 3. cached reads over $c open keep-alive connections, 10 s"
  "$orders" bench read --url "$url" --connections "$c" --duration 10s >"$log-read-$c.txt" & reader=$!
  sleep 6
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$api/status")
  wait "$reader"
  grep -E '^(requests|latency|errors)' "$log-read-$c.txt" || true
  echo "api        VmRSS ${rss} kB with $c connections open (6 s into the run)"
done
