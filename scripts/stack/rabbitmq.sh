# RabbitMQ 3.10 of scripts/stack.sh, plus the epmd it needs on a port of its own: config,
# start, wait, stop. Sourced by stack.sh.
# shellcheck shell=bash

# The /usr/sbin/rabbitmq* wrappers of the Debian package `su` to the rabbitmq user and reset
# HOME, which would break our private cookie and DIR ownership; the scripts here are the real ones.
RABBIT_BIN=/usr/lib/rabbitmq/bin
RABBIT_WAIT_SECS=${STACK_RABBIT_WAIT_SECS:-180}

# Cluster mode (`start --cluster`, CLUSTER=1) runs three nodes of one cluster. Node 1 is the
# single mode's node (AMQP base+72, distribution base+73, DIR/rabbitmq); node N of 2 and 3
# listens on base+76+2N and base+77+2N (80/81, 82/83) with its files in DIR/rabbitmq-N. All
# share one epmd, the CLI's ports and the Erlang cookie (node 1's home), so that they can
# cluster and one CLI environment reaches each of them.
rabbit_nodes() { if ((CLUSTER)); then echo 1 2 3; else echo 1; fi; }

# The paths and ports of node N: every per-node function below works on the node last chosen.
rabbit_node() {
  MQ_N=$1
  if (($1 == 1)); then
    AMQP_PORT=$((PORT_BASE + 72)) DIST_PORT=$((PORT_BASE + 73)) MQ_DIR=$DIR/rabbitmq
  else
    AMQP_PORT=$((PORT_BASE + 76 + 2 * $1)) DIST_PORT=$((PORT_BASE + 77 + 2 * $1)) MQ_DIR=$DIR/rabbitmq-$1
  fi
  MQ_NODE=orders-$AMQP_PORT@localhost
  MQ_HOME=$DIR/rabbitmq/home # HOME of servers and CLI: holds this stack's private .erlang.cookie
  MQ_PID=$MQ_DIR/rabbitmq.pid
  MQ_LOG_BASE=$MQ_DIR/log
  MQ_LOG=$MQ_LOG_BASE/$MQ_NODE.log
  MQ_STARTUP_LOG=$MQ_LOG_BASE/startup.log
  EPMD_PID=$DIR/rabbitmq/epmd.pid
  EPMD_LOG=$DIR/rabbitmq/log/epmd.log
}

rabbit_set_paths() { rabbit_node 1; }

