#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http/router.hpp"

namespace orders::http {

// A readiness probe of one dependency: nothing when it answers, else why not.
struct DependencyCheck {
  std::string name;  // "PostgreSQL", "Redis", "RabbitMQ"
  std::function<boost::asio::awaitable<std::optional<std::string>>()> probe;
};

// GET /health, GET /ready, GET /api-docs, GET /metrics: the API's.
void add_service_routes(Router& router, std::vector<DependencyCheck> checks);

// GET /health and GET /metrics only: a worker's metrics port (it serves no API to describe,
// and its readiness is its consuming, not a probe).
void add_health_and_metrics_routes(Router& router);

}  // namespace orders::http
