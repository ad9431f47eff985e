#include "worker/order_worker.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "catalog/keys.hpp"
#include "common/backoff.hpp"
#include "common/dependency_error.hpp"
#include "common/time.hpp"
#include "metrics/registry.hpp"
#include "ordering/keys.hpp"
#include "ordering/units.hpp"
#include "storage/postgres/blocking.hpp"
#include "storage/rabbitmq/connection.hpp"
#include "storage/rabbitmq/node_list.hpp"
#include "storage/rabbitmq/publisher.hpp"
#include "storage/redis/blocking.hpp"
#include "storage/redis/blocking_redis.hpp"
#include "worker/blocking_loop.hpp"
#include "worker/confirm_wait.hpp"
#include "worker/order_persister.hpp"
#include "worker/postgres_batch_record.hpp"

namespace orders::worker {
namespace {

using Clock = std::chrono::steady_clock;

struct WorkerMetrics {
  metrics::Counter& batches = metrics::registry().counter("orders_worker_batches_total", "Batches persisted").with({});
  metrics::Histogram& batch_size = metrics::registry()
                                       .histogram("orders_worker_batch_size", "Orders per batch", {},
                                                  {1, 5, 10, 25, 50, 100, 250, 500, 1000})
                                       .with({});
  metrics::Family<metrics::Counter>& persisted = metrics::registry().counter("orders_worker_orders_persisted_total",
                                                                             "Orders by persist result", {"result"});
  metrics::Counter& dead =
      metrics::registry().counter("orders_worker_dead_lettered_total", "Messages rejected to orders.dead").with({});
  metrics::Histogram& persist_latency = metrics::registry()
                                            .histogram("orders_worker_persist_latency_seconds",
                                                       "From the order's acceptance to its commit in PostgreSQL", {})
                                            .with({});
  metrics::Gauge& queue_lag = metrics::registry()
                                  .gauge("orders_worker_queue_lag_seconds",
                                         "Age of the oldest order in the last committed batch: how far behind the "
                                         "worker is")
                                  .with({});
};

WorkerMetrics& worker_metrics() {
  static WorkerMetrics m;
  return m;
}

struct Delivery {
  std::uint64_t tag;
  std::string body;
  std::optional<ordering::Order> order;
};

redis::BlockingRedis connect_redis(const redis::RedisTarget& target) {
  return redis::BlockingRedis::connect(target, std::chrono::seconds(2));
}

// After the commit: failed orders, and dead-lettered ones whose reservation cannot be stored,
// give their units back (once), and pending records go, so GET /api/orders/{id} reads the record. Throws
// DependencyUnavailable when Redis is down.
void settle_in_redis(redis::BlockingRedis& redis, const std::vector<const ordering::Order*>& orders,
                     const std::vector<OrderOutcome>& outcomes) {
  // One round trip for the batch (per master in a cluster); settled[n] is the order of commands[n].
  std::vector<redis::Command> commands;
  std::vector<const ordering::Order*> settled;
  std::vector<ordering::OrderUnits> owed(orders.size());
  for (std::size_t i = 0; i < orders.size(); ++i) {
    if (!outcomes[i].gives_units_back()) continue;
    owed[i] = ordering::OrderUnits{orders[i]->id, orders[i]->user_id, {}};
    for (const auto& item : orders[i]->items) owed[i].items.emplace_back(item.product_id, item.quantity);
  }
  if (redis.cluster()) ordering::route_to_home_buckets(redis, owed);
  for (std::size_t i = 0; i < orders.size(); ++i) {
    const ordering::Order& o = *orders[i];
    if (outcomes[i].gives_units_back()) {
      const ordering::OrderUnits& units = owed[i];
      for (auto& c : ordering::return_units_commands(units, redis.cluster())) {
        commands.push_back(std::move(c));
        settled.push_back(&o);
      }
    } else if (outcomes[i].result != PersistResult::kRejected) {
      commands.push_back(redis::Command::of({"DEL", ordering::pending_order_key(o.id, redis.cluster())}));
      settled.push_back(&o);
    }
  }
  const std::vector<redis::Reply> replies = redis.pipeline(commands);
  for (std::size_t n = 0; n < replies.size(); ++n) {
    if (replies[n].is_error()) {
      throw std::runtime_error("settling order " + settled[n]->id + " in Redis failed: " + replies[n].str);
    }
  }
}

class Worker {
 public:
  Worker(const config::PostgresEndpoint& pg, const redis::RedisTarget& redis,
         const std::vector<config::AmqpEndpoint>& amqp, rabbitmq::Publisher& publisher, const WorkerOptions& options,
         const std::atomic<bool>& stop)
      : pg_(pg), redis_endpoint_(redis), amqp_(amqp), publisher_(publisher), options_(options), stop_(stop) {}

