# Redis Cluster of scripts/stack.sh's cluster mode: six redis-server nodes (3 masters, each
# with one replica) on 127.0.0.1:base+60..base+65, files in DIR/redis-cluster/PORT. Each node is
# started, checked and stopped by redis.sh's functions on the node chosen with redis_node; the
# cluster is created once (`redis-cli --cluster create`) and remembered by every node's
# nodes.conf, so a node started again after a kill rejoins it (an old master as a replica).
# Sourced by stack.sh.
# shellcheck shell=bash

REDIS_CLUSTER_SIZE=6

redis_cluster_ports() {
  local n
  for ((n = 0; n < REDIS_CLUSTER_SIZE; n++)); do echo $((PORT_BASE + 60 + n)); done
}

# The node on PORT becomes "the" Redis of redis.sh's functions; redis_node single goes back to
# the single-mode server.
redis_node() {
  if [[ $1 == single ]]; then
    REDIS_PORT=$((PORT_BASE + 79)) REDIS_CLUSTER_NODE=0
    redis_set_paths
    return
  fi
  REDIS_PORT=$1 REDIS_CLUSTER_NODE=1
  REDIS_DIR=$DIR/redis-cluster/$1
  REDIS_CONF=$REDIS_DIR/redis.conf
  REDIS_PID=$REDIS_DIR/redis.pid
  REDIS_LOG=$REDIS_DIR/redis.log
}

redis_cluster_status_details() {
  echo "pid $(redis_pid)  $(redis_cli 5 role 2>/dev/null | head -n1)  cluster_state:$(redis_cluster_info cluster_state)"
}

# What `cluster info` says of FIELD on the chosen node, or nothing.
redis_cluster_info() { redis_cli 5 cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$1://p"; }

# Every node says cluster_state:ok and knows all the others, and every replica has finished its
# sync with its master (a replica still in its first sync cannot take over when its master dies).
redis_cluster_ok_everywhere() {
  local port replication
  for port in $(redis_cluster_ports); do
    redis_node "$port"
    [[ $(redis_cluster_info cluster_state) == ok && $(redis_cluster_info cluster_known_nodes) == "$REDIS_CLUSTER_SIZE" ]] ||
      return 1
    replication=$(redis_cli 5 info replication 2>/dev/null | tr -d '\r')
    [[ $replication != *role:slave* || $replication == *master_link_status:up* ]] || return 1
  done
}

start_redis_cluster() {
  local port failed=0 jobs=() addrs=() t0
  for port in $(redis_cluster_ports); do
    (redis_node "$port" && start_redis) & jobs+=($!)
    addrs+=("127.0.0.1:$port")
  done
  for port in "${jobs[@]}"; do wait "$port" || failed=1; done
  ((failed == 0)) || return 1
  redis_node "$((PORT_BASE + 60))"
  if [[ $(redis_cluster_info cluster_known_nodes) == 1 && $(redis_cluster_info cluster_slots_assigned) == 0 ]]; then
    say "[redis-cluster] creating 3 masters + 3 replicas on ${addrs[*]}"
    timeout "$WAIT_SECS" redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
      >>"$DIR/redis-cluster/create.log" 2>&1 ||
      { show_log "$DIR/redis-cluster/create.log"; die "redis-cli --cluster create failed"; }
  fi
  t0=$SECONDS
  until redis_cluster_ok_everywhere; do
    ((SECONDS - t0 < WAIT_SECS)) || die "Redis Cluster in $DIR/redis-cluster not ok on every node within ${WAIT_SECS}s"
    sleep 0.2
  done
  redis_node single
  say "[redis-cluster] ok on all $REDIS_CLUSTER_SIZE nodes ($(redis_cluster_ports | tr '\n' ' '| sed 's/ $//'))"
}

stop_redis_cluster() {
  local port
  for port in $(redis_cluster_ports); do
    redis_node "$port"
    stop_redis
  done
  redis_node single
}

# The seed list for REDIS_CLUSTER_NODES: every node (clients discover the rest anyway).
redis_cluster_seeds() { redis_cluster_ports | sed 's/^/127.0.0.1:/' | paste -sd, -; }

# The port of the master that serves SLOT now (CLUSTER NODES of the first node that answers:
# "id host:port@bus flags master ping pong epoch state slot-ranges...").
redis_cluster_master_of_slot() {
  local slot=$1 port
  for port in $(redis_cluster_ports); do
    redis_node "$port"
    redis_answering || continue
    redis_cli 5 cluster nodes 2>/dev/null | tr -d '\r' | awk -v s="$slot" '
      $3 ~ /master/ && $3 !~ /fail/ {
        for (i = 9; i <= NF; i++) {
          n = split($i, r, "-")
          if (n == 1) r[2] = r[1]
          if ($i !~ /^\[/ && r[1] + 0 <= s && s <= r[2] + 0) { split($2, a, "[:@]"); print a[2]; exit }
        }
      }'
    redis_node single
    return 0
  done
  redis_node single
}
