#!/usr/bin/env bash
# The worker drain rate with the tables already holding ROWS orders (issue #13: within 80% of the
# empty-table rate). Fills a database of its own on the local stack (orders_scale) with ROWS
# CONFIRMED orders of history, each with its item, ledger row and two audit rows, as the workers
# write them (time-ordered ids, as UUID v7 are), once; then runs bench/drain.sh against it.
#   bench/drain_at_scale.sh [rows=10000000] [seconds of purchasing=15] [connections=256]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rows=${1:-10000000} seconds=${2:-15} connections=${3:-256}
chunk=1000000

"$root/scripts/build.sh" >/dev/null
eval "$("$root/scripts/stack.sh" start 2>/dev/null)"
scale_url=${DATABASE_URL%/*}/orders_scale
psql -tAq "$DATABASE_URL" -c "SELECT 1 FROM pg_database WHERE datname = 'orders_scale'" | grep -q 1 ||
  psql -q "$DATABASE_URL" -c "CREATE DATABASE orders_scale"
"$root/build/orders" migrate --database-url "$scale_url" >/dev/null
sql() { psql -v ON_ERROR_STOP=1 -tAq "$scale_url" -c "$1"; }

have=$(sql "SELECT count(*) FROM orders")
if ((have < rows)); then
  product=$(sql "SELECT id FROM products WHERE sku = 'SCALE-HISTORY'")
  if [[ -z $product ]]; then
    product=$(sql "INSERT INTO products (id, name, sku, price, stock) VALUES
      ('00000000-0000-7000-8000-000000000001', 'Scale history', 'SCALE-HISTORY', 9.99, 0) RETURNING id")
  fi
  echo "== filling orders_scale: $have -> $rows orders (chunks of $chunk)"
  for ((from = have + 1; from <= rows; from += chunk)); do
    to=$((from + chunk - 1 < rows ? from + chunk - 1 : rows))
    started=$(date +%s)
    # Time-ordered ids and keys (as UUID v7 and the workers' batches are): the indexes grow at their end.
    psql -v ON_ERROR_STOP=1 -q "$scale_url" <<SQL
BEGIN;
CREATE TEMP TABLE h ON COMMIT DROP AS
  SELECT g, (lpad(to_hex(1500000000000 + g), 12, '0') || '7000' || '8000' || lpad(to_hex(g), 12, '0'))::uuid AS id,
         timestamptz '2025-01-01' + g * interval '1 ms' AS at
  FROM generate_series($from, $to) g;
INSERT INTO orders (id, reference_no, user_id, status, total_price, idempotency_key, created_at, updated_at)
  SELECT id, 'HIST-' || lpad(g::text, 10, '0'), 'h' || lpad(g::text, 10, '0'), 'CONFIRMED', 9.99,
         'k' || g, at, at FROM h;
INSERT INTO order_items (order_id, product_id, quantity, unit_price, total_price)
  SELECT id, '$product', 1, 9.99, 9.99 FROM h;
INSERT INTO inventory_movements (product_id, order_id, delta, reason, created_at)
  SELECT '$product', id, -1, 'ORDER', at FROM h;
INSERT INTO order_events (order_id, event_type, from_status, to_status, created_at)
  SELECT id, e.type, e.from_status, e.to_status, at FROM h
  CROSS JOIN (VALUES (1, 'CREATED', NULL, 'PENDING'), (2, 'CONFIRMED', 'PENDING', 'CONFIRMED')) AS e(n, type, from_status, to_status)
  ORDER BY h.g, e.n;
-- The history's units were made available and sold: the ledger and products.stock agree.
INSERT INTO inventory_movements (product_id, delta, reason) VALUES ('$product', $((to - from + 1)), 'INITIAL');
COMMIT;
SQL
    echo "   $to orders ($(( $(date +%s) - started )) s for this chunk)"
  done
  sql "VACUUM ANALYZE" >/dev/null
fi
echo "== orders_scale holds $(sql "SELECT count(*) FROM orders") orders, $(sql "SELECT pg_size_pretty(pg_database_size('orders_scale'))")"
DRAIN_DATABASE_URL=$scale_url "$root/bench/drain.sh" "$seconds" "$connections"