  void run() {
    Backoff backoff(options_.min_backoff, options_.max_backoff);
    while (!stop_) {
      try {
        consume();
        return;
      } catch (const std::exception& e) {
        const auto wait = backoff.next();
        spdlog::warn("worker: {}; reconnecting in {} ms", e.what(), wait.count());
        sleep_unless_stopped(wait);
      }
    }
  }

 private:
  void sleep_unless_stopped(std::chrono::milliseconds d) { worker::sleep_unless_stopped(stop_, d); }

  void consume() {
    // No heartbeats: while a batch is held through a PostgreSQL outage the worker makes no
    // AMQP calls, and a missed heartbeat would make the broker requeue (and count) the batch.
    // A reconnect goes to the next node of the cluster first (NodeList): the broker requeued
    // this consumer's unacknowledged messages, and the next consumer drops what is already stored.
    std::unique_ptr<rabbitmq::Connection> connection = amqp_.connect(std::chrono::seconds(5), /*heartbeat_seconds=*/0);
    rabbitmq::Connection& amqp = *connection;
    rabbitmq::declare_topology(amqp);
    amqp.consume(rabbitmq::kPersistQueue, static_cast<std::uint16_t>(options_.prefetch));
    spdlog::info("worker consuming {} on {} (prefetch {}, batches of up to {})", rabbitmq::kPersistQueue,
                 amqp_.current().display(), options_.prefetch, options_.batch_size);
    while (!stop_) {
      std::vector<Delivery> batch = collect(amqp);
      if (!batch.empty()) settle(amqp, batch);
    }
  }

  // Waits up to 200 ms for a first message (to notice `stop`), then takes what arrives within
  // the batch wait, up to the batch size.
  std::vector<Delivery> collect(rabbitmq::Connection& amqp) {
    std::vector<Delivery> batch;
    Clock::time_point deadline{};
    while (static_cast<int>(batch.size()) < options_.batch_size) {
      auto wait = batch.empty() ? std::chrono::milliseconds(200)
                                : std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (!batch.empty() && wait.count() <= 0) break;
      std::optional<rabbitmq::Delivery> message = amqp.next_delivery(wait);
      if (!message) {
        if (batch.empty()) return batch;
        break;
      }
      if (batch.empty()) deadline = Clock::now() + options_.batch_wait;
      batch.push_back(Delivery{message->tag, std::move(message->body), std::nullopt});
    }
    return batch;
  }

