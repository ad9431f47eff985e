#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "storage/redis/client.hpp"
#include "storage/redis/cluster_slots.hpp"
#include "storage/redis/commands.hpp"

namespace orders::redis {

struct ClusterOptions {
  ClientOptions node;  // of each node's connection
  // How long a command may wait for its shard (a failover, a resharding step) before it fails
  // NotSent. A failover on loopback with cluster-node-timeout 1000 takes ~2.4 s.
  std::chrono::milliseconds deadline{3000};
  // The slot map is refreshed at least this often, and on MOVED or a lost node, but not more
  // often than every min_refresh.
  std::chrono::milliseconds refresh_interval{5000};
  std::chrono::milliseconds min_refresh{100};
};

// A Redis Cluster client over hiredis 0.14 (Debian 12 packages no cluster client; see the
// README's dependency list): a slot map from CLUSTER SLOTS, one pipelined Client per node, each
// command routed by the slot of its key. MOVED re-routes and refreshes the map; ASK sends
// ASKING and the command to the node named, once; TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN
// and an unreachable master are retried (with a refresh) until the command's deadline, then
// the command fails NotSent: it never ran. A command whose connection drops after it was sent
// fails DependencyUnavailable, never retried: it may have run.
// Single-threaded like Client: every call on the executor given.
class ClusterClient final : public Commands {
 public:
  // `seeds`: some nodes of the cluster (the rest is discovered). `credentials`: the password
  // (and user) of every node; its host, port and database are not used (a cluster has only db 0).
  ClusterClient(boost::asio::any_io_executor executor, std::vector<ClusterNode> seeds,
                config::RedisEndpoint credentials, ClusterOptions options = {});
  ~ClusterClient() override;
  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  // Connects to the seeds and starts refreshing the slot map in the background.
  void start() override;
  void stop() override;
  // A slot map is known (some or all shards may still be failing over), or the client started
  // less than a deadline ago: its first map is on its way and commands wait for it, so callers
  // that check connected() before sending do not refuse the first requests after a start.
  bool connected() const override {
    return map_.has_value() || (!stopped_ && std::chrono::steady_clock::now() - started_at_ < options_.deadline);
  }

  boost::asio::awaitable<Reply> command(std::span<const std::string_view> args) override;
  boost::asio::awaitable<Reply> eval(const Script& script, std::span<const std::string_view> keys,
                                     std::span<const std::string_view> args) override;
  boost::asio::awaitable<Reply> transaction(std::span<const std::vector<std::string_view>> commands) override;

  // The masters of the current map ("host:port"), for logs and tests.
  std::vector<std::string> masters() const;
  // Slot map refreshes that succeeded since start().
  int refreshes() const { return refreshes_; }

 private:
  struct Call {
    std::span<const std::string_view> args;  // a command, or a script's arguments
    const Script* script = nullptr;
    std::span<const std::string_view> keys;  // the script's keys
  };
  boost::asio::awaitable<Reply> execute(Call call, std::optional<std::uint16_t> slot);
  boost::asio::awaitable<Reply> send_to(Client& node, const Call& call, bool asking);
  Client& client_for(const ClusterNode& node);
  Client* any_connected();
  void request_refresh();
  boost::asio::awaitable<void> refresh();
  void arm_refresh_timer();

  boost::asio::any_io_executor executor_;
  std::vector<ClusterNode> seeds_;
  config::RedisEndpoint credentials_;
  ClusterOptions options_;
  std::map<ClusterNode, std::unique_ptr<Client>> clients_;  // every node we talk to
  std::optional<SlotMap> map_;
  bool refreshing_ = false;
  bool stopped_ = true;
  std::chrono::steady_clock::time_point started_at_{};
  std::chrono::steady_clock::time_point last_refresh_{};
  int refreshes_ = 0;
  boost::asio::steady_timer refresh_timer_;
  boost::asio::steady_timer deferred_timer_;  // a refresh asked for too soon after the last
  bool deferred_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace orders::redis
