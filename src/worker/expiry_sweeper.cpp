#include "worker/expiry_sweeper.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <thread>

#include "common/backoff.hpp"
#include "common/dependency_error.hpp"
#include "common/uuid.hpp"
#include "metrics/registry.hpp"
#include "ordering/order_event.hpp"
#include "storage/postgres/array.hpp"
#include "storage/postgres/blocking.hpp"
#include "storage/redis/blocking.hpp"
#include "storage/redis/reply.hpp"
#include "worker/blocking_loop.hpp"

namespace orders::worker {
namespace {

using Clock = std::chrono::steady_clock;
using postgres::pg_array;

metrics::Counter& expired_total() {
  static metrics::Counter& c = metrics::registry()
                                   .counter("orders_expired_total",
                                            "Orders whose payment window passed unpaid: EXPIRED, their units back")
                                   .with({});
  return c;
}

// A failure another round can clear (connection, deadlock, lock, shutdown) throws
// DependencyUnavailable; anything else is a bug worth the log line.
postgres::Result must(postgres::Result r, postgres::BlockingConnection& pg, const char* what) {
  if (r.ok()) return r;
  const std::string_view state = r.sqlstate();
  if (pg.broken() || state.empty() || state.starts_with("40") || state.starts_with("55") || state.starts_with("57")) {
    throw DependencyUnavailable("PostgreSQL", std::string(what) + ": " + r.error_message());
  }
  throw std::runtime_error(std::string(what) + ": " + r.error_message());
}

postgres::Params one(const std::string& value) {
  postgres::Params p;
  p.add(value);
  return p;
}

// Rows (order id, user id, product id, quantity), ordered by order id, as units per order.
std::vector<ordering::OrderUnits> units_of(const postgres::Result& rows) {
  std::vector<ordering::OrderUnits> out;
  for (int i = 0; i < rows.rows(); ++i) {
    std::string id(rows.get(i, 0));
    if (out.empty() || out.back().order_id != id) out.push_back({id, std::string(rows.get(i, 1)), {}});
    out.back().items.emplace_back(std::string(rows.get(i, 2)), rows.get_int(i, 3));
  }
  return out;
}

constexpr const char* kUnitsOf =
    "SELECT o.id, o.user_id, i.product_id, i.quantity FROM orders o JOIN order_items i ON i.order_id = o.id"
    " WHERE o.id = ANY($1::uuid[]) ORDER BY o.id, i.product_id";

}  // namespace

std::vector<ordering::OrderUnits> expire_due(postgres::BlockingConnection& pg, int batch) {
  postgres::Transaction tx(pg);
  postgres::Params limit;
  limit.add(static_cast<long long>(batch));
  auto due = must(pg.exec("SELECT id FROM orders WHERE status = 'CONFIRMED' AND expires_at <= clock_timestamp()"
                          " ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED",
                          limit),
                  pg, "find due orders");
  if (due.rows() == 0) {
    tx.commit();
    return {};
  }
  std::vector<std::optional<std::string>> ids, event_ids, events;
  for (int i = 0; i < due.rows(); ++i) {
    ids.emplace_back(std::string(due.get(i, 0)));
    event_ids.emplace_back(uuid::make_v7());
    events.emplace_back(ordering::order_status_event(*event_ids.back(), "order.expired", *ids.back(), "CONFIRMED",
                                                     "EXPIRED", "PAYMENT_WINDOW_PASSED"));
  }
  const std::string id_array = pg_array(ids);
  // Products locked in id order, as the workers' batches and the cancels lock them.
  must(pg.exec(
           "SELECT id FROM products WHERE id IN (SELECT product_id FROM order_items WHERE order_id = ANY($1::uuid[]))"
           " ORDER BY id FOR NO KEY UPDATE",
           one(id_array)),
       pg, "lock products");
  must(pg.exec("UPDATE orders SET status = 'EXPIRED', updated_at = now() WHERE id = ANY($1::uuid[])", one(id_array)),
       pg, "expire orders");
  must(pg.exec("UPDATE products p SET stock = p.stock + d.quantity, updated_at = now()"
               " FROM (SELECT product_id, sum(quantity) AS quantity FROM order_items WHERE order_id = ANY($1::uuid[])"
               "   GROUP BY product_id) d WHERE p.id = d.product_id",
               one(id_array)),
       pg, "return stock");
  must(pg.exec("INSERT INTO inventory_movements (product_id, order_id, delta, reason)"
               " SELECT product_id, order_id, quantity, 'EXPIRED' FROM order_items WHERE order_id = ANY($1::uuid[])",
               one(id_array)),
       pg, "ledger");
  must(pg.exec("INSERT INTO order_events (order_id, event_type, from_status, to_status, details)"
               " SELECT id, 'EXPIRED', 'CONFIRMED', 'EXPIRED', jsonb_build_object('reason', 'PAYMENT_WINDOW_PASSED')"
               " FROM unnest($1::uuid[]) AS id",
               one(id_array)),
       pg, "audit");
  postgres::Params outbox;
  outbox.add(pg_array(event_ids)).add(pg_array(events));
  must(pg.exec("INSERT INTO event_outbox (id, routing_key, body)"
               " SELECT e.id, 'order.expired', e.body FROM unnest($1::uuid[], $2::text[]) AS e(id, body)",
               outbox),
       pg, "events");
  auto units = units_of(must(pg.exec(kUnitsOf, one(id_array)), pg, "units"));
  tx.commit();
  expired_total().inc(ids.size());
  return units;
}

std::vector<ordering::OrderUnits> owed_expired(postgres::BlockingConnection& pg, int batch) {
  postgres::Params limit;
  limit.add(static_cast<long long>(batch));
  return units_of(must(pg.exec("SELECT o.id, o.user_id, i.product_id, i.quantity FROM orders o"
                               " JOIN order_items i ON i.order_id = o.id WHERE o.id IN (SELECT id FROM orders"
                               "   WHERE status = 'EXPIRED' AND units_returned_at IS NULL LIMIT $1)"
                               " ORDER BY o.id, i.product_id",
                               limit),
                       pg, "owed units"));
}

void return_expired_units(redis::BlockingRedis& redis, postgres::BlockingConnection& pg,
                          std::vector<ordering::OrderUnits> units) {
  if (units.empty()) return;
  if (redis.cluster()) ordering::route_to_home_buckets(redis, units);
  std::vector<redis::Command> commands;
  std::vector<std::size_t> owner;  // owner[n]: the order of commands[n]
  for (std::size_t i = 0; i < units.size(); ++i) {
    for (auto& c : ordering::return_units_commands(units[i], redis.cluster())) {
      commands.push_back(std::move(c));
      owner.push_back(i);
    }
  }
  const std::vector<redis::Reply> replies = redis.pipeline(commands);
  std::vector<bool> failed(units.size(), false);
  for (std::size_t n = 0; n < replies.size(); ++n) {
    if (replies[n].is_error() && !failed[owner[n]]) {
      spdlog::warn("sweeper: units of order {} not returned yet: {}", units[owner[n]].order_id, replies[n].str);
      failed[owner[n]] = true;
    }
  }
  std::vector<std::optional<std::string>> back;
  for (std::size_t i = 0; i < units.size(); ++i) {
    if (!failed[i]) back.emplace_back(units[i].order_id);
  }
  if (back.empty()) return;
  must(pg.exec("UPDATE orders SET units_returned_at = now() WHERE id = ANY($1::uuid[]) AND units_returned_at IS NULL",
               one(pg_array(back))),
       pg, "mark units returned");
}

SweepRound sweep_once(postgres::BlockingConnection& pg, redis::BlockingRedis& redis, int batch,
                      const std::atomic<bool>* stop) {
  SweepRound round;
  auto owed = owed_expired(pg, batch);
  return_expired_units(redis, pg, owed);
  round.returned += static_cast<int>(owed.size());
  for (;;) {
    auto expired = expire_due(pg, batch);
    round.expired += static_cast<int>(expired.size());
    return_expired_units(redis, pg, expired);
    round.returned += static_cast<int>(expired.size());
    if (static_cast<int>(expired.size()) < batch || (stop && *stop)) break;
  }
  return round;
}

void run_expiry_sweeper(const config::PostgresEndpoint& pg, const redis::RedisTarget& redis,
                        const SweepSettings& settings, const std::atomic<bool>& stop) {
  expired_total();
  Backoff backoff(std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
  std::optional<postgres::BlockingConnection> pg_conn;
  std::optional<redis::BlockingRedis> redis_conn;
  auto pause = [&](std::chrono::milliseconds d) { sleep_unless_stopped(stop, d); };
  while (!stop) {
    const auto started = Clock::now();
    try {
      if (!pg_conn || pg_conn->broken()) {
        pg_conn = connect_postgres(pg, "orders-expiry-sweeper");
      }
      if (!redis_conn || redis_conn->broken()) {
        redis_conn = redis::BlockingRedis::connect(redis, std::chrono::seconds(2));
      }
      const SweepRound round = sweep_once(*pg_conn, *redis_conn, settings.batch, &stop);
      if (round.expired > 0) spdlog::info("sweeper: {} unpaid orders expired", round.expired);
      backoff.reset();
      pause(settings.interval - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started));
    } catch (const std::exception& e) {
      pg_conn.reset();
      redis_conn.reset();
      const auto wait = backoff.next();
      spdlog::warn("sweeper: {}; again in {} ms", e.what(), wait.count());
      pause(wait);
    }
  }
}

}  // namespace orders::worker
