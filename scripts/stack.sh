#!/usr/bin/env bash
# Local PostgreSQL 15, Redis 7 and RabbitMQ 3.10 on 127.0.0.1 for development and tests,
# without systemd. Everything a stack owns (config, data, logs, pid files) lives under DIR,
# except PostgreSQL's data dir when the postgres user cannot reach DIR (see pg_pick_datadir).
#
#   scripts/stack.sh start  [--dir DIR] [--port-base N] [--cluster]  # prints 3 export lines
#   scripts/stack.sh stop   [--dir DIR]
#   scripts/stack.sh status [--dir DIR]                   # exit 0 if all running, else 3
#   scripts/stack.sh env    [--dir DIR] [--port-base N]   # prints 3 export lines on stdout
#   scripts/stack.sh kill   SERVICE [--dir DIR]           # fault drills: redis (SIGKILL),
#                           rabbitmq (SIGKILL; node 1), rabbitmq-leader (SIGKILL of the node
#                           leading orders.persist), postgres (fast shutdown); `start` brings it back
#   scripts/stack.sh purge  [--dir DIR]                   # stop, then delete all its data
#   scripts/stack.sh leader [--dir DIR]                   # cluster: the AMQP URL of the node
#                           leading orders.persist (exit 3 when no node names one)
#
# DIR defaults to <repo>/.local/stack, the port base to 15400. Ports: PostgreSQL base+32,
# Redis base+79, AMQP base+72, Erlang distribution base+73, epmd base+69, rabbitmqctl's own
# distribution listener base+74..78. Two stacks with different DIR and base share nothing.
# Progress and errors go to stderr, so `eval "$(scripts/stack.sh start)"` works. The ports
# are recorded in DIR/ports; a later start without --port-base reuses them.
# --cluster: RabbitMQ as a cluster of three nodes (AMQP base+72, base+80, base+82; RABBITMQ_URL
# then lists all three) and a Redis Cluster of 3 masters + 3 replicas (base+60..65, printed as
# REDIS_CLUSTER_NODES; cluster buses on port+10000), beside PostgreSQL and the single Redis
# (REDIS_URL) as before. Recorded in DIR/ports like the ports. `kill redis-master[:SLOT]` then
# SIGKILLs the master serving SLOT (default 0).
# STACK_WAIT_SECS (default 60) bounds each wait for PostgreSQL, Redis and the CLI calls;
# STACK_RABBIT_WAIT_SECS (default 180) bounds RabbitMQ's start as a whole: the first boot of
# Erlang and of a fresh node on a busy 2-core box can take well over a minute.
# REDIS_MAXMEMORY (default 1gb) is Redis's maxmemory, set on every start (a running Redis gets
# it by CONFIG SET); the policy is always noeviction (a write that does not fit is refused,
# never a key silently evicted).
# STACK_POSTGRES_CONF_EXTRA and STACK_RABBITMQ_CONF_EXTRA: lines appended to the server's config
# on this start (benchmarks of their settings, e.g. STACK_POSTGRES_CONF_EXTRA='commit_delay = 100').
# A start interrupted by SIGINT or SIGTERM stops the servers it launched (those that already
# ran are left alone) and exits 130 or 143.
#
# This file is the entry point: arguments, ports, paths, locking, the order of the servers and
# the commands. Each server's own start/wait/stop is in scripts/stack/<server>.sh, helpers
# shared by them in scripts/stack/common.sh.
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail
# set -e alone dies silently; say where (also inside functions, the sourced parts and the
# parallel subshells).
trap 'echo "stack: error: unexpected failure (exit $?) at ${BASH_SOURCE[0]##*/} line $LINENO: $BASH_COMMAND" >&2' ERR

STACK_SH=${BASH_SOURCE[0]}
REPO=$(cd "$(dirname "$STACK_SH")/.." && pwd -P)
WAIT_SECS=${STACK_WAIT_SECS:-60}
DEFAULT_PORT_BASE=15400
DB_USER=orders DB_PASS=orders DB_NAME=orders
MQ_USER=orders MQ_PASS=orders

