#!/usr/bin/env bash
# Local PostgreSQL 15, Redis 7 and RabbitMQ 3.10 on 127.0.0.1 for development and tests,
# without systemd. Everything a stack owns (config, data, logs, pid files) lives under DIR,
# except PostgreSQL's data dir when the postgres user cannot reach DIR (see pg_pick_datadir).
#
#   scripts/stack.sh start  [--dir DIR] [--port-base N]   # prints 3 export lines on stdout
#   scripts/stack.sh stop   [--dir DIR]
#   scripts/stack.sh status [--dir DIR]                   # exit 0 if all running, else 3
#   scripts/stack.sh env    [--dir DIR] [--port-base N]   # prints 3 export lines on stdout
#   scripts/stack.sh kill   SERVICE [--dir DIR]           # fault drills: redis (SIGKILL),
#                           rabbitmq (SIGKILL), postgres (fast shutdown); `start` brings it back
#   scripts/stack.sh purge  [--dir DIR]                   # stop, then delete all its data
#
# DIR defaults to <repo>/.local/stack, the port base to 15400. Ports: PostgreSQL base+32,
# Redis base+79, AMQP base+72, Erlang distribution base+73, epmd base+69, rabbitmqctl's own
# distribution listener base+74..78. Two stacks with different DIR and base share nothing.
# Progress and errors go to stderr, so `eval "$(scripts/stack.sh start)"` works. The ports
# are recorded in DIR/ports; a later start without --port-base reuses them.
# STACK_WAIT_SECS (default 60) bounds each wait for PostgreSQL, Redis and the CLI calls;
# STACK_RABBIT_WAIT_SECS (default 180) bounds RabbitMQ's start as a whole: the first boot of
# Erlang and of a fresh node on a busy 2-core box can take well over a minute.
# REDIS_MAXMEMORY (default 1gb) is Redis's maxmemory, set on every start (a running Redis gets
# it by CONFIG SET); the policy is always noeviction (a write that does not fit is refused,
# never a key silently evicted).
set -Eeuo pipefail
# set -e alone dies silently; say where (also inside functions and the parallel subshells).
trap 'echo "stack: error: unexpected failure (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PG_BIN=/usr/lib/postgresql/15/bin
# The /usr/sbin/rabbitmq* wrappers of the Debian package `su` to the rabbitmq user and reset
# HOME, which would break our private cookie and DIR ownership; the scripts here are the real ones.
RABBIT_BIN=/usr/lib/rabbitmq/bin
WAIT_SECS=${STACK_WAIT_SECS:-60}
RABBIT_WAIT_SECS=${STACK_RABBIT_WAIT_SECS:-180}
REDIS_MAXMEMORY=${REDIS_MAXMEMORY:-1gb}
DEFAULT_PORT_BASE=15400
DB_USER=orders DB_PASS=orders DB_NAME=orders
MQ_USER=orders MQ_PASS=orders

# ---------------------------------------------------------------------------------------------
# small helpers

say() { echo "stack: $*" >&2; }
die() { echo "stack: error: $*" >&2; exit 1; }

usage() {
  sed -n '6,12p' "${BASH_SOURCE[0]}" | sed 's/^#  //' >&2
  exit 2
}

# True if PID names a live process. kill -0 is not enough: PID 1 in some containers reaps
# slowly, and a zombie still answers kill -0 although it is dead for our purposes.
pid_alive() {
  local pid=$1 stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != [ZX] ]]
}

# PID from the first line of a pid file, or nothing.
read_pidfile() { if [[ -f $1 ]]; then head -n1 "$1" 2>/dev/null | tr -dc 0-9; fi; return 0; }

# The process's command line with NULs turned into spaces (DIR never contains spaces).
cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# Stop one process by PID: TERM, wait up to $2 seconds, then KILL.
terminate_pid() {
  local pid=$1 grace=${2:-10} i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  say "pid $pid ignored TERM for ${grace}s, sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
}

