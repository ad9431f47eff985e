#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fstream>
#include <iostream>

#include "app/api_shard.hpp"
#include "app/commands.hpp"
#include "app/fd_limit.hpp"
#include "app/io_threads.hpp"
#include "app/probes.hpp"
#include "app/redis_mode.hpp"
#include "common/dependency_error.hpp"
#include "http/server.hpp"
#include "ordering/outbox_relay.hpp"
#include "storage/rabbitmq/publisher.hpp"

namespace orders::app {
namespace asio = boost::asio;

namespace {

void wait_for_stop_signal() {
  asio::io_context signals_io(1);
  asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([](auto, int signal) { spdlog::info("received signal {}, shutting down", signal); });
  signals_io.run();
}

}  // namespace

int run_api(const config::Dependencies& deps, const config::ApiSettings& settings) {
  config::PostgresEndpoint pg;
  config::RedisEndpoint redis_endpoint;
  std::vector<redis::ClusterNode> seeds;
  std::vector<config::AmqpEndpoint> amqp;
  try {
    pg = config::parse_postgres_url(deps.database_url);
    redis_endpoint = config::parse_redis_url(deps.redis_url);
    seeds = cluster_seeds(deps, redis_endpoint);
    amqp = config::parse_amqp_urls(deps.rabbitmq_url);
  } catch (const config::ConfigError& e) {
    std::cerr << "orders api: " << e.what() << '\n';
    return kExitConfig;
  }

  std::string admin_token = settings.admin_token;
  if (!settings.admin_token_file.empty()) {
    std::ifstream file(settings.admin_token_file);
    admin_token.clear();
    if (file) std::getline(file, admin_token);
    if (!admin_token.empty() && admin_token.back() == '\r') admin_token.pop_back();
    if (admin_token.empty()) {
      std::cerr << "orders api: --admin-token-file " << settings.admin_token_file
                << ": cannot read a token from its first line\n";
      return kExitConfig;
    }
  }

  // A purchase waits at most this long for the broker's confirm, so it answers within 3 s.
  rabbitmq::Publisher publisher(amqp, rabbitmq::PublisherOptions{.confirm_timeout = std::chrono::milliseconds(2500)});
  try {
    probe_postgres(pg);
    if (seeds.empty()) probe_redis(redis_endpoint);
    else probe_redis_cluster(redis_endpoint, seeds);
    publisher.start();
  } catch (const DependencyUnavailable& e) {
    std::cerr << "orders api: " << e.what() << '\n';
    return kExitUnavailable;
  }

  IoThreads io(settings.threads);
  postgres::PoolOptions pool_options;
  pool_options.size = static_cast<std::size_t>(std::max(settings.pg_pool_size, 1));
  // Concurrent cache misses for one product share one PostgreSQL read across all threads.
  catalog::SingleFlight<catalog::LoadedProduct> product_loads;
  std::vector<std::unique_ptr<ApiShard>> shards;
  std::vector<http::Shard> http_shards;
  ordering::IntakeSettings intake_settings;
  intake_settings.default_payment_window = std::chrono::seconds(settings.payment_window_seconds);
  for (std::size_t i = 0; i < io.size(); ++i) {
    auto shard = std::make_unique<ApiShard>(io.at(i), pg, redis_endpoint, seeds, pool_options, product_loads, publisher,
                                            intake_settings);
    add_api_routes(*shard, publisher);
    http_shards.push_back({&io.at(i), &shard->router});
    shards.push_back(std::move(shard));
  }

  http::ServerOptions server_options;
  server_options.host = settings.host;
  server_options.port = settings.port;
  // Descriptors for everything but HTTP clients: PostgreSQL and Redis per thread, the broker,
  // the listener, logs, and room for a reconnect to overlap the connection it replaces.
  const std::size_t fd_limit = raise_fd_limit();
  const std::size_t reserved = 64 + io.size() * (pool_options.size + 2) * 2;
  server_options.max_connections = connection_cap(static_cast<std::size_t>(settings.max_connections), fd_limit,
                                                  reserved);
  if (server_options.max_connections < static_cast<std::size_t>(settings.max_connections)) {
    spdlog::warn("max connections lowered from {} to {}: the file descriptor limit is {} ({} kept for dependencies)",
                 settings.max_connections, server_options.max_connections, fd_limit, reserved);
  }
  server_options.admin_token = admin_token;
  server_options.insecure_admin = settings.insecure_admin;
  if (admin_token.empty() && settings.insecure_admin) {
    spdlog::warn(
        "--insecure-admin without ADMIN_TOKEN: catalog writes and order status changes (marking an order "
        "PAID included) are open to every caller; for local development only");
  } else if (admin_token.empty()) {
    spdlog::warn(
        "ADMIN_TOKEN is not set: catalog writes and order status changes answer 403 (set ADMIN_TOKEN, or "
        "--insecure-admin for local development)");
  }
  http::Server server(server_options, http_shards);
  try {
    server.start();
  } catch (const std::system_error& e) {
    std::cerr << "orders api: " << e.what() << '\n';
    return kExitUnavailable;
  }
  for (std::size_t i = 0; i < io.size(); ++i) {
    asio::post(io.at(i), [shard = shards[i].get()] { shard->redis->start(); });
  }
  // The outbox relay runs on the first I/O thread, with that thread's Redis connection.
  ordering::OutboxRelay relay(io.at(0).get_executor(), *shards[0]->stock, shards[0]->events);
  asio::post(io.at(0), [&relay] { relay.start(); });
  io.start();
  spdlog::info("orders api listening on http://{}:{} ({} I/O threads; PostgreSQL {}, Redis {}, RabbitMQ {})",
               settings.host, server.port(), io.size(), pg.display(),
               seeds.empty() ? redis_endpoint.display() : "Cluster " + deps.redis_cluster_nodes,
               rabbitmq::NodeList(amqp).display());

  wait_for_stop_signal();

  const auto grace = std::chrono::seconds(settings.shutdown_grace_seconds);
  const bool drained = server.shutdown(grace);
  run_on(io.at(0), [&relay] { relay.stop(); });
  publisher.stop();
  for (std::size_t i = 0; i < io.size(); ++i) run_on(io.at(i), [&shard = *shards[i]] { shard.redis->stop(); });
  if (!drained || !io.finish(std::chrono::seconds(2))) {
    // Sessions still hold pooled connections; tearing those down under them is unsafe, and
    // the process is exiting anyway.
    spdlog::warn("in-flight requests did not finish within {} s; exiting", settings.shutdown_grace_seconds);
    spdlog::shutdown();
    std::_Exit(0);
  }
  spdlog::info("orders api stopped");
  return 0;
}

}  // namespace orders::app
