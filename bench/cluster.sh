#!/usr/bin/env bash
# Single node vs the clusters on this box, same sale: a fresh `scripts/stack.sh start` and then
# a fresh `scripts/stack.sh start --cluster` (Redis Cluster 3 masters + 3 replicas, three
# RabbitMQ nodes), each with one `orders api` and two workers, then
#   orders bench flash-sale --products P --stock S --buyers B --connections C
# which prints the CPU table (the cluster run with its redis column split per node). Each stack
# is purged afterwards. No speed-up is expected on 2 cores: the point is the cost of the cluster
# protocol per order and how the load spreads over the masters (BENCHMARKS.md).
#
# With BUCKETS > 1 the products are created with that stockBuckets (split on the cluster only).
#
#   bench/cluster.sh [PRODUCTS STOCK BUYERS CONNECTIONS [BUCKETS]]  (default 4 20000 20000 128 1)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
products=${1:-4} stock=${2:-20000} buyers=${3:-20000} connections=${4:-128} buckets=${5:-1}
orders=$root/build/orders port=${BENCH_PORT:-18090}
export ADMIN_TOKEN=${ADMIN_TOKEN:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
"$root/scripts/build.sh" >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/orders-bench-cluster.XXXXXX")
pids=() dirs=()
stop_all() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
  pids=()
  for p in "${dirs[@]}"; do "$root/scripts/stack.sh" purge --dir "$p" >/dev/null 2>&1 || true; done
  dirs=()
}
trap 'stop_all; rm -rf "$work"' EXIT

run_mode() {  # run_mode NAME [--cluster]
  local name=$1 dir=$work/$1
  shift
  dirs+=("$dir")
  echo "== $name: starting a fresh stack $*" >&2
  eval "$("$root/scripts/stack.sh" start --dir "$dir" --port-base 19400 "$@" 2>"$work/$name-stack.log")"
  [[ $* == *--cluster* ]] || unset REDIS_CLUSTER_NODES
  "$orders" migrate >/dev/null
  LOG_LEVEL=warn "$orders" api --port "$port" >"$work/$name-api.log" 2>&1 & pids+=($!)
  LOG_LEVEL=warn "$orders" worker >"$work/$name-worker1.log" 2>&1 & pids+=($!)
  LOG_LEVEL=warn "$orders" worker >"$work/$name-worker2.log" 2>&1 & pids+=($!)
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
  echo "== $name: orders bench flash-sale --products $products --stock $stock --stock-buckets $buckets --buyers $buyers --connections $connections" >&2
  "$orders" bench flash-sale --url "http://127.0.0.1:$port" --products "$products" --stock "$stock" \
    --stock-buckets "$buckets" --buyers "$buyers" --connections "$connections" --duration-limit 120s --drain-stall 60s
  stop_all
}

run_mode single
run_mode cluster --cluster
