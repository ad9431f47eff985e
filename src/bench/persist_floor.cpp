#include "bench/persist_floor.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/cpu_accounting.hpp"
#include "bench/exit_code.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "ordering/order_event.hpp"
#include "ordering/reference_number.hpp"
#include "storage/postgres/blocking.hpp"
#include "worker/blocking_loop.hpp"
#include "worker/order_persister.hpp"

namespace orders::bench {

namespace {

constexpr const char* kProductName = "bench persist";

ordering::Order synthetic_order(const std::string& product_id, std::uint64_t n, bool keyed) {
  ordering::Order o;
  o.id = uuid::make_v7();
  o.reference_no = ordering::reference_number(o.id);
  o.user_id = "persist-" + product_id.substr(24) + "-" + std::to_string(n);  // new users every run
  const Money price{999};
  o.items.push_back(ordering::OrderLine{product_id, 1, price, price});
  o.total_price = price;
  o.created_at = format_rfc3339(now_ms());
  if (keyed) o.idempotency_key = "key-" + std::to_string(n);
  return o;
}

}  // namespace

int run_bench_persist(const config::Dependencies& deps, const PersistSettings& s) {
  return exit_code_of("persist", [&] {
    const config::PostgresEndpoint pg = config::parse_postgres_url(deps.database_url);
    postgres::BlockingConnection conn = worker::connect_postgres(pg, "orders-bench-persist");
    // Its orders would be a sale nobody made: only into a database of its own.
    postgres::Params name;
    name.add(kProductName);
    postgres::Result others = conn.exec("SELECT count(*) FROM products WHERE name <> $1", name);
    if (!others.ok()) throw std::runtime_error("cannot read the products: " + others.error_message());
    if (others.get_int(0, 0) != 0) {
      throw config::ConfigError(pg.display() +
                                " holds products of its own: give the bench a database of its own "
                                "(bench/persist.sh makes one)");
    }
    // Inactive (no buyer sees it), with its ledger's INITIAL row, so the record stays consistent
    // for reconcile: stock = the sum of its movements.
    const std::string product_id = uuid::make_v7();
    postgres::Params product;
    product.add(product_id);
    product.add(kProductName);
    product.add(std::to_string(s.orders));
    if (!conn.exec(
                 "WITH p AS (INSERT INTO products (id, name, price, stock, is_active) VALUES ($1, $2, 9.99, $3, false)"
                 "   RETURNING id, stock)"
                 " INSERT INTO inventory_movements (product_id, delta, reason) SELECT id, stock, 'INITIAL' FROM p",
                 product)
             .ok()) {
      throw std::runtime_error("cannot create the product: " + conn.error_message());
    }
    std::printf("== %llu orders of one product through the worker's persist_batch, batches of %d, one connection\n",
                static_cast<unsigned long long>(s.orders), s.batch);
    std::mt19937_64 random(42);
    std::bernoulli_distribution keyed(s.keyed_share);
    std::uint64_t persisted = 0;
    const CpuSample before = sample_cpu();
    const auto started = std::chrono::steady_clock::now();
    for (std::uint64_t done = 0; done < s.orders;) {
      const std::uint64_t n = std::min<std::uint64_t>(static_cast<std::uint64_t>(s.batch), s.orders - done);
      std::vector<ordering::Order> batch;
      batch.reserve(n);
      for (std::uint64_t i = 0; i < n; ++i) batch.push_back(synthetic_order(product_id, done + i, keyed(random)));
      std::vector<const ordering::Order*> view;
      for (const auto& o : batch) view.push_back(&o);
      for (const worker::OrderOutcome& out : worker::persist_batch(conn, view)) {
        if (out.result == worker::PersistResult::kPersisted) ++persisted;
      }
      done += n;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const CpuUse cpu = cpu_between(before, sample_cpu(), ticks_per_second());
    const double per = 1e6 / static_cast<double>(s.orders);
    std::printf("persisted  %llu of %llu in %.2f s: %.0f orders/s\n", static_cast<unsigned long long>(persisted),
                static_cast<unsigned long long>(s.orders), seconds, static_cast<double>(s.orders) / seconds);
    std::printf("cpu        us per order: postgres %.1f, this client %.1f, rest %.1f, box %.1f\n",
                cpu.seconds[static_cast<std::size_t>(Component::kPostgres)] * per,
                cpu.seconds[static_cast<std::size_t>(Component::kLoadGenerator)] * per,
                cpu.seconds[static_cast<std::size_t>(Component::kOther)] * per, cpu.box * per);
    return persisted == s.orders ? 0 : 1;
  });
}

}  // namespace orders::bench
