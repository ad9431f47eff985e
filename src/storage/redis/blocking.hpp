#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "storage/redis/reply.hpp"

struct redisContext;

// Blocking hiredis connections, for the code that runs outside the I/O threads: start-up
// probes, the worker's settle step, `orders reconcile`, `orders bench`.
namespace orders::redis {

// One command of a pipeline: a command with its arguments, or a script with its keys and
// arguments (sent as EVALSHA).
struct Command {
  std::vector<std::string> args;
  const Script* script = nullptr;  // set: `args` are the script's arguments
  std::vector<std::string> keys;   // the script's keys

  static Command of(std::vector<std::string> args) { return Command{std::move(args), nullptr, {}}; }
  static Command eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args) {
    return Command{std::move(args), &script, std::move(keys)};
  }
};

class BlockingConnection {
 public:
  // Connected within `timeout` (also the timeout of every command on it), authenticated
  // (AUTH [username] password, when the URL has a password) and on the URL's database. Throws
  // DependencyUnavailable naming Redis and the address when any of it fails.
  static BlockingConnection connect(const config::RedisEndpoint& endpoint, std::chrono::seconds timeout);

  // One command, its arguments binary-safe. Throws DependencyUnavailable naming Redis when the
  // connection fails (broken() is true then); an error reply is returned like any other.
  Reply command(const std::vector<std::string>& args);

  // The script by EVALSHA: loaded (SCRIPT LOAD) on first use on this connection and again after
  // NOSCRIPT (a restarted or flushed Redis forgets scripts), as Client::eval does.
  Reply eval(const Script& script, const std::vector<std::string>& keys, const std::vector<std::string>& args);

  // SCRIPT LOAD now, whatever this connection loaded before: the SHA1 to queue EVALSHA inside
  // MULTI, where a NOSCRIPT would only come back from EXEC.
  std::string load(const Script& script);

  // The commands in one round trip; their replies in the same order. A script answered NOSCRIPT
  // is run again by eval() once every other reply has been read.
  std::vector<Reply> pipeline(const std::vector<Command>& commands);

  // The connection failed: it takes no more commands.
  bool broken() const;

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  explicit BlockingConnection(std::unique_ptr<redisContext, ContextDeleter> ctx) : ctx_(std::move(ctx)) {}
  void append(const std::vector<std::string>& args);
  // The next reply on the connection (throws DependencyUnavailable when it is lost).
  Reply read_reply();
  std::vector<std::string> evalsha(const std::string& sha, const Command& call) const;
  const std::string& sha_of(const Script& script);
  [[noreturn]] void fail() const;

  std::unique_ptr<redisContext, ContextDeleter> ctx_;
  std::unordered_map<std::string, std::string> script_shas_;  // by script name
};

}  // namespace orders::redis
