#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/purchase_plan.hpp"
#include "config/config.hpp"

// What a flash sale left in PostgreSQL (the record) and Redis (the gate), read with blocking
// clients after the load, and the guarantees of SPEC section 7 checked against it.
namespace orders::bench {

// One product's figures. Same relations as `orders reconcile` (app/reconcile_command.cpp).
struct ProductRecord {
  std::string id;
  long long stock = 0;               // products.stock
  long long made_available = 0;      // INITIAL and ADJUSTMENT movements of the ledger
  long long ledger = 0;              // sum of all its movements
  long long ledger_order_units = 0;  // -(ORDER + CANCEL + FAILED movements)
  long long live_units = 0;          // units in orders neither CANCELLED nor FAILED
  long long confirmed_units = 0;     // units in CONFIRMED and COMPLETED orders
  long long persisted_units = 0;     // units in orders of any status
  long long failed_orders = 0;
  std::optional<long long> counter;  // the Redis counter
};

// The orders of a set of products, by buyer.
struct BuyerCounts {
  long long orders = 0;
  long long users = 0;
  long long keys = 0;  // distinct (user, Idempotency-Key)
};

// The accepted orders the client saw, as PostgreSQL has them.
struct AcceptedInRecord {
  long long orders = 0;  // of the ids, how many are in `orders`
  long long items = 0;   // their rows in `order_items`
  std::vector<std::pair<std::string, long long>> by_status;
};

// Blocking libpq and hiredis connections (the load is over; nothing else runs here).
class SaleRecord {
 public:
  // Throws DependencyUnavailable naming PostgreSQL or Redis.
  SaleRecord(const config::PostgresEndpoint& pg, const config::RedisEndpoint& redis);
  ~SaleRecord();
  SaleRecord(const SaleRecord&) = delete;
  SaleRecord& operator=(const SaleRecord&) = delete;

  // In the order of `product_ids`; a product PostgreSQL does not have is left out.
  std::vector<ProductRecord> products(const std::vector<std::string>& product_ids);
  BuyerCounts buyers(const std::vector<std::string>& product_ids);
  AcceptedInRecord accepted(const std::vector<std::string>& order_ids);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct DrainStatus {
  std::uint64_t persisted_units = 0;  // units of the products' orders in PostgreSQL
  std::uint64_t accepted_units = 0;   // units the client saw accepted
  std::size_t counters_matching = 0;  // products whose Redis counter equals PostgreSQL's stock
  std::size_t products = 0;
};

struct DrainResult {
  bool drained = false;
  double seconds = 0;
  std::string why;  // when not drained: what was still missing
};

// Waits until the workers have persisted what was accepted: for every product, PostgreSQL
// holds at least the units the client saw accepted and the Redis counter equals PostgreSQL's
// stock (no reserved unit still pending), the same on two polls in a row. Gives up at
// `deadline`, or when nothing changed for `stall_limit` (a worker down, an order lost).
DrainResult wait_for_drain(SaleRecord& record, const std::vector<std::string>& product_ids,
                           const std::vector<std::uint64_t>& accepted_units,
                           std::chrono::steady_clock::time_point deadline, std::chrono::seconds stall_limit,
                           const std::function<void(const DrainStatus&)>& on_poll);

// What the client did and saw.
struct SaleClientView {
  std::vector<std::string> product_ids;
  long long stock = 0;  // per product, as created
  std::uint64_t buyers = 0;
  bool all_fired = true;                      // false when the time limit stopped the firing
  std::vector<std::uint64_t> accepted_units;  // per product: distinct orders answered 202
  std::vector<std::string> accepted_order_ids;
  std::uint64_t accepted_without_id = 0;  // 202s whose body named no order
  RetryFigures retries;
};

enum class Verdict { kPass, kFail, kNotApplicable };
std::string_view to_string(Verdict v);

struct Check {
  std::string name;   // "G1"
  std::string title;  // "no oversell"
  Verdict verdict = Verdict::kPass;
  std::string detail;
};

// The counts a fault drill reports (scripts/drill.sh), from the client's view and the record.
struct SaleCounts {
  long long accepted = 0;    // distinct orders answered 202
  long long persisted = 0;   // orders of the sale's products in PostgreSQL, any status
  long long failed = 0;      // of those, FAILED (the record could not cover them)
  long long lost = 0;        // answered 202 but not in PostgreSQL
  long long duplicated = 0;  // orders beyond one per Idempotency-Key, plus keys answered with two orders
};

// G1 no oversell, G2 no duplicates, G3 nothing lost, G4 Redis = PostgreSQL = ledger,
// G5 all stock sold when demand covers it. `counts`, when given, receives the drill counts.
std::vector<Check> check_sale(SaleRecord& record, const SaleClientView& view, SaleCounts* counts = nullptr);

}  // namespace orders::bench
