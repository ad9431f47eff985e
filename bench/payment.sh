#!/usr/bin/env bash
# The payment window under a sale (issue #14): `orders bench flash-sale --pay-share S
# --payment-window W` against the local stack (scripts/stack.sh), `orders api` on
# 127.0.0.1:${BENCH_PORT:-18090} and two workers (whose sweepers expire the unpaid orders).
# A share S of the accepted orders pays inside its window, the rest expires, a second wave buys
# what came back; the report ends with G1-G5 and G7a-G7d and the sweeper's rate. Then the
# sweeper's capacity: the second wave's orders (left unpaid, with the bench's 24 h window) are
# made overdue at once and one worker's sweeper expires them all: orders/s and CPU per order.
#   bench/payment.sh [stock=20000] [pay-share=0.7] [window-seconds=10]
set -euo pipefail
stock=${1:-20000} share=${2:-0.7} window=${3:-10}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start_service payment
log=${TMPDIR:-/tmp}/bench-payment

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%FT%TZ); commit $(git -C "$root" rev-parse --short HEAD)"
"$orders" bench flash-sale --url "$url" --stock "$stock" --buyers $((stock * 2)) --connections 256 \
  --pay-share "$share" --payment-window "$window"

echo
echo "== sweeper capacity: the second wave's unpaid orders overdue at once, one worker sweeps them"
kill "${worker_pids[@]}"
for p in "${worker_pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
sql() { psql -tAq "$DATABASE_URL" -c "$1"; }
due=$(sql "WITH d AS (UPDATE orders SET expires_at = now() - interval '1 minute' WHERE status = 'CONFIRMED'
  AND expires_at > now() + interval '1 hour' RETURNING 1) SELECT count(*) FROM d")
ticks() { local t=0 p; for p in "$@"; do [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
postgres_pids() { pgrep -d ' ' -f 'postgres: ' || true; }
redis_pid=$(pgrep -f "redis-server.*:${REDIS_URL##*:}" | head -1 || true); redis_pid=${redis_pid:-$(pgrep -o redis-server)}
# shellcheck disable=SC2046 # a list of PIDs
pg_before=$(ticks $(postgres_pids)) redis_before=$(ticks "$redis_pid")
start=$(date +%s%N)
LOG_LEVEL=warn "$orders" worker >"$log-sweeper.log" 2>&1 & sweeper=$! pids+=($!)
left=$due
for _ in $(seq 1200); do  # at most 120 s
  left=$(sql "SELECT count(*) FROM orders WHERE status = 'CONFIRMED' AND expires_at < now()")
  [[ $left == 0 ]] && break
  sleep 0.1
done
end=$(date +%s%N)
# shellcheck disable=SC2046
worker_ticks=$(ticks "$sweeper") pg_ticks=$(($(ticks $(postgres_pids)) - pg_before)) redis_ticks=$(($(ticks "$redis_pid") - redis_before))
hz=$(getconf CLK_TCK)
awk -v n="$due" -v left="$left" -v ns=$((end - start)) -v w="$worker_ticks" -v pg="$pg_ticks" -v r="$redis_ticks" -v hz="$hz" 'BEGIN {
  s = ns / 1e9; done = n - left
  printf "sweeper    %d of %d overdue orders expired in %.2f s (worker start included): %.0f orders/s\n", done, n, s, done / s
  if (done > 0) printf "cpu        us per expired order: worker %.1f (its start included), postgres %.1f, redis %.1f\n",
    w / hz * 1e6 / done, pg / hz * 1e6 / done, r / hz * 1e6 / done
}'
