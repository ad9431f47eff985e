#pragma once

#include <boost/asio/awaitable.hpp>
#include <span>
#include <string_view>
#include <vector>

#include "common/dependency_error.hpp"
#include "storage/redis/reply.hpp"

namespace orders::redis {

// The command was not sent: the node that serves its key is unreachable, or kept answering
// "not now" (TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN) until the command's deadline. Unlike a
// DependencyUnavailable thrown after sending, it cannot have run, so the caller may answer 503
// (try again) without finding out whether it did.
class NotSent : public DependencyUnavailable {
 public:
  explicit NotSent(std::string_view detail) : DependencyUnavailable("Redis", detail) {}
};

// What the domain asks of Redis, one Redis (Client) or a Redis Cluster (ClusterClient) behind
// it. Both pipeline commands of concurrent coroutines, and both run on one executor: calls come
// from that executor only.
class Commands {
 public:
  virtual ~Commands() = default;

  // Starts connecting in the background; stop() closes every connection (pending commands fail).
  virtual void start() = 0;
  virtual void stop() = 0;

  // Ready to take commands (a cluster: its slot map is known).
  virtual bool connected() const = 0;

  // `args[1]` is the key that routes the command in a cluster (true of every keyed command we
  // send; a multi-key command's keys must share a slot, as a script's). A command without a
  // key (PING) goes to any node. Throws DependencyUnavailable (NotSent when it was not sent);
  // a Redis error reply is a Reply of type kError, not an exception.
  virtual boost::asio::awaitable<Reply> command(std::span<const std::string_view> args) = 0;

  // EVALSHA, loading the script on NOSCRIPT. Routed by keys[0]; every key shares its slot.
  virtual boost::asio::awaitable<Reply> eval(const Script& script, std::span<const std::string_view> keys,
                                             std::span<const std::string_view> args) = 0;

  // MULTI, `commands`, EXEC written back to back on one connection, so no other command comes
  // between them and Redis runs them as one step: a consistent reading of several keys without
  // a script. Routed by the first command's key; on a cluster every key shares its slot. The reply is
  // EXEC's: an array with one reply per command (an error reply when Redis refused to queue one).
  virtual boost::asio::awaitable<Reply> transaction(std::span<const std::vector<std::string_view>> commands) = 0;
};

}  // namespace orders::redis
