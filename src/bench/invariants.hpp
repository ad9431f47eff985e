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
#include "storage/redis/blocking_redis.hpp"

// What a flash sale left in PostgreSQL (the record) and Redis (the gate), read with blocking
// clients after the load, and the guarantees of SPEC section 7 checked against it.
namespace orders::bench {

// One product's figures. Same relations as `orders reconcile` (app/reconcile_command.cpp).
struct ProductRecord {
  std::string id;
  long long stock = 0;               // products.stock
  long long made_available = 0;      // INITIAL and ADJUSTMENT movements of the ledger
  long long ledger = 0;              // sum of all its movements
  long long ledger_order_units = 0;  // -(ORDER + CANCEL + FAILED + EXPIRED movements)
  long long live_units = 0;          // units in orders neither CANCELLED, FAILED nor EXPIRED
  long long confirmed_units = 0;     // units in CONFIRMED, PAID and COMPLETED orders
  long long persisted_units = 0;     // units in orders of any status
  long long failed_orders = 0;
  long long expired_units = 0;        // EXPIRED movements: units an expiry gave back
  long long expired_order_units = 0;  // units in EXPIRED orders
  std::optional<long long> counter;   // the Redis counter
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

// Where the first wave's orders stand once payments and expiries are done (--pay-share).
struct Settlement {
  long long paid = 0;            // status PAID
  long long expired = 0;         // status EXPIRED, the units back in Redis (units_returned_at set)
  long long expired_owing = 0;   // status EXPIRED, Redis not told yet
  long long unsettled = 0;       // any other status, or not in PostgreSQL
  long long units_returned = 0;  // units of the EXPIRED orders
};

// How fast the sweepers expired a set of orders, from their rows.
struct ExpiryTiming {
  long long expired = 0;
  double first_deadline_to_last_expiry = 0;  // s, from the earliest expires_at to the latest expiry
  double first_to_last_expiry = 0;           // s, between the earliest and the latest expiry
  double max_lag = 0;                        // s, the longest an order stayed unexpired past its deadline
};

// Per product, the units of the two waves of a --pay-share run.
struct WaveUnits {
  std::string id;
  long long first_wave_paid = 0;   // in first-wave orders that are PAID
  long long second_wave_live = 0;  // in second-wave orders neither CANCELLED, FAILED nor EXPIRED
};

// Orders of the products paid and expired at once, by their audit trail and status, and the
// payments whose answer the record contradicts.
struct PaidExpiredOverlap {
  long long ever_paid = 0;                     // orders with an audit row to_status PAID
  long long ever_expired = 0;                  // ... to_status EXPIRED
  long long paid_and_expired = 0;              // both rows
  long long expired_with_paid_row = 0;         // status EXPIRED, a PAID row
  long long paid_with_expired_row = 0;         // status PAID or COMPLETED, an EXPIRED row
  long long answered_paid_not_paid = 0;        // payment answered 200, status not PAID or COMPLETED
  long long answered_expired_not_expired = 0;  // payment answered 409 ORDER_EXPIRED, status not EXPIRED
};

// Blocking libpq and hiredis connections (the load is over; nothing else runs here).
class SaleRecord {
 public:
  // Throws DependencyUnavailable naming PostgreSQL or Redis.
  SaleRecord(const config::PostgresEndpoint& pg, const redis::RedisTarget& redis);
  ~SaleRecord();
  SaleRecord(const SaleRecord&) = delete;
  SaleRecord& operator=(const SaleRecord&) = delete;

