#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <thread>

#include "app/commands.hpp"
#include "app/probes.hpp"
#include "common/dependency_error.hpp"
#include "storage/rabbitmq/publisher.hpp"
#include "worker/order_worker.hpp"

namespace orders::app {

int run_worker(const config::Dependencies& deps, const config::WorkerSettings& settings) {
  config::PostgresEndpoint pg;
  config::RedisEndpoint redis;
  config::AmqpEndpoint amqp;
  try {
    pg = config::parse_postgres_url(deps.database_url);
    redis = config::parse_redis_url(deps.redis_url);
    amqp = config::parse_amqp_url(deps.rabbitmq_url);
  } catch (const config::ConfigError& e) {
    std::cerr << "orders worker: " << e.what() << '\n';
    return kExitConfig;
  }
  rabbitmq::Publisher publisher(amqp);  // order.confirmed / order.failed
  try {
    probe_postgres(pg);
    probe_redis(redis);
    publisher.start();  // connects and declares the topology
  } catch (const DependencyUnavailable& e) {
    std::cerr << "orders worker: " << e.what() << '\n';
    return kExitUnavailable;
  }
  spdlog::info("orders worker connected (PostgreSQL {}, Redis {}, RabbitMQ {})", pg.display(), redis.display(),
               amqp.display());

  // Signals arrive on a thread of their own; the worker loop notices the flag within 200 ms.
  std::atomic<bool> stop{false};
  boost::asio::io_context signals_io(1);
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int signal) {
    spdlog::info("received signal {}, finishing the current batch", signal);
    stop = true;
  });
  std::thread signal_thread([&] { signals_io.run(); });

  worker::WorkerOptions options;
  options.prefetch = settings.prefetch;
  options.batch_size = settings.batch_size;
  options.batch_wait = std::chrono::milliseconds(settings.batch_wait_ms);
  worker::run_order_worker(pg, redis, amqp, publisher, options, stop);
  publisher.stop();

  signals_io.stop();
  signal_thread.join();
  spdlog::info("orders worker stopped");
  return 0;
}

}  // namespace orders::app
