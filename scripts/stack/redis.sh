# Redis 7 of scripts/stack.sh: config, start, wait, stop. Sourced by stack.sh.
# shellcheck shell=bash

REDIS_MAXMEMORY=${REDIS_MAXMEMORY:-1gb}

redis_set_paths() {
  REDIS_DIR=$DIR/redis
  REDIS_CONF=$REDIS_DIR/redis.conf
  REDIS_PID=$REDIS_DIR/redis.pid
  REDIS_LOG=$REDIS_DIR/redis.log
}

# redis-cli against this stack's server, fenced by timeout(1): SECS, then redis-cli's arguments.
redis_cli() {
  local secs=$1
  shift
  timeout "$secs" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

redis_pid() { read_pidfile "$REDIS_PID"; }

# Alive and really our redis-server (argv[0] becomes "redis-server 127.0.0.1:PORT").
redis_alive() {
  local pid
  pid=$(redis_pid)
  pid_alive "$pid" && [[ $(cmdline_of "$pid") == redis-server*":$REDIS_PORT"* ]]
}

redis_answering() { [[ $(redis_cli 5 ping 2>/dev/null) == PONG ]]; }

redis_up() { redis_alive && redis_answering; }
redis_status_details() { echo "pid $(redis_pid)"; }

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
  if ((${REDIS_CLUSTER_NODE:-0})); then
    # A node of the cluster mode (redis_cluster.sh). A failed master's replica takes over after
    # 1 s without it; the shards that are up keep serving while one is down (SPEC section 8).
    cat >>"$REDIS_CONF" <<EOF
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 1000
cluster-require-full-coverage no
# A replica's first sync (and a returning node's) starts at once, not after 5 s.
repl-diskless-sync-delay 0
EOF
  fi
}

redis_apply_maxmemory() {
  local setting r
  for setting in "maxmemory $REDIS_MAXMEMORY" "maxmemory-policy noeviction"; do
    # Word splitting intended: "NAME VALUE" becomes CONFIG SET's two arguments.
    # shellcheck disable=SC2086
    r=$(redis_cli 5 config set $setting 2>&1)
    [[ $r == OK ]] || die "Redis: CONFIG SET $setting failed: $r"
  done
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
  wait_until_ready Redis "$REDIS_PORT" redis_alive redis_answering "$REDIS_LOG" "answer PONG"
  say "[redis] ready on 127.0.0.1:$REDIS_PORT (pid $(redis_pid))"
}

stop_redis() {
  local pid
  if redis_alive; then
    pid=$(redis_pid)
    say "[redis] stopping (pid $pid)"
    # SHUTDOWN (not kill -9) so the AOF is flushed and fsynced; TERM/KILL by PID as fallback.
    redis_cli 10 shutdown >/dev/null 2>&1 || true
    terminate_pid "$pid" "$WAIT_SECS"
  fi
  # A server of this DIR without a (valid) pid file: a start interrupted between the launch
  # and the pid file. redis-server chdirs to REDIS_DIR, so its cwd names it.
  for pid in $(pids_with_cwd "$REDIS_DIR" redis-server); do
    say "[redis] stopping leftover process $pid of $REDIS_DIR"
    terminate_pid "$pid" 5
  done
}
