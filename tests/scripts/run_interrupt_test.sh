#!/usr/bin/env bash
# scripts/run.sh interrupted during its start-up must stop every server of the stack it was
# starting, and exit. Three cases, each from a fresh stack:
#   ctrl-c   SIGINT to run.sh's process group (what Ctrl-C in a terminal does) once Redis has
#            written its pid file (RabbitMQ and PostgreSQL still starting);
#   sigterm  SIGTERM to run.sh alone once RabbitMQ has written its pid file (the broker booting);
#   running  once everything is up: the API and both workers' /metrics answer on the URLs run.sh
#            printed (PORT, PORT+1, PORT+2); then Ctrl-C, which stops everything too.
# Afterwards no process of that stack may be left: nothing listening on its ports, nothing
# running in (or naming) its directories. run.sh runs with a stack of its own (STACK_DIR, port
# base 21400: not the dev, test or drill stacks' 15400/25400/26400) and ORDERS_SKIP_BUILD=1.
# Every wait is bounded, and whatever is left is killed by PID and the stack purged at the end,
# so the test can fail but not hang.
#
#   tests/scripts/run_interrupt_test.sh [STACK_DIR]     (default build/run-interrupt-stack)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=$(realpath -m -- "${1:-$root/build/run-interrupt-stack}")
port_base=21400
# PostgreSQL, Redis, AMQP, Erlang distribution, epmd (scripts/stack.sh's offsets), then the API
# and the two workers' metrics (PORT, PORT+1, PORT+2).
ports=($((port_base + 32)) $((port_base + 79)) $((port_base + 72)) $((port_base + 73)) $((port_base + 69))
  $((port_base + 90)) $((port_base + 91)) $((port_base + 92)))
limit=120
work=$(mktemp -d "${TMPDIR:-/tmp}/orders-run-interrupt.XXXXXX")
failures=0 run_pid=

say() { echo "run_interrupt_test: $*" >&2; }
fail() { say "FAIL: $*"; failures=$((failures + 1)); }

