#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "storage/redis/cluster_slots.hpp"
#include "storage/redis/commands.hpp"

namespace orders::app {

// One Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES: `cluster_seeds` not empty),
// for the API's I/O threads and `orders seed`. Not started.
std::unique_ptr<redis::Commands> make_redis(boost::asio::any_io_executor executor,
                                            const config::RedisEndpoint& endpoint,
                                            const std::vector<redis::ClusterNode>& cluster_seeds);

// REDIS_CLUSTER_NODES as the cluster client's seeds; empty when unset (one Redis). Throws
// config::ConfigError naming the item, or when REDIS_URL names a database other than 0.
std::vector<redis::ClusterNode> cluster_seeds(const config::Dependencies& deps, const config::RedisEndpoint& endpoint);

}  // namespace orders::app