# shellcheck source=stack/common.sh
source "$REPO/scripts/stack/common.sh"
# shellcheck source=stack/postgres.sh
source "$REPO/scripts/stack/postgres.sh"
# shellcheck source=stack/redis.sh
source "$REPO/scripts/stack/redis.sh"
# shellcheck source=stack/rabbitmq.sh
source "$REPO/scripts/stack/rabbitmq.sh"
# shellcheck source=stack/redis_cluster.sh
source "$REPO/scripts/stack/redis_cluster.sh"

usage() {
  sed -n '6,15p' "$STACK_SH" | sed 's/^#  //' >&2
  exit 2
}

require_root() { [[ $(id -u) -eq 0 ]] || die "${1:-run as root}"; }

# ---------------------------------------------------------------------------------------------
# options, DIR and ports

parse_args() {
  CMD=${1:-}
  [[ -n $CMD ]] || usage
  shift
  DIR="$REPO/.local/stack"
  PORT_BASE_ARG=
  CLUSTER_ARG=
  SERVICE=
  if [[ $CMD == kill ]]; then
    [[ $# -ge 1 ]] || usage
    SERVICE=$1
    shift
  fi
  while (($#)); do
    case $1 in
      --dir) [[ $# -ge 2 ]] || usage; DIR=$2; shift 2 ;;
      --dir=*) DIR=${1#*=}; shift ;;
      --port-base) [[ $# -ge 2 ]] || usage; PORT_BASE_ARG=$2; shift 2 ;;
      --port-base=*) PORT_BASE_ARG=${1#*=}; shift ;;
      --cluster) CLUSTER_ARG=1; shift ;;
      -h | --help) usage ;;
      *) echo "stack: unknown argument: $1" >&2; usage ;;
    esac
  done
  # Absolute and canonical, so that every invocation for the same stack agrees on the paths
  # (and on the hash used for the PostgreSQL fallback dir).
  DIR=$(realpath -m -- "$DIR")
  # Paths go unquoted into rabbitmq-env (sh) and into config files: keep them simple.
  [[ $DIR =~ ^[A-Za-z0-9_./+@%=:,-]+$ ]] || die "--dir must not contain spaces or shell/quote characters: '$DIR'"
  if [[ -n $PORT_BASE_ARG ]]; then
    if ! [[ $PORT_BASE_ARG =~ ^[0-9]{1,5}$ ]] || ((PORT_BASE_ARG < 1024 || PORT_BASE_ARG + 79 > 65535)); then
      die "--port-base must be a number between 1024 and 65456, got '$PORT_BASE_ARG'"
    fi
  fi
  PORTS_FILE=$DIR/ports
}

set_ports() {
  PORT_BASE=$1
  PG_PORT=$((PORT_BASE + 32))
  REDIS_PORT=$((PORT_BASE + 79))
  AMQP_PORT=$((PORT_BASE + 72))
  DIST_PORT=$((PORT_BASE + 73))
  EPMD_PORT=$((PORT_BASE + 69))
  CTL_DIST_MIN=$((PORT_BASE + 74))
  CTL_DIST_MAX=$((PORT_BASE + 78))
}

recorded_port_base() {
  if [[ -f $PORTS_FILE ]]; then sed -n 's/^PORT_BASE=\([0-9][0-9]*\)$/\1/p' "$PORTS_FILE" | head -n1; fi
}

recorded_cluster() {
  if [[ -f $PORTS_FILE ]]; then sed -n 's/^CLUSTER=\([01]\)$/\1/p' "$PORTS_FILE" | head -n1; fi
}

# Explicit --port-base wins, else what the last start recorded, else the default. The mode:
# --cluster, else what the last start recorded, else single.
resolve_ports() {
  local recorded
  recorded=$(recorded_port_base)
  set_ports "${PORT_BASE_ARG:-${recorded:-$DEFAULT_PORT_BASE}}"
  recorded=$(recorded_cluster)
  CLUSTER=${CLUSTER_ARG:-${recorded:-0}}
}

write_ports_file() {
  cat >"$PORTS_FILE" <<EOF2
# written by scripts/stack.sh start; stop/status/env read it
PORT_BASE=$PORT_BASE
PG_PORT=$PG_PORT
REDIS_PORT=$REDIS_PORT
AMQP_PORT=$AMQP_PORT
DIST_PORT=$DIST_PORT
EPMD_PORT=$EPMD_PORT
CLUSTER=$CLUSTER
EOF2
}

# Paths of all three servers, from DIR and the ports (PGDATA: where the last start put it).
set_paths() {
  redis_set_paths
  rabbit_set_paths
  pg_set_paths
}

print_env() {
  echo "export DATABASE_URL=postgresql://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB_NAME"
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
  if ((CLUSTER)); then echo "export REDIS_CLUSTER_NODES=$(redis_cluster_seeds)"; fi
  local n urls=
  for n in $(rabbit_nodes); do
    rabbit_node "$n"
    urls+=${urls:+,}amqp://$MQ_USER:$MQ_PASS@127.0.0.1:$AMQP_PORT/
  done
  rabbit_node 1
  echo "export RABBITMQ_URL=$urls"
}

# A Redis Cluster node also listens on its data port + 10000 (the cluster bus). Inside the
# kernel's ephemeral range any client connection may hold that port, and the node then fails to
# start: refuse such a port base up front.
require_buses_below_ephemeral() {
  local lo hi first last
  read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { lo=32768 hi=60999; }
  first=$((PORT_BASE + 60 + 10000)) last=$((PORT_BASE + 65 + 10000))
  if ((last >= lo && first <= hi)); then
    die "--cluster with port base $PORT_BASE: the Redis Cluster buses $first-$last fall in the ephemeral port range $lo-$hi (a client connection may hold one); use a port base of at most $((lo - 10066))"
  fi
}

# Serialize start/stop on one DIR (two CI steps racing would otherwise start two copies).
take_lock() {
  exec 9>"$DIR/.lock"
  # Long enough for another start of the same DIR to finish, RabbitMQ's first boot included.
  local secs=$((RABBIT_WAIT_SECS + WAIT_SECS))
  flock -w "$secs" 9 || die "another scripts/stack.sh is busy with $DIR for ${secs}s"
}

# ---------------------------------------------------------------------------------------------
# commands

# Stops in this order: the broker first (nothing of ours uses it once it is gone), the database last.
stop_servers() {
  stop_rabbitmq
  if ((CLUSTER)); then stop_redis_cluster; fi
  stop_redis
  stop_postgres
}

# The INT/TERM trap of cmd_start: take down the parallel start jobs and everything they run
# (CLI calls, waits, a daemon not yet detached), then stop the servers that were not running
# before this start. Runs while this start still holds the DIR lock.
start_interrupted() {
  local sig=$1 status=$2 pids
  # A second signal must not cut the clean-up short (each step of it is bounded); a trap with
  # a command, unlike an ignored signal, is not inherited by the commands run below.
  trap 'say "still stopping after SIG$sig, please wait"' INT TERM
  say "interrupted (SIG$sig): stopping the servers this start launched"
  pids=$(descendant_pids "$$")
  # shellcheck disable=SC2086 # a list of PIDs
  if [[ -n $pids ]]; then kill -TERM $pids 2>/dev/null || true; fi
  wait || true
  # A daemon that was being launched may need a moment to detach and write its pid file.
  sleep 0.5
  set_paths # PGDATA as the postgres job chose it (in a subshell, so not seen here yet)
  [[ $RUNNING_BEFORE == *" rabbitmq "* ]] || stop_rabbitmq
  [[ $RUNNING_BEFORE == *" redis "* ]] || { stop_redis; if ((CLUSTER)); then stop_redis_cluster; fi; }
  [[ $RUNNING_BEFORE == *" postgres "* ]] || stop_postgres
  say "start interrupted; stopped what it had launched (dir $DIR)"
  exit "$status"
}

cmd_start() {
  [[ $REDIS_MAXMEMORY =~ ^[0-9]+([kKmMgG][bB]?)?$ ]] ||
    die "REDIS_MAXMEMORY must be a size such as 1gb, 256mb or 1048576, got '$REDIS_MAXMEMORY'"
  [[ $RABBIT_WAIT_SECS =~ ^[0-9]+$ && $WAIT_SECS =~ ^[0-9]+$ ]] ||
    die "STACK_WAIT_SECS and STACK_RABBIT_WAIT_SECS must be whole seconds"
  mkdir -p "$DIR"
  take_lock
  local recorded recorded_mode
  recorded=$(recorded_port_base)
  recorded_mode=$(recorded_cluster)
  resolve_ports
  if [[ -n $recorded ]] && [[ $recorded != "$PORT_BASE" || ${recorded_mode:-0} != "$CLUSTER" ]]; then
    # Changing ports under a running stack would orphan it: require a stop first.
    set_ports "$recorded"
    set_paths
    if pg_alive || redis_alive || rabbit_alive; then
      die "the stack in $DIR runs with port base $recorded (cluster ${recorded_mode:-0}); run 'scripts/stack.sh stop --dir $DIR' first"
    fi
    resolve_ports
  fi
  set_paths
  if ((CLUSTER)); then require_buses_below_ephemeral; fi
  write_ports_file

  RUNNING_BEFORE=" "
  if pg_alive; then RUNNING_BEFORE+="postgres "; fi
  if redis_alive; then RUNNING_BEFORE+="redis "; fi
  if rabbit_alive; then RUNNING_BEFORE+="rabbitmq "; fi
  trap 'start_interrupted INT 130' INT
  trap 'start_interrupted TERM 143' TERM

  local t0=$SECONDS failed=0 rabbit_job pg_job redis_job cluster_job=
  # In parallel, slowest first: each function reports its own failure (log tail + error).
  start_rabbitmq_nodes & rabbit_job=$!
  start_postgres & pg_job=$!
  start_redis & redis_job=$!
  if ((CLUSTER)); then start_redis_cluster & cluster_job=$!; fi
  wait "$pg_job" || failed=1
  wait "$redis_job" || failed=1
  if [[ -n $cluster_job ]]; then wait "$cluster_job" || failed=1; fi
  wait "$rabbit_job" || failed=1
  trap - INT TERM
  if ((failed)); then
    die "stack in $DIR did not start completely; servers that did start are left running ('scripts/stack.sh stop --dir $DIR' stops them)"
  fi
  say "all up in $((SECONDS - t0))s (dir $DIR, port base $PORT_BASE)"
}

cmd_stop() {
  if [[ ! -d $DIR ]]; then
    say "nothing to stop: $DIR does not exist"
    return 0
  fi
  take_lock
  resolve_ports
  set_paths
  stop_servers
  rm -f "$REDIS_PID" "$MQ_PID"
  say "stopped (dir $DIR)"
}

# Takes one server down the hard way, for the fault drills (scripts/drill.sh).
cmd_kill() {
  resolve_ports
  set_paths
  local pid
  case $SERVICE in
    redis)
      pid=$(redis_pid)
      redis_alive || die "Redis is not running in $DIR"
      kill -KILL "$pid"
      ;;
    rabbitmq)
      pid=$(rabbit_pid)
      rabbit_alive || die "RabbitMQ is not running in $DIR"
      kill -KILL "$pid"
      ;;
    rabbitmq-leader)
      ((CLUSTER)) || die "kill rabbitmq-leader: the stack in $DIR is not a cluster (start --cluster)"
      local leader n
      leader=$(rabbit_leader_node)
      [[ -n $leader ]] || die "kill rabbitmq-leader: no node of $DIR names a leader of orders.persist"
      for n in 1 2 3; do
        rabbit_node "$n"
        [[ $MQ_NODE == "$leader" ]] && break
      done
      [[ $MQ_NODE == "$leader" ]] || die "kill rabbitmq-leader: the leader $leader is not a node of $DIR"
      pid=$(rabbit_pid)
      rabbit_alive || die "RabbitMQ node $leader is not running in $DIR"
      kill -KILL "$pid"
      SERVICE="rabbitmq-leader $leader"
      ;;
    redis-master | redis-master:*)
      ((CLUSTER)) || die "kill redis-master: the stack in $DIR is not a cluster (start --cluster)"
      local slot=0 port
      [[ $SERVICE == redis-master:* ]] && slot=${SERVICE#redis-master:}
      [[ $slot =~ ^[0-9]+$ ]] && ((slot <= 16383)) || die "kill redis-master:SLOT: SLOT must be 0..16383, got '$slot'"
      port=$(redis_cluster_master_of_slot "$slot")
      [[ -n $port ]] || die "kill redis-master: no node of $DIR names a master of slot $slot"
      redis_node "$port"
      pid=$(redis_pid)
      redis_alive || die "Redis Cluster node $port is not running in $DIR"
      kill -KILL "$pid"
      SERVICE="redis-master 127.0.0.1:$port of slot $slot"
      ;;
    postgres)
      pg_alive || die "PostgreSQL is not running in $DIR"
      pid=$(pg_postmaster_pid)
      stop_postgres
      ;;
    *) die "kill: unknown service '$SERVICE' (redis, redis-master[:SLOT], rabbitmq, rabbitmq-leader, postgres)" ;;
  esac
  wait_pid_gone "$pid" "$WAIT_SECS" || die "$SERVICE (pid $pid) did not stop"
  say "[$SERVICE] killed (pid $pid)"
}