# True if something accepts TCP connections on 127.0.0.1:PORT.
port_open() { timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# PIDs listening on TCP PORT (any address), straight from /proc: LISTEN sockets (state 0A)
# of /proc/net/tcp{,6} by inode, then the processes holding them (no need for ss/lsof).
pids_on_port() {
  local hex inode
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u |
    while read -r inode; do
      find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:\[$inode\]" 2>/dev/null | cut -d/ -f3
    done | sort -u || true
}

# Before launching a server: its port must be free, otherwise the server would fail with an
# error buried in its log (or, worse, we would talk to someone else's server).
require_free_port() {
  if port_open "$1"; then
    die "$2: port $1 on 127.0.0.1 is already in use by a process that is not this stack's ($DIR)"
  fi
}

# Print the tail of a log file to stderr, for failed waits.
show_log() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    echo "----- last lines of $f -----" >&2
    tail -n 30 "$f" >&2
  done
  echo "-----" >&2
}

# Run a command that daemonizes (pg_ctl, redis-server, rabbitmq-server -detached, epmd -daemon)
# with stdio on a log file and every other inherited descriptor closed. This matters: a server
# that inherits our lock (fd 9) would hold it forever, and one that inherits a caller's pipe
# makes `$(stack.sh start)` or `... 2>&1 | tee` wait for EOF until the server stops.
launch() {
  local log=$1
  shift
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    "$@"
  ) </dev/null >>"$log" 2>&1
}

# ---------------------------------------------------------------------------------------------
# options, DIR and ports

