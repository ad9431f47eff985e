#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "storage/redis/blocking.hpp"
#include "storage/redis/cluster_slots.hpp"

namespace orders::redis {

// Where the blocking code's Redis is: one server (REDIS_URL), or a Redis Cluster
// (REDIS_CLUSTER_NODES: `cluster_seeds`; `endpoint` then gives only the credentials).
struct RedisTarget {
  config::RedisEndpoint endpoint;
  std::vector<ClusterNode> cluster_seeds;
  bool cluster() const { return !cluster_seeds.empty(); }
  std::string display() const;
};

// BlockingConnection's commands on one Redis or a Redis Cluster, for the code outside the I/O
// threads (the worker's settle step, the expiry sweeper, `orders reconcile`, the bench's
// checks). In a cluster: a connection per master, each command routed by the slot of its key
// (args[1], or a script's keys[0]); MOVED and ASK are followed; TRYAGAIN, CLUSTERDOWN, LOADING,
// MASTERDOWN and an unreachable master are retried with a fresh slot map until the timeout.
// A pipeline is split per master, its replies kept in the order of the commands; its commands
// must be idempotent in a cluster (after a master's connection is lost, they are sent again).
class BlockingRedis {
 public:
  // Throws DependencyUnavailable naming Redis (and every seed tried) when nothing answers.
  static BlockingRedis connect(const RedisTarget& target, std::chrono::seconds timeout);

  Reply command(const std::vector<std::string>& args);
  Reply eval(const Script& script, const std::vector<std::string>& keys, const std::vector<std::string>& args);
  std::vector<Reply> pipeline(const std::vector<Command>& commands);
  // SCRIPT LOAD on the one Redis (to queue EVALSHA inside MULTI); a cluster has no MULTI across
  // slots, and throws std::logic_error.
  std::string load(const Script& script);
  // A connection to each master (the one Redis in single mode), for commands that walk every
  // node's keys (SCAN).
  std::vector<BlockingConnection*> masters();
  // The connection that serves `slot` (the one Redis in single mode): a transaction (WATCH,
  // MULTI, EXEC) over keys of one slot runs on it. Throws DependencyUnavailable when no master
  // serves the slot.
  BlockingConnection& connection_for(std::uint16_t slot);
  // A connection failed: connect again before the next command.
  bool broken() const;
  bool cluster() const { return !single_; }

 private:
  BlockingRedis() = default;
  BlockingConnection& node(const ClusterNode& n);
  void refresh();
  // One command (or script) in the cluster, following redirections within the timeout.
  Reply routed(const Command& c);

  std::optional<BlockingConnection> single_;
  RedisTarget target_;
  std::chrono::seconds timeout_{2};
  std::optional<SlotMap> map_;
  std::map<ClusterNode, std::unique_ptr<BlockingConnection>> nodes_;
  bool broken_ = false;
};

}  // namespace orders::redis