cmd_leader() {
  ((CLUSTER)) || die "leader: the stack in $DIR is not a cluster (start --cluster)"
  local leader n
  leader=$(rabbit_leader_node)
  for n in 1 2 3; do
    rabbit_node "$n"
    if [[ -n $leader && $MQ_NODE == "$leader" ]]; then
      echo "amqp://$MQ_USER:$MQ_PASS@127.0.0.1:$AMQP_PORT/"
      return 0
    fi
  done
  exit 3
}

# Stop, then delete everything the stack holds: DIR and PostgreSQL's data dir, which may live
# outside it (pg_pick_datadir), so that the next start begins empty.
cmd_purge() {
  local fallback pid
  fallback=$(pg_fallback_datadir)
  if [[ -d $DIR ]]; then
    cmd_stop
    rm -rf -- "$DIR"
  fi
  if [[ -d $fallback ]]; then
    pid=$(read_pidfile "$fallback/postmaster.pid")
    [[ -n $pid ]] && pid_alive "$pid" && die "a PostgreSQL (pid $pid) still runs in $fallback"
    rm -rf -- "$fallback"
  fi
  say "purged (dir $DIR)"
}

# One line of `status`; false if that server is not up. UP and DETAILS are functions.
status_line() {
  local name=$1 port=$2 up=$3 details=$4 line
  if "$up"; then
    line="running  127.0.0.1:$port  $("$details")"
  else
    line="stopped  127.0.0.1:$port"
  fi
  printf '%-11s %s\n' "$name" "$line"
  [[ $line == running* ]]
}

