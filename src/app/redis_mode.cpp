#include "app/redis_mode.hpp"

#include "storage/redis/client.hpp"
#include "storage/redis/cluster_client.hpp"

namespace orders::app {

std::unique_ptr<redis::Commands> make_redis(boost::asio::any_io_executor executor,
                                            const config::RedisEndpoint& endpoint,
                                            const std::vector<redis::ClusterNode>& cluster_seeds) {
  if (cluster_seeds.empty()) return std::make_unique<redis::Client>(executor, endpoint);
  return std::make_unique<redis::ClusterClient>(executor, cluster_seeds, endpoint);
}

std::vector<redis::ClusterNode> cluster_seeds(const config::Dependencies& deps, const config::RedisEndpoint& endpoint) {
  std::vector<redis::ClusterNode> seeds;
  if (deps.redis_cluster_nodes.empty()) return seeds;
  for (const config::HostPort& n : config::parse_host_ports(deps.redis_cluster_nodes)) {
    seeds.push_back(redis::ClusterNode{n.host, n.port});
  }
  if (endpoint.db != 0) {
    throw config::ConfigError("REDIS_URL: database " + std::to_string(endpoint.db) +
                              " with REDIS_CLUSTER_NODES: a Redis Cluster has only database 0");
  }
  return seeds;
}

}  // namespace orders::app
