#include "app/api_shard.hpp"

#include <array>

#include "api/catalog_routes.hpp"
#include "api/order_routes.hpp"
#include "http/service_routes.hpp"
#include "ordering/cluster_stock_gate.hpp"

namespace orders::app {
namespace asio = boost::asio;

namespace {

std::vector<http::DependencyCheck> readiness_checks(ApiShard& shard, rabbitmq::Publisher& publisher) {
  std::vector<http::DependencyCheck> checks;
  checks.push_back({"PostgreSQL", [&shard]() -> asio::awaitable<std::optional<std::string>> {
                      auto result = co_await shard.postgres.read("SELECT 1");
                      if (!result.ok()) co_return result.error_message();
                      co_return std::nullopt;
                    }});
  checks.push_back({"Redis", [&shard]() -> asio::awaitable<std::optional<std::string>> {
                      std::array<std::string_view, 1> ping{"PING"};
                      auto reply = co_await shard.redis->command(ping);
                      if (reply.is_error()) co_return reply.str;
                      co_return std::nullopt;
                    }});
  checks.push_back({"RabbitMQ", [&publisher]() -> asio::awaitable<std::optional<std::string>> {
                      if (!publisher.connected()) co_return std::string("not connected");
                      co_return std::nullopt;
                    }});
  return checks;
}

}  // namespace

std::unique_ptr<ordering::StockGate> make_stock_gate(redis::Commands& redis, bool cluster,
                                                     const ordering::IntakeSettings& settings) {
  if (cluster) return std::make_unique<ordering::ClusterStockGate>(redis, settings);
  return std::make_unique<ordering::RedisStockGate>(redis, settings);
}

void add_api_routes(ApiShard& shard, rabbitmq::Publisher& publisher) {
  http::add_service_routes(shard.router, readiness_checks(shard, publisher));
  api::add_catalog_routes(shard.router, shard.catalog);
  api::add_order_routes(shard.router, shard.intake, shard.orders, shard.lifecycle);
}

}  // namespace orders::app
