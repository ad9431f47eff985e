#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>

#include "app/commands.hpp"
#include "app/probes.hpp"
#include "common/dependency_error.hpp"
#include "storage/rabbitmq/connection.hpp"

namespace orders::app {

// Until the Workers capability lands, the worker connects to PostgreSQL and RabbitMQ,
// declares the topology, and waits: it consumes nothing (its --help says so).
int run_worker(const config::Dependencies& deps, const config::WorkerSettings&) {
  config::PostgresEndpoint pg;
  config::AmqpEndpoint amqp;
  try {
    pg = config::parse_postgres_url(deps.database_url);
    amqp = config::parse_amqp_url(deps.rabbitmq_url);
  } catch (const config::ConfigError& e) {
    std::cerr << "orders worker: " << e.what() << '\n';
    return kExitConfig;
  }
  std::unique_ptr<rabbitmq::Connection> connection;
  try {
    probe_postgres(pg);
    connection = std::make_unique<rabbitmq::Connection>(amqp, std::chrono::seconds(4));
    rabbitmq::declare_topology(*connection);
  } catch (const DependencyUnavailable& e) {
    std::cerr << "orders worker: " << e.what() << '\n';
    return kExitUnavailable;
  }
  spdlog::info("orders worker connected (PostgreSQL {}, RabbitMQ {}); consuming is not implemented yet",
               pg.display(), amqp.display());
  boost::asio::io_context io(1);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([](auto, int signal) { spdlog::info("received signal {}, shutting down", signal); });
  io.run();
  spdlog::info("orders worker stopped");
  return 0;
}

}  // namespace orders::app