  void settle(rabbitmq::Connection& amqp, std::vector<Delivery>& batch) {
    auto& m = worker_metrics();
    std::vector<const ordering::Order*> orders;
    std::vector<Delivery*> owners;
    std::set<std::uint64_t> rejected;
    for (auto& d : batch) {
      std::string why;
      d.order = ordering::parse_order_created(d.body, &why);
      if (!d.order) {
        spdlog::error("worker: dead-lettering message {}: {}", d.tag, why);
        m.dead.inc();
        amqp.reject(d.tag, /*requeue=*/false);
        rejected.insert(d.tag);
        continue;
      }
      orders.push_back(&*d.order);
      owners.push_back(&d);
    }
    if (!orders.empty()) {
      // Hold the batch until PostgreSQL and Redis take it: releasing it would count a delivery.
      Backoff backoff(options_.min_backoff, options_.max_backoff);
      for (;;) {
        try {
          if (!pg_conn_ || pg_conn_->broken()) pg_conn_ = connect_postgres(pg_, "orders-worker");
          auto outcomes = persist_batch(*pg_conn_, orders);
          if (!redis_conn_ || redis_conn_->broken()) redis_conn_ = connect_redis(redis_endpoint_);
          settle_in_redis(*redis_conn_, orders, outcomes);
          std::int64_t oldest_ms = 0;
          for (std::size_t i = 0; i < orders.size(); ++i) {
            if (auto created = parse_rfc3339(orders[i]->created_at)) {
              oldest_ms = oldest_ms == 0 ? *created : std::min(oldest_ms, *created);
            }
            switch (outcomes[i].result) {
              case PersistResult::kPersisted:
                m.persisted.with({"persisted"}).inc();
                if (auto created = parse_rfc3339(orders[i]->created_at)) {
                  m.persist_latency.observe(static_cast<double>(now_ms() - *created) / 1000.0);
                }
                break;
              case PersistResult::kDuplicate: m.persisted.with({"duplicate"}).inc(); break;
              case PersistResult::kFailed: m.persisted.with({"failed"}).inc(); break;
              case PersistResult::kRejected:
                spdlog::error("worker: dead-lettering order {}: {}", orders[i]->id, outcomes[i].reason);
                m.dead.inc();
                amqp.reject(owners[i]->tag, /*requeue=*/false);
                rejected.insert(owners[i]->tag);
                break;
            }
          }
          m.batches.inc();
          m.batch_size.observe(static_cast<double>(orders.size()));
          if (oldest_ms != 0) m.queue_lag.set(static_cast<double>(now_ms() - oldest_ms) / 1000.0);
          std::vector<std::string> duplicates;
          for (std::size_t i = 0; i < orders.size(); ++i) {
            if (outcomes[i].result == PersistResult::kDuplicate) duplicates.push_back(orders[i]->id);
          }
          notify(orders, outcomes, confirmed_by_a_worker(*pg_conn_, duplicates));
          break;
        } catch (const std::exception& e) {
          if (stop_) throw;
          pg_conn_.reset();
          redis_conn_.reset();
          const auto wait = backoff.next();
          spdlog::warn("worker: batch of {} held: {}; retrying in {} ms", orders.size(), e.what(), wait.count());
          sleep_unless_stopped(wait);
          if (stop_) throw;
        }
      }
    }
    // Everything is settled: one multiple-ack up to the last tag not rejected (a rejected tag is
    // already done, and acking it again would close the channel).
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      if (rejected.count(it->tag)) continue;
      amqp.ack(it->tag, /*multiple=*/true);
      break;
    }
  }

  // order.confirmed / order.failed for what this batch changed, after the commit, and
  // order.confirmed again for redelivered orders a worker confirmed before (`reconfirm`): the
  // worker that committed them may have died before its publish. At least once, through the
  // redelivery: a confirm the broker does not give is logged (the message is acknowledged).
  void notify(const std::vector<const ordering::Order*>& orders, const std::vector<OrderOutcome>& outcomes,
              const std::set<std::string>& reconfirm) {
    // Each completion co-owns the count: one the publisher runs after this bounded wait (and
    // after this function returned) is harmless.
    ConfirmWait confirms;
    int sent = 0;
    for (std::size_t i = 0; i < orders.size(); ++i) {
      const bool confirmed = outcomes[i].result == PersistResult::kPersisted || reconfirm.count(orders[i]->id) == 1;
      const bool failed = outcomes[i].result == PersistResult::kFailed;
      if (!confirmed && !failed) continue;
      std::string type = confirmed ? "order.confirmed" : "order.failed";
      std::string event_id = ordering::worker_outcome_event_id(orders[i]->id);
      std::string body = ordering::order_status_event(event_id, type, orders[i]->id, "PENDING",
                                                      confirmed ? "CONFIRMED" : "FAILED", outcomes[i].reason);
      rabbitmq::Message message{"orders", type, std::move(event_id), type, std::move(body)};
      ++sent;
      publisher_.enqueue(std::move(message), confirms.completion());
    }
    if (sent == 0) return;
    const int confirmed = confirms.wait(std::chrono::seconds(5));
    if (confirmed < sent)
      spdlog::warn("worker: {} of {} status events not confirmed by the broker", sent - confirmed, sent);
  }

  config::PostgresEndpoint pg_;
  redis::RedisTarget redis_endpoint_;
  rabbitmq::NodeList amqp_;
  rabbitmq::Publisher& publisher_;
  WorkerOptions options_;
  const std::atomic<bool>& stop_;
  std::optional<postgres::BlockingConnection> pg_conn_;
  std::optional<redis::BlockingRedis> redis_conn_;
};

}  // namespace

void run_order_worker(const config::PostgresEndpoint& pg, const redis::RedisTarget& redis,
                      const std::vector<config::AmqpEndpoint>& amqp, rabbitmq::Publisher& publisher,
                      const WorkerOptions& options, const std::atomic<bool>& stop) {
  worker_metrics();
  Worker(pg, redis, amqp, publisher, options, stop).run();
}

}  // namespace orders::worker
