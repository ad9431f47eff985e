# PostgreSQL 15 of scripts/stack.sh: data dir, start, wait, stop. Sourced by stack.sh.
# Runs as the postgres user: PostgreSQL refuses to run as root.
# shellcheck shell=bash

PG_BIN=/usr/lib/postgresql/15/bin

# PGDATA is settled by pg_pick_datadir on start; other commands read where the last start put it.
pg_set_paths() {
  PG_LOCATION_FILE=$DIR/pgdata-location
  PGDATA=
  [[ -f $PG_LOCATION_FILE ]] && PGDATA=$(head -n1 "$PG_LOCATION_FILE")
  return 0
}

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
    PGDATA=$(pg_fallback_datadir)
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

# Where the data dir goes when DIR will not do (pg_pick_datadir); purge deletes it too.
pg_fallback_datadir() { echo "/tmp/orders-pg-$(printf '%s' "$DIR" | sha256sum | cut -c1-12)"; }

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

pg_up() { pg_alive && pg_answering; }
pg_status_details() { echo "pid $(pg_postmaster_pid)  data $PGDATA"; }

# After a kill -9 of the postmaster, orphaned backends (cwd PGDATA, like the postmaster) keep
# the shared memory attached and block the next start. (Matching on comm spares e.g. a
# developer's shell that happens to sit in PGDATA.)
pg_kill_leftovers() {
  local pid
  for pid in $(pids_with_cwd "$PGDATA" postgres); do
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
  # Benchmarks of the server's own settings (BENCHMARKS.md): lines appended as they are.
  if [[ -n ${STACK_POSTGRES_CONF_EXTRA:-} ]]; then printf '%s\n' "$STACK_POSTGRES_CONF_EXTRA" >>"$PGDATA/stack.conf"; fi
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
      [[ -z ${STACK_POSTGRES_CONF_EXTRA:-} ]] ||
        say "[postgres] STACK_POSTGRES_CONF_EXTRA ignored: it takes effect on a start (stack.sh stop first)"
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
  wait_until_ready PostgreSQL "$PG_PORT" pg_alive pg_answering "$log" answer
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
