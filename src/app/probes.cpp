#include "app/probes.hpp"

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "common/dependency_error.hpp"
#include "storage/redis/blocking.hpp"

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
  auto ctx = redis::connect_blocking(endpoint, std::chrono::seconds(4));
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> pong(
      static_cast<redisReply*>(redisCommand(ctx.get(), "PING")), &freeReplyObject);
  if (!pong || pong->type == REDIS_REPLY_ERROR) {
    throw DependencyUnavailable(
        "Redis", endpoint.display() + ": " + (pong ? std::string(pong->str, pong->len) : std::string(ctx->errstr)));
  }
}

}  // namespace orders::app
