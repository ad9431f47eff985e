#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <thread>

#include "app/commands.hpp"
#include "app/io_threads.hpp"
#include "app/probes.hpp"
#include "app/redis_mode.hpp"
#include "common/dependency_error.hpp"
#include "http/server.hpp"
#include "http/service_routes.hpp"
#include "storage/rabbitmq/publisher.hpp"
#include "worker/event_relay.hpp"
#include "worker/expiry_sweeper.hpp"
#include "worker/order_worker.hpp"
#include "worker/queue_depth.hpp"

namespace orders::app {

int run_worker(const config::Dependencies& deps, const config::WorkerSettings& settings) {
  config::PostgresEndpoint pg;
  redis::RedisTarget redis;
  std::vector<config::AmqpEndpoint> amqp;
  try {
    pg = config::parse_postgres_url(deps.database_url);
    redis.endpoint = config::parse_redis_url(deps.redis_url);
    redis.cluster_seeds = cluster_seeds(deps, redis.endpoint);
    amqp = config::parse_amqp_urls(deps.rabbitmq_url);
  } catch (const config::ConfigError& e) {
    std::cerr << "orders worker: " << e.what() << '\n';
    return kExitConfig;
  }
  rabbitmq::Publisher publisher(amqp);  // order.confirmed / order.failed
  try {
    probe_postgres(pg);
    if (redis.cluster()) probe_redis_cluster(redis.endpoint, redis.cluster_seeds);
    else probe_redis(redis.endpoint);
    publisher.start();  // connects and declares the topology
  } catch (const DependencyUnavailable& e) {
    std::cerr << "orders worker: " << e.what() << '\n';
    return kExitUnavailable;
  }
  spdlog::info("orders worker connected (PostgreSQL {}, Redis {}, RabbitMQ {})", pg.display(), redis.display(),
               rabbitmq::NodeList(amqp).display());

  // Signals arrive on a thread of their own; the worker loop notices the flag within 200 ms.
  std::atomic<bool> stop{false};
  boost::asio::io_context signals_io(1);
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int signal) {
    spdlog::info("received signal {}, finishing the current batch", signal);
    stop = true;
  });
  std::thread signal_thread([&] { signals_io.run(); });

  // /metrics and /health over HTTP on a thread of their own, when asked for.
  std::unique_ptr<IoThreads> metrics_io;
  std::unique_ptr<http::Router> metrics_router;
  std::unique_ptr<http::Server> metrics_server;
  if (settings.metrics_port != 0) {
    metrics_io = std::make_unique<IoThreads>(1);
    metrics_router = std::make_unique<http::Router>();
    http::add_health_and_metrics_routes(*metrics_router);
    http::ServerOptions server_options;
    server_options.host = settings.metrics_host;
    server_options.port = static_cast<std::uint16_t>(settings.metrics_port);
    server_options.max_connections = 64;
    metrics_server = std::make_unique<http::Server>(
        server_options, std::vector<http::Shard>{{&metrics_io->at(0), metrics_router.get()}});
    try {
      metrics_server->start();
    } catch (const std::system_error& e) {
      std::cerr << "orders worker: " << e.what() << '\n';
      return kExitUnavailable;
    }
    metrics_io->start();
  }
  // Queue depths (the lag before the workers, and the dead letters) for that /metrics.
  std::unique_ptr<worker::QueueDepthProbe> queue_depths;
  if (settings.metrics_port != 0)
    queue_depths = std::make_unique<worker::QueueDepthProbe>(amqp, std::chrono::seconds(2));

  worker::WorkerOptions options;
  options.prefetch = settings.prefetch;
  options.batch_size = settings.batch_size;
  options.batch_wait = std::chrono::milliseconds(settings.batch_wait_ms);
  // Beside the consumer, on threads of their own with their own connections: the relay of the
  // record's event outbox and the expiry sweeper (worker/event_relay.hpp, expiry_sweeper.hpp).
  worker::SweepSettings sweep;
  sweep.interval = std::chrono::milliseconds(settings.sweep_interval_ms);
  sweep.batch = settings.sweep_batch;
  std::thread relay_thread([&] { worker::run_event_relay(pg, publisher, worker::RelaySettings{}, stop); });
  std::thread sweeper_thread([&] { worker::run_expiry_sweeper(pg, redis, sweep, stop); });
  worker::run_order_worker(pg, redis, amqp, publisher, options, stop);
  stop = true;  // the consumer gave up or was asked to stop: so do the others
  sweeper_thread.join();
  relay_thread.join();
  publisher.stop();
  queue_depths.reset();
  if (metrics_server) {
    metrics_server->shutdown(std::chrono::seconds(2));
    metrics_io->finish(std::chrono::seconds(2));
  }

  signals_io.stop();
  signal_thread.join();
  spdlog::info("orders worker stopped");
  return 0;
}

}  // namespace orders::app
