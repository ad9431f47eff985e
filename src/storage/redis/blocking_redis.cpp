#include "storage/redis/blocking_redis.hpp"

#include <thread>

#include "common/dependency_error.hpp"

namespace orders::redis {
namespace {

using Clock = std::chrono::steady_clock;

std::uint16_t slot_of(const Command& c) {
  if (c.script) return c.keys.empty() ? 0 : key_slot(c.keys[0]);
  return c.args.size() >= 2 ? key_slot(c.args[1]) : 0;
}

Reply run_on(BlockingConnection& conn, const Command& c) {
  return c.script ? conn.eval(*c.script, c.keys, c.args) : conn.command(c.args);
}

}  // namespace

std::string RedisTarget::display() const {
  if (!cluster()) return endpoint.display();
  std::string out = "Cluster ";
  for (std::size_t i = 0; i < cluster_seeds.size(); ++i) out += (i ? "," : "") + cluster_seeds[i].to_string();
  return out;
}

BlockingRedis BlockingRedis::connect(const RedisTarget& target, std::chrono::seconds timeout) {
  BlockingRedis r;
  r.target_ = target;
  r.timeout_ = timeout;
  if (!target.cluster()) {
    r.single_ = BlockingConnection::connect(target.endpoint, timeout);
    return r;
  }
  r.refresh();
  if (!r.map_) throw DependencyUnavailable("Redis Cluster", "no seed of " + target.display() + " gave a slot map");
  return r;
}

BlockingConnection& BlockingRedis::node(const ClusterNode& n) {
  auto it = nodes_.find(n);
  if (it == nodes_.end() || it->second->broken()) {
    config::RedisEndpoint e = target_.endpoint;
    e.host = n.host;
    e.port = static_cast<std::uint16_t>(n.port);
    e.db = 0;
    auto conn = std::make_unique<BlockingConnection>(BlockingConnection::connect(e, timeout_));
    it = nodes_.insert_or_assign(n, std::move(conn)).first;
  }
  return *it->second;
}

void BlockingRedis::refresh() {
  std::vector<ClusterNode> candidates;
  if (map_) candidates = map_->masters();
  candidates.insert(candidates.end(), target_.cluster_seeds.begin(), target_.cluster_seeds.end());
  for (const ClusterNode& n : candidates) {
    try {
      Reply slots = node(n).command({"CLUSTER", "SLOTS"});
      if (auto map = SlotMap::from_cluster_slots(slots, n.host)) {
        map_ = std::move(map);
        return;
      }
    } catch (const DependencyUnavailable&) {
      nodes_.erase(n);  // tried the next; a dead node's connection is not kept
    }
  }
}

Reply BlockingRedis::routed(const Command& c) {
  const auto deadline = Clock::now() + timeout_;
  const std::uint16_t slot = slot_of(c);
  std::optional<ClusterNode> ask;
  std::string last = "no master for slot " + std::to_string(slot);
  auto pause = std::chrono::milliseconds(20);
  for (;;) {
    const ClusterNode* master = map_ ? map_->master_for(slot) : nullptr;
    std::optional<ClusterNode> target = ask ? ask : (master ? std::optional<ClusterNode>(*master) : std::nullopt);
    if (target) {
      try {
        BlockingConnection& conn = node(*target);
        Reply reply;
        if (ask) {
          ask.reset();
          std::vector<Reply> both = conn.pipeline({Command::of({"ASKING"}), c});
          reply = std::move(both.at(1));
        } else {
          reply = run_on(conn, c);
        }
        if (!reply.is_error()) return reply;
        const ClusterErrorKind kind = classify_cluster_error(reply.str);
        if (kind == ClusterErrorKind::kMoved || kind == ClusterErrorKind::kAsk) {
          if (auto redirect = parse_redirect(reply.str)) {
            ClusterNode to = redirect->node;
            if (to.host.empty()) to.host = target->host;
            if (kind == ClusterErrorKind::kMoved) {
              if (map_) map_->move_slot(redirect->slot, to);
            } else {
              ask = to;
            }
            last = reply.str;
            if (Clock::now() < deadline) continue;
          }
          return reply;
        }
        if (!is_retryable(kind)) return reply;
        last = reply.str;
      } catch (const DependencyUnavailable& e) {
        // Not connected (retried with a fresh map), or the connection broke under the command:
        // that too is sent again, so the blocking callers' commands must be idempotent (the
        // settle steps, returns with once-markers, reads) — as for a pipeline.
        last = e.what();
        if (nodes_.count(*target) && !nodes_.at(*target)->broken()) throw;
        nodes_.erase(*target);
        if (Clock::now() + pause >= deadline) {
          broken_ = true;
          throw;
        }
      }
    }
    if (Clock::now() + pause >= deadline) {
      throw DependencyUnavailable("Redis Cluster", "slot " + std::to_string(slot) + " unavailable (" + last + ")");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
    refresh();
  }
}

Reply BlockingRedis::command(const std::vector<std::string>& args) {
  if (single_) return single_->command(args);
  return routed(Command::of(args));
}

Reply BlockingRedis::eval(const Script& script, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args) {
  if (single_) return single_->eval(script, keys, args);
  return routed(Command::eval(script, keys, args));
}

std::vector<Reply> BlockingRedis::pipeline(const std::vector<Command>& commands) {
  if (single_) return single_->pipeline(commands);
  std::vector<Reply> replies(commands.size());
  // Per master, one pipeline; a reply that is a redirection or "not now" is run again alone
  // (it did not run), following the cluster.
  std::map<ClusterNode, std::vector<std::size_t>> by_node;
  std::vector<std::size_t> unrouted;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const ClusterNode* master = map_ ? map_->master_for(slot_of(commands[i])) : nullptr;
    if (master) by_node[*master].push_back(i);
    else unrouted.push_back(i);
  }
  for (auto& [n, positions] : by_node) {
    std::vector<Command> part;
    for (std::size_t i : positions) part.push_back(commands[i]);
    std::vector<Reply> got;
    try {
      got = node(n).pipeline(part);
    } catch (const DependencyUnavailable&) {
      nodes_.erase(n);
      for (std::size_t i : positions) unrouted.push_back(i);  // retried alone below
      continue;
    }
    for (std::size_t k = 0; k < positions.size(); ++k) {
      const ClusterErrorKind kind = classify_cluster_error(got[k].is_error() ? got[k].str : "");
      if (kind == ClusterErrorKind::kMoved || kind == ClusterErrorKind::kAsk || is_retryable(kind)) {
        unrouted.push_back(positions[k]);
      } else {
        replies[positions[k]] = std::move(got[k]);
      }
    }
  }
  for (std::size_t i : unrouted) replies[i] = routed(commands[i]);
  return replies;
}

std::string BlockingRedis::load(const Script& script) {
  if (!single_) throw std::logic_error("SCRIPT LOAD for MULTI on a Redis Cluster");
  return single_->load(script);
}

std::vector<BlockingConnection*> BlockingRedis::masters() {
  if (single_) return {&*single_};
  if (!map_) refresh();
  std::vector<BlockingConnection*> out;
  if (map_) {
    for (const ClusterNode& n : map_->masters()) out.push_back(&node(n));
  }
  return out;
}

BlockingConnection& BlockingRedis::connection_for(std::uint16_t slot) {
  if (single_) return *single_;
  if (!map_) refresh();
  const ClusterNode* master = map_ ? map_->master_for(slot) : nullptr;
  if (!master) throw DependencyUnavailable("Redis Cluster", "no master serves slot " + std::to_string(slot));
  return node(*master);
}

bool BlockingRedis::broken() const {
  if (single_) return single_->broken();
  return broken_;
}

}  // namespace orders::redis