parse_args() {
  CMD=${1:-}
  [[ -n $CMD ]] || usage
  shift
  DIR="$REPO/.local/stack"
  PORT_BASE_ARG=
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

# Explicit --port-base wins, else what the last start recorded, else the default.
resolve_ports() {
  local recorded
  recorded=$(recorded_port_base)
  set_ports "${PORT_BASE_ARG:-${recorded:-$DEFAULT_PORT_BASE}}"
}

write_ports_file() {
  cat >"$PORTS_FILE" <<EOF
# written by scripts/stack.sh start; stop/status/env read it
PORT_BASE=$PORT_BASE
PG_PORT=$PG_PORT
REDIS_PORT=$REDIS_PORT
AMQP_PORT=$AMQP_PORT
DIST_PORT=$DIST_PORT
EPMD_PORT=$EPMD_PORT
EOF
}

# Paths for all three servers (PGDATA is settled separately, see pg_pick_datadir).
set_paths() {
  REDIS_DIR=$DIR/redis
  REDIS_CONF=$REDIS_DIR/redis.conf
  REDIS_PID=$REDIS_DIR/redis.pid
  REDIS_LOG=$REDIS_DIR/redis.log

  MQ_DIR=$DIR/rabbitmq
  MQ_NODE=orders-$AMQP_PORT@localhost
  MQ_HOME=$MQ_DIR/home # HOME of server and CLI: holds this stack's private .erlang.cookie
  MQ_PID=$MQ_DIR/rabbitmq.pid
  MQ_LOG_BASE=$MQ_DIR/log
  MQ_LOG=$MQ_LOG_BASE/$MQ_NODE.log
  MQ_STARTUP_LOG=$MQ_LOG_BASE/startup.log
  EPMD_PID=$MQ_DIR/epmd.pid
  EPMD_LOG=$MQ_LOG_BASE/epmd.log

  PG_LOCATION_FILE=$DIR/pgdata-location
  PGDATA=
  [[ -f $PG_LOCATION_FILE ]] && PGDATA=$(head -n1 "$PG_LOCATION_FILE")
  return 0
}

print_env() {
  echo "export DATABASE_URL=postgresql://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB_NAME"
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
  echo "export RABBITMQ_URL=amqp://$MQ_USER:$MQ_PASS@127.0.0.1:$AMQP_PORT/"
}

# Serialize start/stop on one DIR (two CI steps racing would otherwise start two copies).
take_lock() {
  exec 9>"$DIR/.lock"
  # Long enough for another start of the same DIR to finish, RabbitMQ's first boot included.
  local secs=$((RABBIT_WAIT_SECS + WAIT_SECS))
  flock -w "$secs" 9 || die "another scripts/stack.sh is busy with $DIR for ${secs}s"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL (runs as the postgres user: it refuses to run as root)

# cd / first: the caller's cwd may be inside a mode-700 home, and initdb/pg_ctl fail when they
# cannot resolve their current directory.
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

# The data dir lives in DIR/postgres if the postgres user can get there; when DIR is below a
# directory postgres cannot traverse (CI checkouts under a mode-700 home), or so deep that the
# socket path would exceed the 107-byte limit, it goes to a /tmp dir named after DIR's hash.
pg_pick_datadir() {
  local recorded=$PGDATA candidate=$DIR/postgres
  if [[ -n $recorded ]]; then
    PGDATA=$recorded
  elif ((${#candidate} <= 85)) && as_postgres test -x "$DIR"; then
    PGDATA=$candidate
  else
    PGDATA=/tmp/orders-pg-$(printf '%s' "$DIR" | sha256sum | cut -c1-12)
    say "[postgres] postgres cannot use $DIR (not traversable, or path too long); data dir is $PGDATA instead"
  fi
  echo "$PGDATA" >"$PG_LOCATION_FILE"
  if [[ -e $PGDATA ]]; then
    # /tmp is world-writable: never adopt a dir somebody else created.
    [[ $(stat -c %U "$PGDATA") == postgres ]] || die "PostgreSQL: $PGDATA exists but is not owned by postgres"
  else
    install -d -m 700 -o postgres -g postgres "$PGDATA"
  fi
}

pg_postmaster_pid() { read_pidfile "$PGDATA/postmaster.pid"; }

# Our postmaster is alive: the PID in postmaster.pid is alive AND has PGDATA as its cwd (the
# postmaster chdirs there), so a recycled PID is never mistaken for it.
pg_alive() {
  local pid
  [[ -n $PGDATA ]] || return 1
  pid=$(pg_postmaster_pid)
  pid_alive "$pid" && [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$PGDATA" ]]
}

pg_answering() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 3; }

# Every postgres process whose cwd is PGDATA: the postmaster and its children. After a kill -9
# of the postmaster, orphaned backends keep the shared memory attached and block the next start.
# (The exe check spares e.g. a developer's shell that happens to sit in PGDATA.)
pg_all_pids() {
  local p
  [[ -n $PGDATA ]] || return 0
  for p in /proc/[0-9]*; do
    if [[ $(readlink "$p/cwd" 2>/dev/null) == "$PGDATA" && $(readlink "$p/exe" 2>/dev/null) == "$PG_BIN/postgres" ]]; then
      echo "${p#/proc/}"
    fi
  done
  return 0
}

pg_kill_leftovers() {
  local pid
  for pid in $(pg_all_pids); do
    say "[postgres] killing leftover process $pid of $PGDATA"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

pg_write_conf() {
  # Rewritten on every start so a new port base takes effect; postgresql.conf includes it.
  cat >"$PGDATA/stack.conf" <<EOF
# written by scripts/stack.sh on every start
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGDATA'
unix_socket_permissions = 0700   # local trust auth: only postgres/root may use the socket
max_connections = 200
shared_buffers = 256MB
synchronous_commit = on
fsync = on
max_wal_size = 1GB
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  chown postgres:postgres "$PGDATA/stack.conf"
}

pg_init() {
  # The marker is written last: a data dir without it is a half-done initdb (killed run),
  # which initdb refuses to reuse, so start over.
  [[ -f $PGDATA/stack-initialized ]] && return 0
  say "[postgres] initdb in $PGDATA"
  find "$PGDATA" -mindepth 1 -delete
  if ! as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --no-instructions >"$DIR/initdb.log" 2>&1; then
    show_log "$DIR/initdb.log"
    die "PostgreSQL: initdb failed"
  fi
  echo "include 'stack.conf'" >>"$PGDATA/postgresql.conf"
  touch "$PGDATA/stack-initialized"
}

pg_create_role_and_db() {
  as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA" -p "$PG_PORT" -U postgres -d postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '$DB_USER', '$DB_PASS')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER')\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$DB_NAME', '$DB_USER')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
SQL
}

start_postgres() {
  pg_pick_datadir
  local log=$PGDATA/server.log
  if pg_alive; then
    if pg_answering; then
      say "[postgres] already running (pid $(pg_postmaster_pid)) on 127.0.0.1:$PG_PORT"
      pg_create_role_and_db
      return 0
    fi
    # Alive but not answering: starting up or in crash recovery; wait below, don't start a copy.
    say "[postgres] running (pid $(pg_postmaster_pid)) but not ready yet, waiting"
  else
    # Stale state of a killed run: orphaned backends, a postmaster.pid whose PID is dead or
    # recycled (postgres refuses to start if that PID is alive), socket lock files.
    pg_kill_leftovers
    rm -f "$PGDATA/postmaster.pid" "$PGDATA"/.s.PGSQL.*
    require_free_port "$PG_PORT" PostgreSQL
    pg_init
    pg_write_conf
    say "[postgres] starting on 127.0.0.1:$PG_PORT"
    # -W: don't wait here, so the wait below is the single place with a timeout and log tail.
    launch "$DIR/pg_ctl.log" as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$log" -W start ||
      { show_log "$DIR/pg_ctl.log" "$log"; die "PostgreSQL: pg_ctl start failed"; }
  fi
  # A deadline, not a count of tries: each pg_isready may itself take up to 3 s.
  local t0=$SECONDS
  until pg_answering; do
    # Give the postmaster 2 s to write its pid file before treating its absence as death.
    if ((SECONDS - t0 > 2)) && ! pg_alive; then
      show_log "$log"
      die "PostgreSQL exited during startup (port $PG_PORT)"
    fi
    if ((SECONDS - t0 >= WAIT_SECS)); then
      show_log "$log"
      die "PostgreSQL did not answer on 127.0.0.1:$PG_PORT within ${WAIT_SECS}s (STACK_WAIT_SECS)"
    fi
    sleep 0.2
  done
  pg_create_role_and_db
  say "[postgres] ready on 127.0.0.1:$PG_PORT (pid $(pg_postmaster_pid), data $PGDATA)"
}

stop_postgres() {
  [[ -n $PGDATA && -d $PGDATA ]] || return 0
  if pg_alive; then
    say "[postgres] stopping (pid $(pg_postmaster_pid))"
    as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t "$WAIT_SECS" stop </dev/null >&2 ||
      terminate_pid "$(pg_postmaster_pid)" 5
  fi
  pg_kill_leftovers
}

# ---------------------------------------------------------------------------------------------
# Redis

redis_pid() { read_pidfile "$REDIS_PID"; }

# Alive and really our redis-server (argv[0] becomes "redis-server 127.0.0.1:PORT").
redis_alive() {
  local pid
  pid=$(redis_pid)
  pid_alive "$pid" && [[ $(cmdline_of "$pid") == redis-server*":$REDIS_PORT"* ]]
}

redis_answering() { [[ $(timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

redis_write_conf() {
  cat >"$REDIS_CONF" <<EOF
# written by scripts/stack.sh on every start
bind 127.0.0.1
port $REDIS_PORT
protected-mode no
daemonize yes
pidfile "$REDIS_PID"
logfile "$REDIS_LOG"
dir "$REDIS_DIR"
# AOF only: every write is kept (fsync once a second), no RDB snapshots.
appendonly yes
appendfsync everysec
save ""
# Bounded (SPEC G6): past maxmemory, writes are refused (the API answers 503), nothing evicted.
maxmemory $REDIS_MAXMEMORY
maxmemory-policy noeviction
EOF
}

redis_apply_maxmemory() {
  local r
  r=$(timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" config set maxmemory "$REDIS_MAXMEMORY" 2>&1)
  [[ $r == OK ]] || die "Redis: CONFIG SET maxmemory $REDIS_MAXMEMORY failed: $r"
  r=$(timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" config set maxmemory-policy noeviction 2>&1)
  [[ $r == OK ]] || die "Redis: CONFIG SET maxmemory-policy noeviction failed: $r"
}

start_redis() {
  mkdir -p "$REDIS_DIR"
  if redis_alive; then
    if redis_answering; then
      say "[redis] already running (pid $(redis_pid)) on 127.0.0.1:$REDIS_PORT"
      # The memory bound follows REDIS_MAXMEMORY on every start, also of a running server.
      redis_apply_maxmemory
      return 0
    fi
    say "[redis] running (pid $(redis_pid)) but not answering yet (loading the AOF?), waiting"
  else
    rm -f "$REDIS_PID"
    require_free_port "$REDIS_PORT" Redis
    redis_write_conf
    say "[redis] starting on 127.0.0.1:$REDIS_PORT"
    launch "$REDIS_LOG" redis-server "$REDIS_CONF" || { show_log "$REDIS_LOG"; die "Redis failed to start"; }
  fi
  local t0=$SECONDS
  until redis_answering; do
    if ((SECONDS - t0 > 2)) && ! redis_alive; then
      show_log "$REDIS_LOG"
      die "Redis exited during startup (port $REDIS_PORT)"
    fi
    if ((SECONDS - t0 >= WAIT_SECS)); then
      show_log "$REDIS_LOG"
      die "Redis did not answer PONG on 127.0.0.1:$REDIS_PORT within ${WAIT_SECS}s (STACK_WAIT_SECS)"
    fi
    sleep 0.2
  done
  say "[redis] ready on 127.0.0.1:$REDIS_PORT (pid $(redis_pid))"
}

stop_redis() {
  redis_alive || return 0
  local pid
  pid=$(redis_pid)
  say "[redis] stopping (pid $pid)"
  # SHUTDOWN (not kill -9) so the AOF is flushed and fsynced; TERM/KILL by PID as fallback.
  timeout 10 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
  terminate_pid "$pid" "$WAIT_SECS"
}

# ---------------------------------------------------------------------------------------------
# RabbitMQ (plus the epmd it needs, on a port of its own)

# Run a RabbitMQ script (server or CLI) with this stack's environment. The CLI needs exactly
# the same node name, cookie (via HOME) and epmd port as the server, so both go through here.
# timeout(1) fences every call (RMQ_TIMEOUT seconds): a CLI that cannot reach epmd or the node
# may otherwise hang.
rmq() {
  local tool=$1
  shift
  timeout "${RMQ_TIMEOUT:-$((WAIT_SECS + 15))}" env HOME="$MQ_HOME" \
    RABBITMQ_CONF_ENV_FILE="$MQ_DIR/rabbitmq-env.conf" \
    RABBITMQ_NODENAME="$MQ_NODE" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$AMQP_PORT" \
    RABBITMQ_DIST_PORT="$DIST_PORT" \
    RABBITMQ_CTL_DIST_PORT_MIN="$CTL_DIST_MIN" \
    RABBITMQ_CTL_DIST_PORT_MAX="$CTL_DIST_MAX" \
    RABBITMQ_MNESIA_BASE="$MQ_DIR/mnesia" \
    RABBITMQ_LOG_BASE="$MQ_LOG_BASE" \
    RABBITMQ_PID_FILE="$MQ_PID" \
    RABBITMQ_CONFIG_FILE="$MQ_DIR/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$MQ_DIR/enabled_plugins" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    ERL_EPMD_PORT="$EPMD_PORT" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    "$RABBIT_BIN/$tool" "$@"
}

rabbit_pid() { read_pidfile "$MQ_PID"; }

# The beam of this stack carries "-home MQ_HOME" on its command line; a recycled PID won't.
rabbit_is_ours() { [[ $(cmdline_of "$1") == *" -home $MQ_HOME "* ]]; }

rabbit_alive() {
  local pid
  pid=$(rabbit_pid)
  pid_alive "$pid" && rabbit_is_ours "$pid"
}

rabbit_answering() { port_open "$AMQP_PORT"; }

# Beams of this stack that may have no (valid) pid file, e.g. a start that hung early.
rabbit_stray_pids() {
  local p
  for p in /proc/[0-9]*; do
    if [[ $(cat "$p/comm" 2>/dev/null) == beam* ]] && rabbit_is_ours "${p#/proc/}"; then echo "${p#/proc/}"; fi
  done
  return 0
}

epmd_pids() {
  local pid
  for pid in $(read_pidfile "$EPMD_PID") $(pids_on_port "$EPMD_PORT"); do
    if pid_alive "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == epmd ]]; then echo "$pid"; fi
  done | sort -u
}

rabbit_write_conf() {
  mkdir -p "$MQ_HOME" "$MQ_LOG_BASE" "$MQ_DIR/mnesia"
  chmod 700 "$MQ_HOME"
  # A cookie of our own: the CLI authenticates with it, and no other node can talk to ours.
  if [[ ! -s $MQ_HOME/.erlang.cookie ]]; then
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$MQ_HOME/.erlang.cookie")
    chmod 400 "$MQ_HOME/.erlang.cookie"
  fi
  # Empty: keeps a system-wide /etc/rabbitmq/rabbitmq-env.conf from changing our node.
  : >"$MQ_DIR/rabbitmq-env.conf"
  # No plugins (no management UI): noticeably faster boot.
  echo '[].' >"$MQ_DIR/enabled_plugins"
  # default_user* only act on a blank database; rabbit_ensure_user covers the rest.
  cat >"$MQ_DIR/rabbitmq.conf" <<EOF
# written by scripts/stack.sh on every start
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
default_vhost = /
default_user = $MQ_USER
default_pass = $MQ_PASS
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.file.level = info
EOF
}

# epmd is started by us (rather than implicitly by erl) so it listens on 127.0.0.1 only and we
# know its PID for stop. An epmd already on our port (left by a killed run) is reused.
ensure_epmd() {
  local pid i
  pid=$(epmd_pids | head -n1)
  if [[ -n $pid ]]; then
    echo "$pid" >"$EPMD_PID"
    return 0
  fi
  require_free_port "$EPMD_PORT" epmd
  launch "$EPMD_LOG" env ERL_EPMD_ADDRESS=127.0.0.1 epmd -port "$EPMD_PORT" -daemon ||
    { show_log "$EPMD_LOG"; die "epmd failed to start on port $EPMD_PORT"; }
  for ((i = 0; i < 50; i++)); do
    pid=$(epmd_pids | head -n1)
    [[ -n $pid ]] && { echo "$pid" >"$EPMD_PID"; return 0; }
    sleep 0.1
  done
  show_log "$EPMD_LOG"
  die "epmd did not start on port $EPMD_PORT"
}

# Kill this stack's beam(s) by PID: used before a retry and as the fallback of stop.
rabbit_kill() {
  local pid
  for pid in $(rabbit_pid) $(rabbit_stray_pids); do
    if pid_alive "$pid" && rabbit_is_ours "$pid"; then terminate_pid "$pid" 5; fi
  done
  rm -f "$MQ_PID"
}

# The beam of a detached start, once it exists (erl forks it off and returns).
rabbit_find_beam() {
  local i pid
  for ((i = 0; i < 100; i++)); do
    pid=$(rabbit_stray_pids | head -n1)
    [[ -n $pid ]] && { echo "$pid"; return 0; }
    sleep 0.1
  done
  return 0
}

# Started and ready by RabbitMQ's own check: `rabbitmqctl wait --pid BEAM` returns once the
# rabbit application runs, and fails at once if that beam dies. One deadline
# (STACK_RABBIT_WAIT_SECS) covers the whole start, so a slow first boot gets all of it; the
# node is launched a second time only when the first beam exited, never because it was slow.
rabbit_launch_and_wait() {
  local attempt t0=$SECONDS left pid t1
  for attempt in 1 2; do
    left=$((RABBIT_WAIT_SECS - (SECONDS - t0)))
    ((left >= 20)) || break
    rm -f "$MQ_PID" # a stale pid file would name a dead beam
    say "[rabbitmq] starting node $MQ_NODE on 127.0.0.1:$AMQP_PORT (attempt $attempt, waiting up to ${left}s)"
    echo "== $(date '+%F %T') rabbitmq-server -detached (attempt $attempt)" >>"$MQ_STARTUP_LOG"
    launch "$MQ_STARTUP_LOG" rmq rabbitmq-server -detached ||
      { show_log "$MQ_STARTUP_LOG"; die "RabbitMQ: rabbitmq-server -detached failed"; }
    pid=$(rabbit_find_beam)
    while [[ -n $pid ]] && pid_alive "$pid"; do
      left=$((RABBIT_WAIT_SECS - (SECONDS - t0)))
      if ((left <= 0)); then
        # Alive but not ready in time: report it with its log, and take it down so that the
        # next start begins clean.
        show_log "$MQ_STARTUP_LOG" "$MQ_LOG"
        rabbit_kill
        die "RabbitMQ node $MQ_NODE (pid $pid) was not ready on 127.0.0.1:$AMQP_PORT within ${RABBIT_WAIT_SECS}s (STACK_RABBIT_WAIT_SECS); stopped it"
      fi
      # timeout(1) a little above the CLI's own --timeout, so the CLI's message is the one logged.
      if RMQ_TIMEOUT=$((left + 10)) ctl wait --pid "$pid" --timeout "$left"; then
        t1=$SECONDS
        until rabbit_answering; do
          ((SECONDS - t1 < 15)) || break
          sleep 0.2
        done
        if rabbit_answering; then
          say "[rabbitmq] node up in $((SECONDS - t0))s"
          return 0
        fi
        show_log "$MQ_STARTUP_LOG" "$MQ_LOG"
        die "RabbitMQ node $MQ_NODE runs but does not accept connections on 127.0.0.1:$AMQP_PORT"
      fi
      # The CLI gave up early (its own start can fail on a loaded box) while the beam lives:
      # ask again until the deadline.
      sleep 1
    done
    say "[rabbitmq] node exited during startup (attempt $attempt)"
    rabbit_kill
  done
  show_log "$MQ_STARTUP_LOG" "$MQ_LOG"
  die "RabbitMQ exited during startup on 127.0.0.1:$AMQP_PORT (attempt ${attempt:-1}; ${RABBIT_WAIT_SECS}s allowed, STACK_RABBIT_WAIT_SECS)"
}

# rabbitmqctl against this node, output to the startup log.
ctl() {
  echo "== $(date '+%F %T') rabbitmqctl $1" >>"$MQ_STARTUP_LOG"
  launch "$MQ_STARTUP_LOG" rmq rabbitmqctl -q -n "$MQ_NODE" "$@"
}

# The orders user normally comes from default_user on the first boot; check it really works
# (and repair it) whenever we started the node. One CLI call (~1 s) in the normal case.
rabbit_ensure_user() {
  ctl authenticate_user "$MQ_USER" "$MQ_PASS" && return 0
  say "[rabbitmq] creating user $MQ_USER"
  if ! { ctl add_user "$MQ_USER" "$MQ_PASS" || ctl change_password "$MQ_USER" "$MQ_PASS"; } ||
    ! ctl set_user_tags "$MQ_USER" administrator ||
    ! ctl set_permissions -p / "$MQ_USER" '.*' '.*' '.*'; then
    show_log "$MQ_STARTUP_LOG"
    die "RabbitMQ: could not create user $MQ_USER"
  fi
}

start_rabbitmq() {
  if rabbit_alive && rabbit_answering; then
    say "[rabbitmq] already running (pid $(rabbit_pid)) on 127.0.0.1:$AMQP_PORT"
    return 0
  fi
  # Stale state: a beam of ours without a working listener (hung or half-started run) is
  # killed; a stale pid file is removed at launch; a leftover epmd is reused.
  rabbit_kill
  require_free_port "$AMQP_PORT" RabbitMQ
  require_free_port "$DIST_PORT" "RabbitMQ (distribution)"
  rabbit_write_conf
  ensure_epmd
  rabbit_launch_and_wait
  rabbit_ensure_user
  say "[rabbitmq] ready on 127.0.0.1:$AMQP_PORT (pid $(rabbit_pid), node $MQ_NODE)"
}

stop_rabbitmq() {
  if rabbit_alive; then
    say "[rabbitmq] stopping (pid $(rabbit_pid))"
    # Graceful stop through the CLI; it returns when the beam has exited. Only called while
    # the node is alive: the CLI would otherwise start a fresh epmd as a side effect.
    ctl stop "$MQ_PID" || true
  fi
  rabbit_kill
  local pid
  for pid in $(epmd_pids); do
    say "[rabbitmq] stopping epmd (pid $pid, port $EPMD_PORT)"
    terminate_pid "$pid" 5
  done
  rm -f "$EPMD_PID"
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_start() {
  [[ $REDIS_MAXMEMORY =~ ^[0-9]+([kKmMgG][bB]?)?$ ]] ||
    die "REDIS_MAXMEMORY must be a size such as 1gb, 256mb or 1048576, got '$REDIS_MAXMEMORY'"
  [[ $RABBIT_WAIT_SECS =~ ^[0-9]+$ && $WAIT_SECS =~ ^[0-9]+$ ]] ||
    die "STACK_WAIT_SECS and STACK_RABBIT_WAIT_SECS must be whole seconds"
  mkdir -p "$DIR"
  take_lock
  local recorded
  recorded=$(recorded_port_base)
  resolve_ports
  if [[ -n $recorded && $recorded != "$PORT_BASE" ]]; then
    # Changing ports under a running stack would orphan it: require a stop first.
    set_ports "$recorded"
    set_paths
    if pg_alive || redis_alive || rabbit_alive; then
      die "the stack in $DIR runs with port base $recorded; run 'scripts/stack.sh stop --dir $DIR' first"
    fi
    resolve_ports
  fi
  set_paths
  write_ports_file

  local t0=$SECONDS failed=0 rabbit_job pg_job redis_job
  # In parallel, slowest first: each function reports its own failure (log tail + error).
  start_rabbitmq & rabbit_job=$!
  start_postgres & pg_job=$!
  start_redis & redis_job=$!
  wait "$pg_job" || failed=1
  wait "$redis_job" || failed=1
  wait "$rabbit_job" || failed=1
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
  stop_rabbitmq
  stop_redis
  stop_postgres
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
    postgres)
      pg_alive || die "PostgreSQL is not running in $DIR"
      pid=$(pg_postmaster_pid)
      stop_postgres
      ;;
    *) die "kill: unknown service '$SERVICE' (redis, rabbitmq, postgres)" ;;
  esac
  local i
  for ((i = 0; i < WAIT_SECS * 10; i++)); do pid_alive "$pid" || break; sleep 0.1; done
  pid_alive "$pid" && die "$SERVICE (pid $pid) did not stop"
  say "[$SERVICE] killed (pid $pid)"
}

# Stop, then delete everything the stack holds: DIR and PostgreSQL's data dir, which may live
# outside it (pg_pick_datadir), so that the next start begins empty.
cmd_purge() {
  local fallback pid
  fallback=/tmp/orders-pg-$(printf '%s' "$DIR" | sha256sum | cut -c1-12)
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

cmd_status() {
  resolve_ports
  set_paths
  local all=0 line
  if pg_alive && pg_answering; then
    line="running  127.0.0.1:$PG_PORT  pid $(pg_postmaster_pid)  data $PGDATA"
  else
    line="stopped  127.0.0.1:$PG_PORT"; all=3
  fi
  printf '%-9s %s\n' postgres "$line"
  if redis_alive && redis_answering; then
    line="running  127.0.0.1:$REDIS_PORT  pid $(redis_pid)"
  else
    line="stopped  127.0.0.1:$REDIS_PORT"; all=3
  fi
  printf '%-9s %s\n' redis "$line"
  if rabbit_alive && rabbit_answering; then
    line="running  127.0.0.1:$AMQP_PORT  pid $(rabbit_pid)  node $MQ_NODE"
  else
    line="stopped  127.0.0.1:$AMQP_PORT"; all=3
  fi
  printf '%-9s %s\n' rabbitmq "$line"
  return "$all"
}

main() {
  parse_args "$@"
  case $CMD in
    start)
      [[ $(id -u) -eq 0 ]] || die "run as root (PostgreSQL is started through runuser -u postgres)"
      cmd_start >&2
      print_env
      ;;
    stop)
      [[ $(id -u) -eq 0 ]] || die "run as root"
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
      [[ $(id -u) -eq 0 ]] || die "run as root"
      cmd_kill
      ;;
    purge)
      [[ $(id -u) -eq 0 ]] || die "run as root"
      cmd_purge >&2
      ;;
    *) usage ;;
  esac
}

main "$@"
