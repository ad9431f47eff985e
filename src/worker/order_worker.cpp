#include "worker/order_worker.hpp"

#include <amqp.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>

#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "catalog/keys.hpp"
#include "common/backoff.hpp"
#include "common/dependency_error.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "metrics/registry.hpp"
#include "ordering/keys.hpp"
#include "storage/rabbitmq/connection.hpp"
#include "storage/rabbitmq/publisher.hpp"
#include "storage/redis/blocking.hpp"
#include "storage/redis/client.hpp"
#include "worker/confirm_wait.hpp"
#include "worker/order_persister.hpp"

namespace orders::worker {
namespace {

using Clock = std::chrono::steady_clock;
using PgPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using RedisPtr = std::unique_ptr<redisContext, decltype(&redisFree)>;

struct WorkerMetrics {
  metrics::Counter& batches = metrics::registry().counter("worker_batches_total", "Batches persisted").with({});
  metrics::Histogram& batch_size = metrics::registry()
                                       .histogram("worker_batch_size", "Orders per batch", {},
                                                  {1, 5, 10, 25, 50, 100, 250, 500, 1000})
                                       .with({});
  metrics::Family<metrics::Counter>& persisted = metrics::registry().counter("worker_orders_persisted_total",
                                                                             "Orders by persist result", {"result"});
  metrics::Counter& dead =
      metrics::registry().counter("worker_dead_lettered_total", "Messages rejected to orders.dead").with({});
  metrics::Histogram& persist_latency = metrics::registry()
                                            .histogram("worker_persist_latency_seconds",
                                                       "From the order's acceptance to its commit in PostgreSQL", {})
                                            .with({});
  metrics::Gauge& queue_lag = metrics::registry()
                                  .gauge("worker_queue_lag_seconds",
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
  std::optional<PersistOrder> order;
};

PgPtr connect_postgres(const config::PostgresEndpoint& pg) {
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {pg.conninfo.c_str(), "5", "orders-worker", nullptr};
  PgPtr conn(PQconnectdbParams(keys, values, 1), &PQfinish);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    throw DependencyUnavailable("PostgreSQL", conn ? PQerrorMessage(conn.get()) : "out of memory");
  }
  return conn;
}

RedisPtr connect_redis(const config::RedisEndpoint& endpoint) {
  return redis::connect_blocking(endpoint, std::chrono::seconds(2));
}

// After the commit: failed orders, and dead-lettered ones whose reservation cannot be stored,
// give their units back (once), and pending records go, so GET /api/orders/{id} reads the record. Throws
// DependencyUnavailable when Redis is down.
void settle_in_redis(redisContext* redis, const std::vector<const PersistOrder*>& orders,
                     const std::vector<OrderOutcome>& outcomes) {
  static const std::string kFailedScript = redis::embedded_script("return_units").source;
  for (std::size_t i = 0; i < orders.size(); ++i) {
    const PersistOrder& o = *orders[i];
    std::vector<std::string> argv;
    if (outcomes[i].gives_units_back()) {
      argv = {"EVAL", kFailedScript};
      std::vector<std::string> keys{"returned:" + o.id, ordering::keys::order(o.id)};
      std::vector<std::string> quantities;
      for (const auto& item : o.items) {
        keys.push_back(catalog::keys::stock(item.product_id));
        keys.push_back(ordering::keys::buyers(item.product_id));
        quantities.push_back(std::to_string(item.quantity));
      }
      argv.push_back(std::to_string(keys.size()));
      argv.insert(argv.end(), keys.begin(), keys.end());
      argv.push_back(o.user_id);
      argv.push_back(std::to_string(30 * 24 * 3600));
      argv.insert(argv.end(), quantities.begin(), quantities.end());
    } else if (outcomes[i].result != PersistResult::kRejected) {
      argv = {"DEL", ordering::keys::order(o.id)};
    } else {
      continue;
    }
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      args.push_back(a.c_str());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(redis, static_cast<int>(args.size()), args.data(), lens.data());
  }
  for (std::size_t i = 0; i < orders.size(); ++i) {
    if (outcomes[i].result == PersistResult::kRejected && !outcomes[i].gives_units_back()) continue;
    void* reply = nullptr;
    if (redisGetReply(redis, &reply) != REDIS_OK) throw DependencyUnavailable("Redis", redis->errstr);
    auto* r = static_cast<redisReply*>(reply);
    bool error = r->type == REDIS_REPLY_ERROR;
    std::string text = error ? std::string(r->str, r->len) : "";
    freeReplyObject(r);
    if (error) throw std::runtime_error("settling order " + orders[i]->id + " in Redis failed: " + text);
  }
}

std::string status_event(std::string_view type, const std::string& order_id, std::string_view to,
                         const std::string& reason) {
  std::string body = R"({"id":")" + uuid::make_v7() + R"(","type":")" + std::string(type) +
                     R"(","version":1,"occurredAt":")" + format_rfc3339(now_ms()) + R"(","data":{"orderId":")" +
                     order_id + R"(","fromStatus":"PENDING","toStatus":")" + std::string(to) + "\"";
  if (!reason.empty()) body += R"(,"reason":")" + reason + "\"";
  return body + "}}";
}

class Worker {
 public:
  Worker(const config::PostgresEndpoint& pg, const config::RedisEndpoint& redis, const config::AmqpEndpoint& amqp,
         rabbitmq::Publisher& publisher, const WorkerOptions& options, const std::atomic<bool>& stop)
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
  void sleep_unless_stopped(std::chrono::milliseconds d) {
    const auto until = Clock::now() + d;
    while (!stop_ && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  void consume() {
    // No heartbeats: while a batch is held through a PostgreSQL outage the worker makes no
    // AMQP calls, and a missed heartbeat would make the broker requeue (and count) the batch.
    rabbitmq::Connection amqp(amqp_, std::chrono::seconds(5), /*heartbeat_seconds=*/0);
    rabbitmq::declare_topology(amqp);
    amqp_connection_state_t c = amqp.native();
    amqp_basic_qos(c, rabbitmq::kChannel, 0, static_cast<std::uint16_t>(options_.prefetch), 0);
    amqp.check_rpc("basic.qos");
    amqp_basic_consume(c, rabbitmq::kChannel, rabbitmq::bytes(rabbitmq::kPersistQueue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    amqp.check_rpc("basic.consume");
    spdlog::info("worker consuming {} (prefetch {}, batches of up to {})", rabbitmq::kPersistQueue, options_.prefetch,
                 options_.batch_size);
    while (!stop_) {
      std::vector<Delivery> batch = collect(c);
      if (!batch.empty()) settle(c, batch);
    }
  }

  // Waits up to 200 ms for a first message (to notice `stop`), then takes what arrives within
  // the batch wait, up to the batch size.
  std::vector<Delivery> collect(amqp_connection_state_t c) {
    std::vector<Delivery> batch;
    Clock::time_point deadline{};
    while (static_cast<int>(batch.size()) < options_.batch_size) {
      auto wait = batch.empty() ? std::chrono::milliseconds(200)
                                : std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (!batch.empty() && wait.count() <= 0) break;
      timeval tv{static_cast<time_t>(wait.count() / 1000), static_cast<suseconds_t>((wait.count() % 1000) * 1000)};
      amqp_maybe_release_buffers(c);
      amqp_envelope_t envelope;
      amqp_rpc_reply_t reply = amqp_consume_message(c, &envelope, &tv, 0);
      if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT) {
        if (batch.empty()) return batch;
        break;
      }
      if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
        throw DependencyUnavailable("RabbitMQ", "consume failed");
      }
      Delivery d{envelope.delivery_tag,
                 std::string(static_cast<char*>(envelope.message.body.bytes), envelope.message.body.len), std::nullopt};
      amqp_destroy_envelope(&envelope);
      if (batch.empty()) deadline = Clock::now() + options_.batch_wait;
      batch.push_back(std::move(d));
    }
    return batch;
  }

  void settle(amqp_connection_state_t c, std::vector<Delivery>& batch) {
    auto& m = worker_metrics();
    std::vector<const PersistOrder*> orders;
    std::vector<Delivery*> owners;
    std::set<std::uint64_t> rejected;
    for (auto& d : batch) {
      std::string why;
      d.order = parse_order_created(d.body, &why);
      if (!d.order) {
        spdlog::error("worker: dead-lettering message {}: {}", d.tag, why);
        m.dead.inc();
        amqp_basic_reject(c, rabbitmq::kChannel, d.tag, /*requeue=*/0);
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
          if (!pg_conn_ || PQstatus(pg_conn_.get()) != CONNECTION_OK) pg_conn_ = connect_postgres(pg_);
          auto outcomes = persist_batch(pg_conn_.get(), orders);
          if (!redis_conn_ || redis_conn_->err) redis_conn_ = connect_redis(redis_endpoint_);
          settle_in_redis(redis_conn_.get(), orders, outcomes);
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
                amqp_basic_reject(c, rabbitmq::kChannel, owners[i]->tag, /*requeue=*/0);
                rejected.insert(owners[i]->tag);
                break;
            }
          }
          m.batches.inc();
          m.batch_size.observe(static_cast<double>(orders.size()));
          if (oldest_ms != 0) m.queue_lag.set(static_cast<double>(now_ms() - oldest_ms) / 1000.0);
          notify(orders, outcomes);
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
      rabbitmq::Connection::check_status(amqp_basic_ack(c, rabbitmq::kChannel, it->tag, /*multiple=*/1), "ack");
      break;
    }
  }

  // order.confirmed / order.failed for what this batch changed, after the commit. Without an
  // event outbox in PostgreSQL a notification the broker does not confirm is logged, not retried.
  void notify(const std::vector<const PersistOrder*>& orders, const std::vector<OrderOutcome>& outcomes) {
    // Each completion co-owns the count: one the publisher runs after this bounded wait (and
    // after this function returned) is harmless.
    ConfirmWait confirms;
    int sent = 0;
    for (std::size_t i = 0; i < orders.size(); ++i) {
      const bool confirmed = outcomes[i].result == PersistResult::kPersisted;
      const bool failed = outcomes[i].result == PersistResult::kFailed;
      if (!confirmed && !failed) continue;
      std::string type = confirmed ? "order.confirmed" : "order.failed";
      std::string body = status_event(type, orders[i]->id, confirmed ? "CONFIRMED" : "FAILED", outcomes[i].reason);
      auto at = body.find("\"id\":\"");
      rabbitmq::Message message{"orders", type, body.substr(at + 6, 36), type, std::move(body)};
      ++sent;
      publisher_.enqueue(std::move(message), confirms.completion());
    }
    if (sent == 0) return;
    const int confirmed = confirms.wait(std::chrono::seconds(5));
    if (confirmed < sent)
      spdlog::warn("worker: {} of {} status events not confirmed by the broker", sent - confirmed, sent);
  }

  config::PostgresEndpoint pg_;
  config::RedisEndpoint redis_endpoint_;
  config::AmqpEndpoint amqp_;
  rabbitmq::Publisher& publisher_;
  WorkerOptions options_;
  const std::atomic<bool>& stop_;
  PgPtr pg_conn_{nullptr, &PQfinish};
  RedisPtr redis_conn_{nullptr, &redisFree};
};

}  // namespace

void run_order_worker(const config::PostgresEndpoint& pg, const config::RedisEndpoint& redis,
                      const config::AmqpEndpoint& amqp, rabbitmq::Publisher& publisher, const WorkerOptions& options,
                      const std::atomic<bool>& stop) {
  worker_metrics();
  Worker(pg, redis, amqp, publisher, options, stop).run();
}

}  // namespace orders::worker
