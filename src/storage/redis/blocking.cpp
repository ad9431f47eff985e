#include "storage/redis/blocking.hpp"

#include <string>
#include <vector>

#include "common/dependency_error.hpp"

namespace orders::redis {

BlockingReply blocking_command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.c_str());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (!reply) throw DependencyUnavailable("Redis", c->errstr);
  return {reply, &freeReplyObject};
}

BlockingConnection connect_blocking(const config::RedisEndpoint& endpoint, std::chrono::seconds timeout) {
  timeval tv{.tv_sec = static_cast<time_t>(timeout.count()), .tv_usec = 0};
  BlockingConnection ctx(redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, tv), &redisFree);
  if (!ctx || ctx->err) {
    throw DependencyUnavailable(
        "Redis", "cannot connect to " + endpoint.display() + ": " + (ctx ? ctx->errstr : std::string("out of memory")));
  }
  redisSetTimeout(ctx.get(), tv);
  auto run = [&](const std::vector<std::string>& args) {
    auto reply = blocking_command(ctx.get(), args);
    if (reply->type == REDIS_REPLY_ERROR) {
      throw DependencyUnavailable("Redis", endpoint.display() + ": " + std::string(reply->str, reply->len));
    }
  };
  if (!endpoint.password.empty()) {
    if (endpoint.username.empty()) run({"AUTH", endpoint.password});
    else run({"AUTH", endpoint.username, endpoint.password});
  }
  if (endpoint.db != 0) run({"SELECT", std::to_string(endpoint.db)});
  return ctx;
}

}  // namespace orders::redis
