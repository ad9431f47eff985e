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

}  // namespace orders::app
