#!/usr/bin/env bash
# PostgreSQL's floor for the workers' transaction (issue #13): `orders bench persist` writes
# ORDERS synthetic orders through the worker's own persist_batch (batches of BATCH, one
# connection, nothing else running) into a fresh database of its own, once per schema variant,
# and prints PostgreSQL's µs of CPU per order for each:
#   as-is       the schema as migrated: what a worker pays today
#   no-fk       the same without the foreign keys (attribution only: SPEC requires them)
#   no-fk-idx   also without the indexes no constraint needs (attribution only: reads need them)
# CLIENTS > 1 runs that many at once (each with a product of its own, as workers of different
# products are) and prints their combined rate: PostgreSQL's own ceiling with the box to itself.
#   bench/persist.sh [orders=100000] [batch=500] [variants="as-is no-fk no-fk-idx"] [clients=1]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
orders=${1:-100000} batch=${2:-500} variants=${3:-as-is no-fk no-fk-idx} clients=${4:-1}

"$root/scripts/build.sh" >/dev/null
eval "$("$root/scripts/stack.sh" start 2>/dev/null)"
url=${DATABASE_URL%/*}/orders_persist
sql() { psql -v ON_ERROR_STOP=1 -tAq "$url" -c "$1"; }
out_dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-persist.XXXXXX")
trap 'rm -rf "$out_dir"; psql -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS orders_persist" >/dev/null 2>&1 || true' EXIT
for variant in $variants; do
  case $variant in
    as-is | no-fk | no-fk-idx) ;;
    *) echo "bench/persist.sh: unknown variant $variant (as-is, no-fk, no-fk-idx)" >&2; exit 2 ;;
  esac
done

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%FT%TZ); $(git -C "$root" rev-parse --short HEAD)"
for variant in $variants; do
  psql -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS orders_persist" 2>/dev/null; psql -q "$DATABASE_URL" -c "CREATE DATABASE orders_persist"
  "$root/build/orders" migrate --database-url "$url" >/dev/null
  if [[ $variant != as-is ]]; then
    sql "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname)
         FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace" |
      while read -r stmt; do sql "$stmt"; done
  fi
  if [[ $variant == no-fk-idx ]]; then
    sql "SELECT format('DROP INDEX %s', indexrelid::regclass) FROM pg_index i
         WHERE indrelid IN ('orders'::regclass, 'order_items'::regclass, 'inventory_movements'::regclass,
                            'order_events'::regclass)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
           AND indexrelid <> 'inventory_movements_order_once_idx'::regclass" |
      while read -r stmt; do sql "$stmt"; done
  fi
  echo "== $variant"
  if ((clients == 1)); then
    "$root/build/orders" bench persist --database-url "$url" --orders "$orders" --batch "$batch" | grep -v '^=='
  else
    started=$(date +%s.%N) runs=()
    for ((c = 0; c < clients; c++)); do
      "$root/build/orders" bench persist --database-url "$url" --orders "$orders" --batch "$batch" >"$out_dir/$c" &
      runs+=($!)
    done
    for run in "${runs[@]}"; do wait "$run"; done  # each one's status: set -e stops at a failed one
    grep -h '^persisted' "$out_dir"/*
    python3 -c "print(f'together   {$clients} clients: {$clients * $orders / ($(date +%s.%N) - $started):,.0f} orders/s')"
  fi
done
