#include "app/probes.hpp"

#include <chrono>
#include <string>

#include "common/dependency_error.hpp"
#include "storage/postgres/blocking.hpp"
#include "storage/redis/blocking.hpp"

namespace orders::app {

void probe_postgres(const config::PostgresEndpoint& endpoint) {
  postgres::ConnectOptions options;
  options.timeout = std::chrono::seconds(4);
  options.display = endpoint.display();
  postgres::BlockingConnection::connect(endpoint.conninfo, options);
}

void probe_redis(const config::RedisEndpoint& endpoint) {
  auto redis = redis::BlockingConnection::connect(endpoint, std::chrono::seconds(4));
  redis::Reply pong = redis.command({"PING"});
  if (pong.is_error()) throw DependencyUnavailable("Redis", endpoint.display() + ": " + pong.str);
}

}  // namespace orders::app
