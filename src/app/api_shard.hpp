#pragma once

#include <boost/asio/io_context.hpp>

#include "app/redis_mode.hpp"
#include "catalog/catalog_service.hpp"
#include "config/config.hpp"
#include "http/router.hpp"
#include "ordering/order_intake.hpp"
#include "ordering/order_lifecycle.hpp"
#include "ordering/order_reader.hpp"
#include "ordering/postgres_order_log.hpp"
#include "ordering/redis_stock_gate.hpp"
#include "storage/postgres/pool.hpp"
#include "storage/rabbitmq/publisher.hpp"

namespace orders::app {

// The purchase's gate for that Redis: one script (RedisStockGate) or the steps across slots.
std::unique_ptr<ordering::StockGate> make_stock_gate(redis::Commands& redis, bool cluster,
                                                     const ordering::IntakeSettings& settings);

// What one I/O thread owns: its connections and the routes that use them.
struct ApiShard {
  ApiShard(boost::asio::io_context& io, const config::PostgresEndpoint& pg, const config::RedisEndpoint& redis_endpoint,
           const std::vector<redis::ClusterNode>& cluster_seeds, postgres::PoolOptions pool_options,
           catalog::SingleFlight<catalog::LoadedProduct>& product_loads, rabbitmq::Publisher& publisher,
           const ordering::IntakeSettings& intake_settings)
      : postgres(io.get_executor(), pg.conninfo, pool_options),
        redis(make_redis(io.get_executor(), redis_endpoint, cluster_seeds)),
        catalog(postgres, *redis, product_loads, catalog::CacheSettings{.split_stock = !cluster_seeds.empty()},
                &publisher),
        stock(make_stock_gate(*redis, !cluster_seeds.empty(), intake_settings)),
        events(publisher),
        intake(*stock, events, intake_settings),
        orders(postgres),
        order_log(postgres, orders),
        lifecycle(order_log, *stock) {}

  postgres::Pool postgres;
  std::unique_ptr<redis::Commands> redis;
  catalog::CatalogService catalog;
  std::unique_ptr<ordering::StockGate> stock;
  ordering::PublisherBus events;
  ordering::OrderIntake intake;
  ordering::OrderReader orders;
  ordering::PostgresOrderLog order_log;
  ordering::OrderLifecycle lifecycle;
  http::Router router;
};

// Every route of `orders api` on the shard's router: service, catalog and orders. Builds
// only the table; nothing connects until the shard's clients start.
void add_api_routes(ApiShard& shard, rabbitmq::Publisher& publisher);

}  // namespace orders::app
