#pragma once

#include <vector>

#include "config/config.hpp"
#include "storage/redis/cluster_slots.hpp"

namespace orders::app {

// Start-up checks: each connects once within a few seconds and throws DependencyUnavailable
// naming the dependency and address when it cannot (the command then prints one line and
// exits non-zero). Blocking, on the main thread, before any I/O thread runs.
void probe_postgres(const config::PostgresEndpoint& endpoint);
void probe_redis(const config::RedisEndpoint& endpoint);
// Cluster mode: some seed answers PING (its credentials from `endpoint`).
void probe_redis_cluster(const config::RedisEndpoint& endpoint, const std::vector<redis::ClusterNode>& seeds);

}  // namespace orders::app
