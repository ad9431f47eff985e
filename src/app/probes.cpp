#include "app/probes.hpp"

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "common/dependency_error.hpp"

namespace orders::app {
namespace {

std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

}  // namespace

void probe_postgres(const config::PostgresEndpoint& endpoint) {
  const char* keys[] = {"dbname", "connect_timeout", nullptr};
  const char* values[] = {endpoint.conninfo.c_str(), "4", nullptr};
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdbParams(keys, values, 1), &PQfinish);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    throw DependencyUnavailable("PostgreSQL", "cannot connect to " + endpoint.display() + ": " +
                                                  one_line(conn ? PQerrorMessage(conn.get()) : "out of memory"));
  }
}

void probe_redis(const config::RedisEndpoint& endpoint) {
  timeval tv{.tv_sec = 4, .tv_usec = 0};
  std::unique_ptr<redisContext, decltype(&redisFree)> ctx(
      redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, tv), &redisFree);
  if (!ctx || ctx->err) {
    throw DependencyUnavailable(
        "Redis", "cannot connect to " + endpoint.display() + ": " + (ctx ? ctx->errstr : std::string("out of memory")));
  }
  redisSetTimeout(ctx.get(), tv);
  auto run = [&](const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.c_str());
      lens.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(ctx.get(), static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (!reply) throw DependencyUnavailable("Redis", endpoint.display() + ": " + ctx->errstr);
    std::unique_ptr<redisReply, decltype(&freeReplyObject)> owned(reply, &freeReplyObject);
    if (reply->type == REDIS_REPLY_ERROR) {
      throw DependencyUnavailable("Redis", endpoint.display() + ": " + std::string(reply->str, reply->len));
    }
  };
  if (!endpoint.password.empty()) {
    if (endpoint.username.empty()) run({"AUTH", endpoint.password});
    else run({"AUTH", endpoint.username, endpoint.password});
  }
  if (endpoint.db != 0) run({"SELECT", std::to_string(endpoint.db)});
  run({"PING"});
}

}  // namespace orders::app