# Run a RabbitMQ script (server or CLI) with this stack's environment. The CLI needs exactly
# the same node name, cookie (via HOME) and epmd port as the server, so both go through here.
# timeout(1) fences every call (RMQ_TIMEOUT seconds): a CLI that cannot reach epmd or the node
# may otherwise hang.
rmq() {
  local tool=$1
  shift
  timeout "${RMQ_TIMEOUT:-$((WAIT_SECS + 15))}" env HOME="$MQ_HOME" ORDERS_STACK_DIR="$DIR" \
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

# The beam of this stack's node carries "-home MQ_HOME" on its command line and its node name
# in its environment (RABBITMQ_NODENAME, set by rmq); a recycled PID (or another node of the
# cluster) won't.
rabbit_is_ours() {
  [[ $(cmdline_of "$1") == *" -home $MQ_HOME "* ]] &&
    grep -qzxF "RABBITMQ_NODENAME=$MQ_NODE" "/proc/$1/environ" 2>/dev/null
}

rabbit_alive() {
  local pid
  pid=$(rabbit_pid)
  pid_alive "$pid" && rabbit_is_ours "$pid"
}

rabbit_answering() { port_open "$AMQP_PORT"; }

rabbit_up() { rabbit_alive && rabbit_answering; }
rabbit_status_details() { echo "pid $(rabbit_pid)  node $MQ_NODE"; }

# Beams of this stack that may have no (valid) pid file, e.g. a start that hung early.
rabbit_stray_pids() {
  local p
  for p in /proc/[0-9]*; do
    if [[ $(cat "$p/comm" 2>/dev/null) == beam* ]] && rabbit_is_ours "${p#/proc/}"; then echo "${p#/proc/}"; fi
  done
  return 0
}

# An epmd is found by its pid file or by its port; but the port alone cannot tell ours from
# another stack's on the same ports (another checkout's test stack on the same port base), so
# one found only by its port must also carry ORDERS_STACK_DIR=DIR in its environment: ensure_epmd
# and rmq (whose erl would start an epmd itself) set it.
epmd_is_ours() { grep -qzxF "ORDERS_STACK_DIR=$DIR" "/proc/$1/environ" 2>/dev/null; }

epmd_pids() {
  local pid recorded
  recorded=$(read_pidfile "$EPMD_PID")
  for pid in $recorded $(pids_on_port "$EPMD_PORT"); do
    if ! pid_alive "$pid" || [[ $(cat "/proc/$pid/comm" 2>/dev/null) != epmd ]]; then continue; fi
    if [[ $pid == "$recorded" ]] || epmd_is_ours "$pid"; then echo "$pid"; fi
  done | sort -u
}

# A cookie of our own: the CLI authenticates with it, and no other node can talk to ours.
# Written before the nodes start (in parallel, they would race to write it).
rabbit_ensure_cookie() {
  mkdir -p "$MQ_HOME" "$DIR/rabbitmq/log"
  chmod 700 "$MQ_HOME"
  if [[ ! -s $MQ_HOME/.erlang.cookie ]]; then
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$MQ_HOME/.erlang.cookie")
    chmod 400 "$MQ_HOME/.erlang.cookie"
  fi
}

rabbit_write_conf() {
  mkdir -p "$MQ_LOG_BASE" "$MQ_DIR/mnesia"
  rabbit_ensure_cookie
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
  # Benchmarks of the broker's own settings (BENCHMARKS.md): lines appended as they are.
  if [[ -n ${STACK_RABBITMQ_CONF_EXTRA:-} ]]; then printf '%s\n' "$STACK_RABBITMQ_CONF_EXTRA" >>"$MQ_DIR/rabbitmq.conf"; fi
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
  launch "$EPMD_LOG" env ORDERS_STACK_DIR="$DIR" ERL_EPMD_ADDRESS=127.0.0.1 epmd -port "$EPMD_PORT" -daemon ||
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
    [[ -z ${STACK_RABBITMQ_CONF_EXTRA:-} ]] ||
      say "[rabbitmq] STACK_RABBITMQ_CONF_EXTRA ignored: it takes effect on a start (stack.sh stop first)"
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

stop_rabbitmq_node() {
  if rabbit_alive; then
    say "[rabbitmq] stopping node $MQ_NODE (pid $(rabbit_pid))"
    # Graceful stop through the CLI; it returns when the beam has exited. Only called while
    # the node is alive: the CLI would otherwise start a fresh epmd as a side effect.
    ctl stop "$MQ_PID" || true
  fi
  rabbit_kill
}

# Every node (the last first: node 1, which the others joined, stops last), then epmd.
stop_rabbitmq() {
  local n pid
  for n in $(rabbit_nodes | tr ' ' '\n' | sort -r); do
    rabbit_node "$n"
    stop_rabbitmq_node
  done
  rabbit_node 1
  for pid in $(epmd_pids); do
    say "[rabbitmq] stopping epmd (pid $pid, port $EPMD_PORT)"
    terminate_pid "$pid" 5
  done
  rm -f "$EPMD_PID"
}

# Cluster mode: whether node N's cluster has node 1 in it (each node alone is a cluster of one).
rabbit_in_cluster_of_node1() {
  local first=orders-$((PORT_BASE + 72))@localhost out
  out=$(rmq rabbitmqctl -q -n "$MQ_NODE" cluster_status --formatter json 2>>"$MQ_STARTUP_LOG") || return 1
  [[ $out == *"\"$first\""* ]]
}

# Cluster mode: node N (2 or 3, up) joins node 1's cluster unless it is in it already. A node
# restarted after a kill rejoins by itself: its database remembers the cluster.
rabbit_join() {
  rabbit_in_cluster_of_node1 && return 0
  local first=orders-$((PORT_BASE + 72))@localhost
  say "[rabbitmq] node $MQ_NODE joins the cluster of $first"
  ctl stop_app && ctl reset && ctl join_cluster "$first" && ctl start_app ||
    { show_log "$MQ_STARTUP_LOG"; die "RabbitMQ: node $MQ_NODE could not join $first"; }
  rabbit_in_cluster_of_node1 || die "RabbitMQ: node $MQ_NODE is not in the cluster of $first after join_cluster"
}

# Every node of the mode, in parallel, then (cluster mode) the joins.
start_rabbitmq_nodes() {
  if ((!CLUSTER)); then
    start_rabbitmq
    return
  fi
  rabbit_ensure_cookie
  ensure_epmd
  local n failed=0 jobs=()
  for n in 1 2 3; do
    (rabbit_node "$n" && start_rabbitmq) & jobs+=($!)
  done
  for n in "${jobs[@]}"; do wait "$n" || failed=1; done
  ((failed == 0)) || return 1
  for n in 2 3; do
    rabbit_node "$n"
    rabbit_join
  done
  rabbit_node 1
  say "[rabbitmq] cluster of 3 nodes ready (AMQP on 127.0.0.1:$((PORT_BASE + 72)),$((PORT_BASE + 80)),$((PORT_BASE + 82)))"
}

# Cluster mode: the node that leads the quorum queue orders.persist, asked of the first node
# that answers; empty when none knows (the queue not declared yet, or no node up).
rabbit_leader_node() {
  local n out
  for n in 1 2 3; do
    rabbit_node "$n"
    rabbit_alive || continue
    out=$(RMQ_TIMEOUT=30 rmq rabbitmqctl -q -n "$MQ_NODE" list_queues name leader --formatter json 2>/dev/null) || continue
    python3 -c 'import json,sys
for q in json.loads(sys.argv[1]):
    if q.get("name") == "orders.persist": print(q.get("leader", ""))' "$out" 2>/dev/null && return 0
  done
  return 0
}