  // In the order of `product_ids`; a product PostgreSQL does not have is left out.
  std::vector<ProductRecord> products(const std::vector<std::string>& product_ids);
  BuyerCounts buyers(const std::vector<std::string>& product_ids);
  // Units of the products in PostgreSQL's order items, whatever the status: one index scan,
  // light enough to poll once a second during a firing (--report).
  long long persisted_units(const std::vector<std::string>& product_ids);
  AcceptedInRecord accepted(const std::vector<std::string>& order_ids);
  Settlement settlement(const std::vector<std::string>& order_ids);
  ExpiryTiming expiry_timing(const std::vector<std::string>& order_ids);
  // In the order of `product_ids`.
  std::vector<WaveUnits> wave_units(const std::vector<std::string>& product_ids,
                                    const std::vector<std::string>& first_wave_ids,
                                    const std::vector<std::string>& second_wave_ids);
  PaidExpiredOverlap paid_and_expired(const std::vector<std::string>& product_ids,
                                      const std::vector<std::string>& answered_paid,
                                      const std::vector<std::string>& answered_expired);
  // Sum of the buyers' counts Redis holds for the product (the per-user limit's), or none.
  std::optional<long long> buyer_units(const std::string& product_id);

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

struct SettleResult {
  bool settled = false;
  double seconds = 0;
  std::string why;  // when not settled: what was still missing
  Settlement last;  // as the last poll found it
};

// Waits until every order of `first_wave_ids` is PAID or EXPIRED with its units back in Redis,
// and every product's Redis counter equals PostgreSQL's stock, the same on two polls in a row.
// Gives up at `deadline`.
SettleResult wait_for_settlement(SaleRecord& record, const std::vector<std::string>& product_ids,
                                 const std::vector<std::string>& first_wave_ids,
                                 std::chrono::steady_clock::time_point deadline,
                                 const std::function<void(const Settlement&, std::size_t counters_matching)>& on_poll);

// What a --pay-share run did after the first firing: payments, expiries, a second wave.
struct ExpiryView {
  std::vector<std::string> first_wave_ids;  // orders accepted by the first wave
  long long first_wave_accepted = 0;        // with the 202s that named no order
  std::vector<std::string> second_wave_ids;
  std::vector<std::string> answered_paid;     // payments answered 200
  std::vector<std::string> answered_expired;  // payments answered 409 ORDER_EXPIRED
  // Per product: stock when the second wave came, and the units it asked for.
  std::vector<long long> stock_before_second_wave;
  std::vector<std::uint64_t> second_wave_demand;
};

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
  std::optional<ExpiryView> expiry;  // with --pay-share; the figures above cover both waves
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
// G5 all stock sold when demand covers it, and with `view.expiry` G7a-G7d below. `counts`,
// when given, receives the drill counts.
std::vector<Check> check_sale(SaleRecord& record, const SaleClientView& view, SaleCounts* counts = nullptr);

// --- G7 expiry exactly once, on figures read from the record (pure, unit-tested) ------------

// One product after both waves of a --pay-share run.
struct UnitsAfterExpiry {
  std::string id;
  long long made_available = 0;
  long long first_wave_paid = 0;
  long long second_wave_live = 0;
  long long stock = 0;
  long long stock_before_second_wave = 0;
  long long second_wave_demand = 0;
};
// G7a: every unit made available is in a paid first-wave order, sold to the second wave, or in
// stock; and where the second wave asked for at least what was in stock, none is left.
Check check_units_accounted(const std::vector<UnitsAfterExpiry>& products);

// G7b: no order both PAID and EXPIRED, by audit row or status, and no payment answer the
// record contradicts.
Check check_paid_xor_expired(const PaidExpiredOverlap& overlap);

// One product's returned units.
struct UnitsReturned {
  std::string id;
  long long ledger_expired = 0;          // EXPIRED movements
  long long expired_order_units = 0;     // units in EXPIRED orders
  long long live_units = 0;              // units in live orders
  std::optional<long long> buyer_units;  // the buyers' counts in Redis
};
// G7c: the ledger gave back exactly the units of the expired orders, and the buyers' counts
// in Redis hold exactly the live units (an expiry took its units off its buyer once).
Check check_units_returned(const std::vector<UnitsReturned>& products);

// G7d: every first-wave order ended PAID or EXPIRED.
Check check_every_order_settled(long long first_wave_accepted, const Settlement& settlement);

}  // namespace orders::bench
