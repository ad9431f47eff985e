#include "ordering/postgres_order_log.hpp"

#include <spdlog/spdlog.h>

#include <array>

#include "common/uuid.hpp"
#include "storage/postgres/array.hpp"
#include "storage/postgres/async_transaction.hpp"

namespace orders::ordering {
namespace asio = boost::asio;
using postgres::AsyncTransaction;
using postgres::Params;
using postgres::Result;
using Kind = CancelRecord::Kind;

namespace {

constexpr std::chrono::milliseconds kTimeout{5000};

// Cancelling an order the record holds ($1 id, $2 its status before). The product rows are
// locked first, in id order like the worker's batches, so a cancel and a worker (or two
// cancels) over the same products wait for each other instead of deadlocking.
constexpr std::array<const char*, 5> kCancelStatements = {
    "SELECT p.id FROM products p WHERE $2 = 'CONFIRMED'"
    " AND p.id IN (SELECT i.product_id FROM order_items i WHERE i.order_id = $1) ORDER BY p.id FOR NO KEY UPDATE",
    "UPDATE orders SET status = 'CANCELLED', updated_at = now() WHERE id = $1 AND $2 <> ''",
    "UPDATE products p SET stock = p.stock + i.quantity, updated_at = now() FROM order_items i"
    " WHERE i.order_id = $1 AND p.id = i.product_id AND $2 = 'CONFIRMED'",
    "INSERT INTO inventory_movements (product_id, order_id, delta, reason)"
    " SELECT product_id, order_id, quantity, 'CANCEL' FROM order_items WHERE order_id = $1 AND $2 = 'CONFIRMED'",
    "INSERT INTO order_events (order_id, event_type, from_status, to_status) VALUES ($1, 'CANCELLED', $2, 'CANCELLED')",
};

// A pending order straight into the record as CANCELLED, with its items and audit rows.
constexpr const char* kStoreCancelled =
    "WITH o AS (INSERT INTO orders (id, reference_no, user_id, status, total_price, created_at, expires_at)"
    // No conflict target: a worker storing this same order at this moment clashes on its
    // id or on its reference number, whichever index PostgreSQL checks first; either way
    // the row is the worker's, and the next attempt cancels it.
    "   VALUES ($1, $2, $3, 'CANCELLED', $4::numeric, $5::timestamptz, $10::timestamptz)"
    "   ON CONFLICT DO NOTHING RETURNING id),"
    " i AS (INSERT INTO order_items (order_id, product_id, quantity, unit_price, total_price)"
    "   SELECT o.id, t.product_id, t.quantity, t.unit_price, t.total_price FROM o,"
    "   unnest($6::uuid[], $7::int[], $8::numeric[], $9::numeric[]) AS t(product_id, quantity, unit_price, "
    "total_price)),"
    " e AS (INSERT INTO order_events (order_id, event_type, from_status, to_status)"
    "   SELECT o.id, v.type, v.from_status, v.to_status FROM o,"
    "   (VALUES (1, 'CREATED', NULL, 'PENDING'), (2, 'CANCELLED', 'PENDING', 'CANCELLED')) AS v(n, type, "
    "from_status, to_status)),"
    " ob AS (INSERT INTO event_outbox (id, routing_key, body) SELECT $11, 'order.cancelled', $12 FROM o)"
    " SELECT count(*) FROM o";

// The event of a status change, into the outbox of the same transaction ($1 event id, $2
// routing key, $3 body).
constexpr const char* kOutboxInsert = "INSERT INTO event_outbox (id, routing_key, body) VALUES ($1, $2, $3)";

// kOutboxInsert's parameters for `type` of the order moving from -> to, under a new event id.
Params outbox_event(std::string_view type, const std::string& order_id, std::string_view from, std::string_view to) {
  const std::string event_id = uuid::make_v7();
  Params e;
  e.add(event_id).add(type).add(order_status_event(event_id, type, order_id, from, to));
  return e;
}

// A pending order paid before a worker persisted it, as the worker would store it (order first,
// then its products locked in id order, as the worker's batches do) but PAID, and only before its
// deadline by PostgreSQL's clock, the one the sweeper reads. $1 id, $2 reference, $3 user,
// $4 total, $5 idempotency key, $6 created, $7 expires. A key another order holds (reused after
// Redis forgot it, a day later) is stored without it, as the worker does.
constexpr const char* kInsertPaid =
    "INSERT INTO orders (id, reference_no, user_id, status, total_price, idempotency_key, created_at, expires_at)"
    " SELECT $1, $2, $3, 'PAID', $4::numeric,"
    "   CASE WHEN EXISTS (SELECT 1 FROM orders x WHERE x.user_id = $3 AND x.idempotency_key = $5 AND x.id <> $1)"
    "     THEN NULL ELSE $5 END, $6::timestamptz, $7::timestamptz"
    " WHERE $7::timestamptz IS NULL OR $7::timestamptz > clock_timestamp()"
    " ON CONFLICT (id) DO NOTHING RETURNING id";
constexpr const char* kLockPaidProducts =
    "SELECT id FROM products WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE";
constexpr const char* kPaidItems =
    "INSERT INTO order_items (order_id, product_id, quantity, unit_price, total_price)"
    " SELECT $1, * FROM unnest($2::uuid[], $3::int[], $4::numeric[], $5::numeric[])";
constexpr const char* kPaidLedger =
    "INSERT INTO inventory_movements (product_id, order_id, delta, reason)"
    " SELECT t.product_id, $1, -t.quantity, 'ORDER' FROM unnest($2::uuid[], $3::int[]) AS t(product_id, quantity)";
constexpr const char* kPaidEvents =
    "INSERT INTO order_events (order_id, event_type, from_status, to_status)"
    " SELECT $1, v.type, v.from_status, v.to_status FROM (VALUES (1, 'CREATED', NULL, 'PENDING'),"
    "   (2, 'PAID', 'PENDING', 'PAID')) AS v(n, type, from_status, to_status) ORDER BY v.n";
// The stock the pending order took in Redis, taken in the record under the guard stock >= qty.
constexpr const char* kTakePaidStock =
    "UPDATE products p SET stock = p.stock - t.quantity, updated_at = now()"
    " FROM unnest($1::uuid[], $2::int[]) AS t(product_id, quantity)"
    " WHERE p.id = t.product_id AND p.stock >= t.quantity RETURNING p.id";

// An order's items as the array parameters of unnest(): product ids, quantities, unit prices,
// line totals.
struct ItemArrays {
  std::string products, quantities, unit_prices, totals;
  explicit ItemArrays(const Order& order) {
    std::vector<std::optional<std::string>> p, q, u, t;
    for (const auto& item : order.items) {
      p.emplace_back(item.product_id);
      q.emplace_back(std::to_string(item.quantity));
      u.emplace_back(item.unit_price.to_decimal());
      t.emplace_back(item.total_price.to_decimal());
    }
    products = postgres::pg_array(p);
    quantities = postgres::pg_array(q);
    unit_prices = postgres::pg_array(u);
    totals = postgres::pg_array(t);
  }
};

// A deadlock or serialization failure: the transaction is rolled back and tried again.
bool retryable(const postgres::Result& r) { return !r.ok() && (r.sqlstate() == "40P01" || r.sqlstate() == "40001"); }

}  // namespace

asio::awaitable<CancelRecord> PostgresOrderLog::cancel(const std::string& order_id) {
  CancelRecord out;
  out.units.order_id = order_id;
  auto tx = co_await AsyncTransaction::begin(pool_, kTimeout);
  Params id;
  id.add(order_id);
  auto row = co_await tx.execute(
      "SELECT status, user_id, units_returned_at IS NOT NULL FROM orders WHERE id = $1 FOR UPDATE", id);
  row.expect_ok("lock order");
  if (row.rows() != 1) {
    co_await tx.rollback();
    co_return out;
  }
  out.status = std::string(row.get(0, 0));
  out.units.user_id = std::string(row.get(0, 1));
  const bool returned = row.get_bool(0, 2);
  auto parsed = parse_status(out.status);
  const bool already = parsed == OrderStatus::kCancelled;
  if (!already && (!parsed || !can_transition(*parsed, OrderStatus::kCancelled))) {
    co_await tx.rollback();
    out.kind = Kind::kRefused;
    co_return out;
  }
  bool retry = false;
  if (!already) {
    // A CONFIRMED order took its units from the record: they go back, with the ledger row.
    Params p;
    p.add(order_id).add(out.status);
    for (const char* sql : kCancelStatements) {
      auto r = co_await tx.execute(sql, p);
      if (retryable(r)) {
        retry = true;
        break;
      }
      r.expect_ok("cancel");
    }
    if (!retry) {
      const Params event = outbox_event("order.cancelled", order_id, out.status, "CANCELLED");  // (named: GCC 12)
      auto r = co_await tx.execute(kOutboxInsert, event);
      if (retryable(r)) retry = true;
      else r.expect_ok("cancel event");
    }
  }
  // A cancel that committed before and whose units Redis never confirmed back (the API died
  // after COMMIT, or Redis timed out) needs its items too: the caller returns them now.
  if (!retry && (!already || !returned)) {
    auto items = co_await tx.execute("SELECT product_id, quantity FROM order_items WHERE order_id = $1", id);
    items.expect_ok("items");
    for (int i = 0; i < items.rows(); ++i) {
      out.units.items.emplace_back(std::string(items.get(i, 0)), items.get_int(i, 1));
    }
  }
  if (retry || already) {
    co_await tx.rollback();
    out.kind = retry ? Kind::kRetry : Kind::kAlreadyCancelled;
    co_return out;
  }
  auto committed = co_await tx.commit();
  if (retryable(committed)) {
    out.kind = Kind::kRetry;
    co_return out;
  }
  committed.expect_ok("commit");
  out.kind = Kind::kCancelled;
  co_return out;
}

asio::awaitable<bool> PostgresOrderLog::store_cancelled(const Order& order) {
  const ItemArrays items(order);
  Params p;
  p.add(order.id)
      .add(order.reference_no)
      .add(order.user_id)
      .add(order.total_price.to_decimal())
      .add(order.created_at)
      .add(items.products)
      .add(items.quantities)
      .add(items.unit_prices)
      .add(items.totals)
      .add(order.expires_at);
  const std::string event_id = uuid::make_v7();
  p.add(event_id).add(order_status_event(event_id, "order.cancelled", order.id, "PENDING", "CANCELLED"));
  auto stored = co_await pool_.query(kStoreCancelled, p);
  stored.expect_ok("store cancelled order");
  co_return stored.get_int(0, 0) == 1;
}

asio::awaitable<void> PostgresOrderLog::mark_units_returned(const std::string& order_id) {
  Params id;
  id.add(order_id);
  auto flagged = co_await pool_.query(
      "UPDATE orders SET units_returned_at = now() WHERE id = $1 AND units_returned_at IS NULL", id);
  if (!flagged.ok()) spdlog::warn("order {}: units returned, flag not stored: {}", order_id, flagged.error_message());
}

asio::awaitable<StatusRecord> PostgresOrderLog::change_status(const std::string& order_id, OrderStatus to) {
  StatusRecord out;
  const std::string target(to_string(to));
  auto tx = co_await AsyncTransaction::begin(pool_, kTimeout);
  Params id;
  id.add(order_id);
  // The row lock orders a payment and the sweeper: whichever locks second sees the other's
  // change. The deadline is read again in the payment's UPDATE below, with the clock of that
  // moment (not the transaction's start, nor the moment this SELECT began waiting).
  auto row = co_await tx.execute(
      "SELECT status, expires_at IS NOT NULL, expires_at <= clock_timestamp() FROM orders WHERE id = $1 FOR UPDATE",
      id);
  row.expect_ok("lock order");
  if (row.rows() != 1) {
    co_await tx.rollback();
    co_return out;
  }
  out.from = std::string(row.get(0, 0));
  const bool has_window = row.get_bool(0, 1);
  const bool past_deadline = has_window && row.get_bool(0, 2);
  auto parsed = parse_status(out.from);
  if (to == OrderStatus::kPaid &&
      (parsed == OrderStatus::kExpired || (parsed == OrderStatus::kConfirmed && past_deadline))) {
    co_await tx.rollback();
    out.kind = StatusRecord::Kind::kExpired;
    co_return out;
  }
  const bool unpaid_completion = to == OrderStatus::kCompleted && parsed == OrderStatus::kConfirmed && has_window;
  if (!parsed || !api_may_set(*parsed, to) || unpaid_completion) {
    co_await tx.rollback();
    out.kind = StatusRecord::Kind::kRefused;
    if (unpaid_completion) out.why = "an order with a payment window is PAID before it is COMPLETED";
    co_return out;
  }
  Params p;
  p.add(order_id).add(out.from).add(target);
  auto changed = co_await tx.execute(
      "UPDATE orders SET status = $3, updated_at = now() WHERE id = $1 AND status = $2"
      " AND ($3 <> 'PAID' OR expires_at IS NULL OR expires_at > clock_timestamp())",
      p);
  changed.expect_ok("status");
  if (changed.affected() != 1) {  // the deadline passed while the payment waited for the lock
    co_await tx.rollback();
    out.kind = StatusRecord::Kind::kExpired;
    co_return out;
  }
  // (Each Result named, one co_await per statement: GCC 12, see store_paid.)
  Result audited = co_await tx.execute(
      "INSERT INTO order_events (order_id, event_type, from_status, to_status) VALUES ($1, 'STATUS_CHANGED', $2, $3)",
      p);
  audited.expect_ok("status event");
  const Params event = outbox_event("order.status_changed", order_id, out.from, target);
  Result queued = co_await tx.execute(kOutboxInsert, event);
  queued.expect_ok("status outbox");
  Result committed = co_await tx.commit();
  committed.expect_ok("commit");
  out.kind = StatusRecord::Kind::kChanged;
  co_return out;
}

asio::awaitable<PaidStore> PostgresOrderLog::store_paid(const Order& order) {
  const ItemArrays items(order);
  auto tx = co_await AsyncTransaction::begin(pool_, kTimeout);
  // A clash on the idempotency key (Redis lost the key's record and a second order took it) or
  // a deadlock: the worker decides this order first; a guard the stock does not pass too.
  auto refused = [](const postgres::Result& r) { return !r.ok() && !r.sqlstate().empty(); };
  Params o;
  o.add(order.id)
      .add(order.reference_no)
      .add(order.user_id)
      .add(order.total_price.to_decimal())
      .add(order.idempotency_key)
      .add(order.created_at)
      .add(order.expires_at);
  auto inserted = co_await tx.execute(kInsertPaid, o);
  if (refused(inserted)) {
    co_await tx.rollback();
    if (retryable(inserted)) co_return PaidStore::kRetry;
    // A worker inserting this very order at this moment clashes on its reference number when
    // PostgreSQL checks that index before the id's: the row is the worker's.
    const bool same_order = inserted.sqlstate() == postgres::kUniqueViolation &&
                            inserted.constraint() == "orders_reference_no_key";
    co_return same_order ? PaidStore::kExists : PaidStore::kCannot;
  }
  inserted.expect_ok("store paid order");
  if (inserted.rows() != 1) {
    // Nothing inserted: a worker stored it first, or its deadline passed by this clock.
    Params when;
    when.add(order.expires_at);
    auto late = co_await tx.execute("SELECT $1::timestamptz <= clock_timestamp()", when);
    late.expect_ok("deadline");
    co_await tx.rollback();
    co_return !late.is_null(0, 0) && late.get_bool(0, 0) ? PaidStore::kExpired : PaidStore::kExists;
  }
  Params lock;
  lock.add(items.products);
  Params take;
  take.add(items.products).add(items.quantities);
  Params item_rows;
  item_rows.add(order.id).add(items.products).add(items.quantities).add(items.unit_prices).add(items.totals);
  Params ledger;
  ledger.add(order.id).add(items.products).add(items.quantities);
  Params audit;
  audit.add(order.id);
  Params event = outbox_event("order.status_changed", order.id, "PENDING", "PAID");
  // (One co_await per statement, none inside ?: or a braced list: GCC 12 destroys such a
  // temporary Result twice, a double PQclear that ASan caught on this path.)
  auto taken = co_await tx.execute(kLockPaidProducts, lock);
  if (taken.ok()) taken = co_await tx.execute(kTakePaidStock, take);
  if (!taken.ok() || taken.rows() != static_cast<int>(order.items.size())) {
    co_await tx.rollback();
    if (!taken.ok() && taken.sqlstate().empty()) taken.expect_ok("store paid stock");
    co_return retryable(taken) ? PaidStore::kRetry : PaidStore::kCannot;
  }
  const std::array<std::pair<std::string_view, const Params*>, 4> steps{
      {{kPaidItems, &item_rows}, {kPaidLedger, &ledger}, {kPaidEvents, &audit}, {kOutboxInsert, &event}}};
  for (const auto& [sql, params] : steps) {
    auto r = co_await tx.execute(sql, *params);
    if (refused(r)) {
      co_await tx.rollback();
      co_return retryable(r) ? PaidStore::kRetry : PaidStore::kCannot;
    }
    r.expect_ok("store paid order");
  }
  auto committed = co_await tx.commit();
  if (retryable(committed)) co_return PaidStore::kRetry;
  committed.expect_ok("commit");
  co_return PaidStore::kStored;
}

}  // namespace orders::ordering