# Every live process of this stack: with its cwd in DIR or in PostgreSQL's data dir, or DIR on
# its command line (stack.sh and its jobs, the RabbitMQ node and CLI), and with `ports` also
# whatever listens on its ports (epmd names neither). This script (DIR is its argument) is not one.
stack_pids() {
  local pgdata='' p cwd cmd port
  if [[ -f $dir/pgdata-location ]]; then pgdata=$(head -n1 "$dir/pgdata-location"); fi
  {
    if [[ ${1:-} == ports ]]; then
      for port in "${ports[@]}"; do listener_pids "$port"; done
    fi
    for p in /proc/[0-9]*; do
      cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
      cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
      [[ $cmd == *run_interrupt_test.sh* ]] && continue
      if [[ $cwd == "$dir" || $cwd == "$dir"/* || $cmd == *"$dir"* ]] ||
        [[ -n $pgdata && ($cwd == "$pgdata" || $cwd == "$pgdata"/*) ]]; then
        echo "${p#/proc/}"
      fi
    done
  } | sort -un | while read -r p; do
    if [[ -d /proc/$p ]]; then echo "$p"; fi
  done
}

# Inodes of the TCP sockets listening on PORT (state 0A in /proc/net/tcp{,6}): read straight
# from /proc, as stack.sh does, since ss (iproute2) is not on every box (a debian:12 container).
listening_inodes() {
  awk -v p=":$(printf '%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u
}

# PIDs holding a socket listening on PORT.
listener_pids() {
  local inode
  for inode in $(listening_inodes "$1"); do
    find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:\[$inode\]" 2>/dev/null | cut -d/ -f3
  done
}

# The stack's ports that something listens on.
listening_ports() {
  local port
  for port in "${ports[@]}"; do
    if [[ -n $(listening_inodes "$port") ]]; then echo "$port"; fi
  done
}

# Kill by PID what stack_pids finds (with `ports`: also the listeners on the stack's ports).
kill_leftovers() {
  local pids pid i
  pids=$(stack_pids "${1:-}")
  [[ -n $pids ]] || return 0
  # shellcheck disable=SC2086 # lists of PIDs
  kill -TERM $pids 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pids=$(for pid in $pids; do if [[ -d /proc/$pid ]]; then echo "$pid"; fi; done)
    [[ -n $pids ]] || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
}

purge() { timeout "$limit" "$root/scripts/stack.sh" purge --dir "$dir" >>"$work/purge.log" 2>&1 || true; }

cleanup() {
  if [[ -n $run_pid ]] && kill -0 "$run_pid" 2>/dev/null; then kill -KILL -- "-$run_pid" 2>/dev/null || true; fi
  # The ports were free when the test began (checked below), so a listener now is ours.
  kill_leftovers ports
  purge
  kill_leftovers ports
  rm -rf "$work"
}
trap cleanup EXIT

api_port=$((port_base + 90))
worker_ports=($((port_base + 91)) $((port_base + 92)))

# WHAT has happened: a FILE (relative to DIR) exists, or `serving`: the API answers /health and
# both workers serve their metrics.
ready() {
  if [[ $1 != serving ]]; then
    [[ -e $dir/$1 ]]
    return
  fi
  curl -sf -m 2 "http://127.0.0.1:$api_port/health" >/dev/null &&
    curl -sf -m 2 "http://127.0.0.1:${worker_ports[0]}/metrics" | grep -q '^orders_worker_batches_total' &&
    curl -sf -m 2 "http://127.0.0.1:${worker_ports[1]}/metrics" | grep -q '^orders_worker_batches_total'
}

# run.sh printed the URLs that answer (the workers' metrics among them).
check_printed_urls() {
  local name=$1 log=$2 url
  for url in "http://127.0.0.1:$api_port/metrics" "http://127.0.0.1:$api_port/api-docs" \
    "http://127.0.0.1:${worker_ports[0]}/metrics" "http://127.0.0.1:${worker_ports[1]}/metrics"; do
    grep -qF "$url" "$log" || fail "[$name] run.sh did not print $url"
    curl -sf -m 2 -o /dev/null "$url" || fail "[$name] $url does not answer"
  done
}

# One case: NAME SIGNAL TARGET (group|script) WHAT (see ready; the signal goes once it happened).
interrupt_case() {
  local name=$1 sig=$2 target=$3 log=$work/$1.log t0 rc=0 left ports_left
  say "[$name] scripts/run.sh with a fresh stack in $dir; SIG$sig to the $target once $4"
  kill_leftovers ports
  purge
  t0=$SECONDS
  # Job control: run.sh gets a process group of its own, as a command typed in a terminal does,
  # and SIGINT is not ignored in it (a plain `&` job of a script ignores SIGINT).
  set -m
  env -u DATABASE_URL -u REDIS_URL -u RABBITMQ_URL ORDERS_SKIP_BUILD=1 \
    ORDERS_BINARY="${ORDERS_BINARY:-$root/build/orders}" STACK_DIR="$dir" STACK_PORT_BASE="$port_base" \
    PORT=$api_port "$root/scripts/run.sh" >"$log" 2>&1 &
  run_pid=$!
  set +m
  # The whole start-up (stack, migrate, seed, API, workers) gets twice the time of one server.
  local wait_limit=$limit
  if [[ $4 == serving ]]; then wait_limit=$((2 * limit)); fi
  until ready "$4"; do
    if ! kill -0 "$run_pid" 2>/dev/null; then
      fail "[$name] run.sh exited before $4"
      break
    fi
    if ((SECONDS - t0 >= wait_limit)); then
      fail "[$name] no $4 within ${wait_limit}s"
      break
    fi
    sleep 0.1
  done
  if [[ $4 == serving ]]; then check_printed_urls "$name" "$log"; fi
  say "[$name] after $((SECONDS - t0))s: stack processes $(stack_pids ports | tr '\n' ' ')"
  if [[ $target == group ]]; then kill -"$sig" -- "-$run_pid" 2>/dev/null || true; else kill -"$sig" "$run_pid" 2>/dev/null || true; fi
  t0=$SECONDS
  while kill -0 "$run_pid" 2>/dev/null && ((SECONDS - t0 < limit)); do sleep 0.2; done
  if kill -0 "$run_pid" 2>/dev/null; then
    fail "[$name] run.sh still runs ${limit}s after SIG$sig"
    kill -KILL -- "-$run_pid" 2>/dev/null || true
  fi
  wait "$run_pid" 2>/dev/null || rc=$?
  run_pid=
  say "[$name] run.sh exited with $rc after $((SECONDS - t0))s"
  local want=$((128 + $(kill -l "$sig")))
  ((rc == want)) || fail "[$name] run.sh exited with $rc, not $want (128 + SIG$sig)"
  # A server still being launched when run.sh left would show up a moment later: look twice.
  sleep 2
  left=$(stack_pids ports)
  ports_left=$(listening_ports)
  if [[ -n $left || -n $ports_left ]]; then
    fail "[$name] left running: ports ${ports_left//$'\n'/ } processes ${left//$'\n'/ }"
    # shellcheck disable=SC2086 # a list of PIDs
    if [[ -n $left ]]; then ps -o pid,ppid,etime,cmd -p ${left//$'\n'/,} >&2 || true; fi
    echo "----- $log" >&2
    tail -n 40 "$log" >&2
  else
    say "[$name] ok: nothing of the stack left"
  fi
}

# Leftovers of an earlier run of this test go first; a port still taken then is someone else's,
# and no process of theirs is touched.
kill_leftovers
purge
if [[ -n $(listening_ports) ]]; then
  for port in $(listening_ports); do
    say "FAIL: port $port is in use by a process that is not this stack's: pid $(listener_pids "$port" | sort -u | tr '\n' ' ')"
  done
  trap 'rm -rf "$work"' EXIT
  exit 1
fi
interrupt_case ctrl-c INT group redis/redis.pid
interrupt_case sigterm TERM script rabbitmq/rabbitmq.pid
interrupt_case running INT group serving

if ((failures)); then
  say "$failures failure(s)"
  exit 1
fi
say "PASS"
