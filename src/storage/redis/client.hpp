#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/backoff.hpp"
#include "config/config.hpp"
#include "storage/redis/commands.hpp"
#include "storage/redis/reply.hpp"

struct redisAsyncContext;

namespace orders::redis {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{2000};
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

// One hiredis async connection driven by the I/O thread that owns it. Commands from
// concurrent coroutines are pipelined on it: each is written at once and the replies come
// back in order. When the connection drops, pending commands fail with
// DependencyUnavailable("Redis") and the client reconnects with capped exponential backoff.
class Client final : public Commands {
 public:
  Client(boost::asio::any_io_executor executor, config::RedisEndpoint endpoint, ClientOptions options = {});
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts connecting in the background.
  void start() override;
  // Stops reconnecting and closes the connection; pending commands fail.
  void stop() override;
  bool connected() const override { return state_ == State::kConnected; }
  const config::RedisEndpoint& endpoint() const { return endpoint_; }

  // Throws NotSent when not connected, DependencyUnavailable("Redis", ...) when the connection
  // drops before the reply. A Redis error reply is a Reply of type kError, not an exception.
  boost::asio::awaitable<Reply> command(std::span<const std::string_view> args) override;
  boost::asio::awaitable<Reply> eval(const Script& script, std::span<const std::string_view> keys,
                                     std::span<const std::string_view> args) override;
  boost::asio::awaitable<Reply> transaction(std::span<const std::vector<std::string_view>> commands) override;

  // Redis Cluster's ASK redirection: ASKING and then the command, written back to back so that
  // no other command on this connection comes between them (ClusterClient).
  boost::asio::awaitable<Reply> command_after_asking(std::span<const std::string_view> args);
  boost::asio::awaitable<Reply> eval_after_asking(const Script& script, std::span<const std::string_view> keys,
                                                  std::span<const std::string_view> args);

  struct PendingOp {
    virtual ~PendingOp() = default;
    virtual void complete(const redisReply* reply, const std::string& error) = 0;
  };

 private:
  enum class State { kStopped, kConnecting, kConnected, kWaitingToRetry };
  struct Watcher;

  void open();
  void schedule_reconnect(const std::string& reason);
  void drop_connection(const std::string& reason);
  // `now`: when it was written (the watchdog's clock), read here when not given.
  void send(std::span<const std::string_view> args, std::unique_ptr<PendingOp> op,
            std::chrono::steady_clock::time_point now = {});
  boost::asio::awaitable<Reply> run(std::span<const std::string_view> args, bool asking);
  boost::asio::awaitable<Reply> run_script(const Script& script, std::span<const std::string_view> keys,
                                           std::span<const std::string_view> args, bool asking);
  void arm_watchdog();
  static void on_connect(const redisAsyncContext* ctx, int status);
  static void on_disconnect(const redisAsyncContext* ctx, int status);
  static void on_reply(redisAsyncContext* ctx, void* reply, void* privdata);

  boost::asio::any_io_executor executor_;
  config::RedisEndpoint endpoint_;
  ClientOptions options_;
  Backoff backoff_;
  redisAsyncContext* ctx_ = nullptr;
  std::shared_ptr<Watcher> watcher_;
  State state_ = State::kStopped;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer watchdog_;
  std::string last_error_ = "not connected yet";
  // Send times of the commands awaiting replies, oldest first (replies come in order).
  std::deque<std::chrono::steady_clock::time_point> in_flight_;
  std::string format_buffer_;  // send()'s RESP, reused
  std::unordered_map<std::string, std::string> script_shas_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace orders::redis