cmd_status() {
  resolve_ports
  set_paths
  local all=0
  status_line postgres "$PG_PORT" pg_up pg_status_details || all=3
  status_line redis "$REDIS_PORT" redis_up redis_status_details || all=3
  local n port
  if ((CLUSTER)); then
    for port in $(redis_cluster_ports); do
      redis_node "$port"
      status_line "redis-$((port - PORT_BASE - 60))" "$port" redis_up redis_cluster_status_details || all=3
    done
    redis_node single
  fi
  for n in $(rabbit_nodes); do
    rabbit_node "$n"
    status_line "rabbitmq$( ((CLUSTER)) && echo "-$n")" "$AMQP_PORT" rabbit_up rabbit_status_details || all=3
  done
  return "$all"
}

main() {
  parse_args "$@"
  case $CMD in
    start)
      require_root "run as root (PostgreSQL is started through runuser -u postgres)"
      cmd_start >&2
      print_env
      ;;
    stop)
      require_root
      cmd_stop >&2
      ;;
    status)
      local rc=0
      cmd_status || rc=$? # exit code 3 = not all running, not an error worth a trace
      exit "$rc"
      ;;
    env)
      resolve_ports
      print_env
      ;;
    kill)
      require_root
      cmd_kill
      ;;
    purge)
      require_root
      cmd_purge >&2
      ;;
    leader)
      resolve_ports
      set_paths
      cmd_leader
      ;;
    *) usage ;;
  esac
}

main "$@"
