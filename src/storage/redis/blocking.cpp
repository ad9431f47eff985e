#include "storage/redis/blocking.hpp"

#include <hiredis/hiredis.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "common/dependency_error.hpp"

namespace orders::redis {
namespace {

bool is_noscript(const Reply& r) { return r.is_error() && r.str.starts_with("NOSCRIPT"); }

}  // namespace

void BlockingConnection::ContextDeleter::operator()(redisContext* c) const { redisFree(c); }

void BlockingConnection::fail() const { throw DependencyUnavailable("Redis", ctx_->errstr); }

void BlockingConnection::append(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.c_str());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) fail();
}

Reply BlockingConnection::command(const std::vector<std::string>& args) {
  // Appended and read back: the same as redisCommandArgv, one way of building argv.
  append(args);
  return read_reply();
}

Reply BlockingConnection::read_reply() {
  void* reply = nullptr;
  if (redisGetReply(ctx_.get(), &reply) != REDIS_OK || !reply) fail();
  Reply owned = Reply::from(static_cast<redisReply*>(reply));
  freeReplyObject(reply);
  return owned;
}

std::string BlockingConnection::load(const Script& script) {
  Reply loaded = command({"SCRIPT", "LOAD", script.source});
  if (loaded.type != Reply::Type::kString) {
    throw std::runtime_error("SCRIPT LOAD " + script.name + " failed: " + loaded.str);
  }
  script_shas_[script.name] = loaded.str;
  return loaded.str;
}

const std::string& BlockingConnection::sha_of(const Script& script) {
  auto it = script_shas_.find(script.name);
  if (it != script_shas_.end()) return it->second;
  load(script);
  return script_shas_.at(script.name);
}

std::vector<std::string> BlockingConnection::evalsha(const std::string& sha, const Command& call) const {
  std::vector<std::string> argv;
  argv.reserve(3 + call.keys.size() + call.args.size());
  argv.emplace_back("EVALSHA");
  argv.push_back(sha);
  argv.push_back(std::to_string(call.keys.size()));
  argv.insert(argv.end(), call.keys.begin(), call.keys.end());
  argv.insert(argv.end(), call.args.begin(), call.args.end());
  return argv;
}

Reply BlockingConnection::eval(const Script& script, const std::vector<std::string>& keys,
                               const std::vector<std::string>& args) {
  const Command call{args, &script, keys};
  for (int attempt = 0; attempt < 2; ++attempt) {
    Reply reply = command(evalsha(sha_of(script), call));
    if (!is_noscript(reply)) return reply;
    script_shas_.erase(script.name);
  }
  throw std::runtime_error("script " + script.name + " could not be loaded");
}

std::vector<Reply> BlockingConnection::pipeline(const std::vector<Command>& commands) {
  // Scripts are loaded first: a SCRIPT LOAD sent among appended commands would read their reply.
  for (const Command& c : commands) {
    if (c.script) sha_of(*c.script);
  }
  for (const Command& c : commands) {
    if (c.script) append(evalsha(script_shas_.at(c.script->name), c));
    else append(c.args);
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) replies.push_back(read_reply());
  // Only now, with nothing more on its way: a forgotten script is loaded again and run alone.
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (!commands[i].script || !is_noscript(replies[i])) continue;
    script_shas_.erase(commands[i].script->name);
    replies[i] = eval(*commands[i].script, commands[i].keys, commands[i].args);
  }
  return replies;
}

bool BlockingConnection::broken() const { return !ctx_ || ctx_->err != 0; }

BlockingConnection BlockingConnection::connect(const config::RedisEndpoint& endpoint, std::chrono::seconds timeout) {
  timeval tv{.tv_sec = static_cast<time_t>(timeout.count()), .tv_usec = 0};
  std::unique_ptr<redisContext, ContextDeleter> ctx(redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, tv));
  if (!ctx || ctx->err) {
    throw DependencyUnavailable(
        "Redis", "cannot connect to " + endpoint.display() + ": " + (ctx ? ctx->errstr : std::string("out of memory")));
  }
  redisSetTimeout(ctx.get(), tv);
  BlockingConnection conn(std::move(ctx));
  auto run = [&](const std::vector<std::string>& args) {
    Reply reply = conn.command(args);
    if (reply.is_error()) throw DependencyUnavailable("Redis", endpoint.display() + ": " + reply.str);
  };
  if (!endpoint.password.empty()) {
    if (endpoint.username.empty()) run({"AUTH", endpoint.password});
    else run({"AUTH", endpoint.username, endpoint.password});
  }
  if (endpoint.db != 0) run({"SELECT", std::to_string(endpoint.db)});
  return conn;
}

}  // namespace orders::redis
