#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "app/probes.hpp"
#include "catalog/keys.hpp"
#include "common/dependency_error.hpp"
#include "storage/postgres/result.hpp"
#include "storage/redis/blocking.hpp"

namespace orders::app {
namespace {

struct ProductState {
  std::string id;
  long long stock = 0;               // products.stock, the record
  long long ledger = 0;              // sum of inventory_movements.delta
  long long order_units = 0;         // -(ORDER + CANCEL + FAILED movements)
  long long live_units = 0;          // units in CONFIRMED and COMPLETED orders
  long long pending = 0;             // units of orders accepted in Redis, not yet persisted
  std::optional<long long> counter;  // the Redis counter
};

using RedisPtr = std::unique_ptr<redisContext, decltype(&redisFree)>;

// Units per product of the pending order records (accepted, not yet persisted by a worker).
std::map<std::string, long long> pending_units(redisContext* c) {
  std::map<std::string, long long> units;
  std::string cursor = "0";
  do {
    auto r = redis::blocking_command(c, {"SCAN", cursor, "MATCH", "order:*", "COUNT", "1000"});
    cursor.assign(r->element[0]->str, r->element[0]->len);
    for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
      std::string key(r->element[1]->element[i]->str, r->element[1]->element[i]->len);
      auto order = redis::blocking_command(c, {"GET", key});
      if (order->type == REDIS_REPLY_STRING) {
        boost::system::error_code ec;
        auto v = boost::json::parse(boost::json::string_view(order->str, order->len), ec);
        if (!ec && v.is_object() && v.as_object().contains("items")) {
          for (const auto& item : v.at("items").as_array()) {
            units[std::string(item.at("productId").as_string())] += item.at("quantity").to_number<long long>();
          }
        }
      }
    }
  } while (cursor != "0");
  return units;
}

}  // namespace

// Compares, per active product, the Redis counter with PostgreSQL (the record) and the ledger
// with the orders. Expected at rest and in flight alike:
//   counter + pending units = products.stock      (pending: accepted, not yet persisted)
//   products.stock = sum of the ledger's deltas
//   units taken by orders in the ledger = units in CONFIRMED/COMPLETED orders
// --fix makes the counters follow the record. Exit 0 without drift, 1 with drift.
int run_reconcile(const config::Dependencies& deps, bool fix) {
  config::PostgresEndpoint pg;
  config::RedisEndpoint redis_endpoint;
  try {
    pg = config::parse_postgres_url(deps.database_url);
    redis_endpoint = config::parse_redis_url(deps.redis_url);
    probe_postgres(pg);
    probe_redis(redis_endpoint);
  } catch (const config::ConfigError& e) {
    std::cerr << "orders reconcile: " << e.what() << '\n';
    return kExitConfig;
  } catch (const DependencyUnavailable& e) {
    std::cerr << "orders reconcile: " << e.what() << '\n';
    return kExitUnavailable;
  }
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(pg.conninfo.c_str()), &PQfinish);
  postgres::Result rows(PQexec(conn.get(),
                               "SELECT p.id, p.stock,"
                               " COALESCE((SELECT sum(delta) FROM inventory_movements m WHERE m.product_id = p.id), 0),"
                               " COALESCE((SELECT -sum(delta) FROM inventory_movements m WHERE m.product_id = p.id"
                               "   AND m.reason IN ('ORDER', 'CANCEL', 'FAILED')), 0),"
                               " COALESCE((SELECT sum(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id"
                               "   WHERE i.product_id = p.id AND o.status IN ('CONFIRMED', 'COMPLETED')), 0)"
                               " FROM products p WHERE p.is_active ORDER BY p.created_at, p.id"));
  if (!rows.ok()) {
    std::cerr << "orders reconcile: " << rows.error_message();
    return kExitFailure;
  }
  RedisPtr redis{nullptr, &redisFree};
  try {
    redis = redis::connect_blocking(redis_endpoint, std::chrono::seconds(5));
  } catch (const DependencyUnavailable& e) {
    std::cerr << "orders reconcile: " << e.what() << '\n';
    return kExitUnavailable;
  }

  // Pending first, counters second: an order accepted in between shows as a counter below
  // expectation by its units for this one report, never as a gain.
  auto pending = pending_units(redis.get());
  std::vector<ProductState> products;
  for (int i = 0; i < rows.rows(); ++i) {
    ProductState p;
    p.id = rows.get(i, 0);
    p.stock = rows.get_int(i, 1);
    p.ledger = rows.get_int(i, 2);
    p.order_units = rows.get_int(i, 3);
    p.live_units = rows.get_int(i, 4);
    p.pending = pending.count(p.id) ? pending[p.id] : 0;
    auto r = redis::blocking_command(redis.get(), {"GET", catalog::keys::stock(p.id)});
    if (r->type == REDIS_REPLY_STRING) p.counter = std::stoll(std::string(r->str, r->len));
    products.push_back(std::move(p));
  }

  int drifting = 0, fixed = 0;
  std::printf("%-36s %10s %8s %8s %10s %8s  %s\n", "product", "counter", "pending", "stock", "ledger", "orders",
              "drift");
  for (const auto& p : products) {
    std::vector<std::string> problems;
    const long long expected_counter = p.stock - p.pending;
    if (!p.counter) problems.push_back("no Redis counter");
    else if (*p.counter != expected_counter)
      problems.push_back("counter " + std::to_string(*p.counter - expected_counter));
    if (p.ledger != p.stock) problems.push_back("ledger " + std::to_string(p.ledger - p.stock));
    if (p.order_units != p.live_units) problems.push_back("orders " + std::to_string(p.order_units - p.live_units));
    std::string drift;
    for (const auto& problem : problems) drift += (drift.empty() ? "" : ", ") + problem;
    if (problems.empty()) drift = "none";
    else ++drifting;
    std::printf("%-36s %10s %8lld %8lld %10lld %8lld  %s\n", p.id.c_str(),
                p.counter ? std::to_string(*p.counter).c_str() : "-", p.pending, p.stock, p.ledger, p.live_units,
                drift.c_str());
    if (fix && (!p.counter || *p.counter != expected_counter)) {
      redis::blocking_command(redis.get(), {"SET", catalog::keys::stock(p.id), std::to_string(expected_counter)});
      std::printf("fixed: %s counter %s -> %lld\n", p.id.c_str(), p.counter ? std::to_string(*p.counter).c_str() : "-",
                  expected_counter);
      ++fixed;
    }
  }
  std::printf("%zu products, %d with drift%s\n", products.size(), drifting,
              fix ? (", " + std::to_string(fixed) + " counters set from the record").c_str() : "");
  return drifting == 0 || (fix && fixed == drifting) ? 0 : 1;
}

}  // namespace orders::app
