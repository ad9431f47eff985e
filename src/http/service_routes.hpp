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

// GET /health, GET /ready, GET /api-docs, GET /metrics.
void add_service_routes(Router& router, std::vector<DependencyCheck> checks);

}  // namespace orders::http
