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

void probe_redis_cluster(const config::RedisEndpoint& endpoint, const std::vector<redis::ClusterNode>& seeds) {
  std::string failures;
  for (const redis::ClusterNode& seed : seeds) {
    config::RedisEndpoint node = endpoint;
    node.host = seed.host;
    node.port = static_cast<std::uint16_t>(seed.port);
    node.db = 0;
    try {
      probe_redis(node);
      return;
    } catch (const DependencyUnavailable& e) {
      failures += (failures.empty() ? "" : "; ") + std::string(e.what());
    }
  }
  throw DependencyUnavailable("Redis Cluster", "no seed of REDIS_CLUSTER_NODES answered (" + failures + ")");
}

}  // namespace orders::app
