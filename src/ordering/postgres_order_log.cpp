#include "ordering/postgres_order_log.hpp"

#include <spdlog/spdlog.h>

#include <array>

#include "storage/postgres/array.hpp"
#include "storage/postgres/async_transaction.hpp"

namespace orders::ordering {
namespace asio = boost::asio;
using postgres::AsyncTransaction;
using postgres::Params;
using Kind = CancelRecord::Kind;

namespace {

constexpr std::chrono::milliseconds kTimeout{5000};

// Cancelling an order the record holds ($1 id, $2 its status before). The product rows are
// locked first, in id order like the worker's batches, so a cancel and a worker (or two
// cancels) over the same products wait for each other instead of deadlocking.
constexpr std::array<const char*, 5> kCancelStatements = {
    "SELECT p.id FROM products p WHERE $2 = 'CONFIRMED'"
    " AND p.id IN (SELECT i.product_id FROM order_items i WHERE i.order_id = $1) ORDER BY p.id FOR UPDATE",
    "UPDATE orders SET status = 'CANCELLED', updated_at = now() WHERE id = $1 AND $2 <> ''",
    "UPDATE products p SET stock = p.stock + i.quantity, updated_at = now() FROM order_items i"
    " WHERE i.order_id = $1 AND p.id = i.product_id AND $2 = 'CONFIRMED'",
    "INSERT INTO inventory_movements (product_id, order_id, delta, reason)"
    " SELECT product_id, order_id, quantity, 'CANCEL' FROM order_items WHERE order_id = $1 AND $2 = 'CONFIRMED'",
    "INSERT INTO order_events (order_id, event_type, from_status, to_status) VALUES ($1, 'CANCELLED', $2, 'CANCELLED')",
};

// A pending order straight into the record as CANCELLED, with its items and audit rows.
constexpr const char* kStoreCancelled =
    "WITH o AS (INSERT INTO orders (id, reference_no, user_id, status, total_price, created_at)"
    // No conflict target: a worker storing this same order at this moment clashes on its
    // id or on its reference number, whichever index PostgreSQL checks first; either way
    // the row is the worker's, and the next attempt cancels it.
    "   VALUES ($1, $2, $3, 'CANCELLED', $4::numeric, $5::timestamptz) ON CONFLICT DO NOTHING RETURNING id),"
    " i AS (INSERT INTO order_items (order_id, product_id, quantity, unit_price, total_price)"
    "   SELECT o.id, t.product_id, t.quantity, t.unit_price, t.total_price FROM o,"
    "   unnest($6::uuid[], $7::int[], $8::numeric[], $9::numeric[]) AS t(product_id, quantity, unit_price, "
    "total_price)),"
    " e AS (INSERT INTO order_events (order_id, event_type, from_status, to_status)"
    "   SELECT o.id, v.type, v.from_status, v.to_status FROM o,"
    "   (VALUES (1, 'CREATED', NULL, 'PENDING'), (2, 'CANCELLED', 'PENDING', 'CANCELLED')) AS v(n, type, "
    "from_status, to_status))"
    " SELECT count(*) FROM o";

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
  std::vector<std::optional<std::string>> products, quantities, unit_prices, totals;
  for (const auto& item : order.items) {
    products.emplace_back(item.product_id);
    quantities.emplace_back(std::to_string(item.quantity));
    unit_prices.emplace_back(item.unit_price.to_decimal());
    totals.emplace_back(item.total_price.to_decimal());
  }
  Params p;
  p.add(order.id)
      .add(order.reference_no)
      .add(order.user_id)
      .add(order.total_price.to_decimal())
      .add(order.created_at)
      .add(postgres::pg_array(products))
      .add(postgres::pg_array(quantities))
      .add(postgres::pg_array(unit_prices))
      .add(postgres::pg_array(totals));
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
  auto row = co_await tx.execute("SELECT status FROM orders WHERE id = $1 FOR UPDATE", id);
  row.expect_ok("lock order");
  if (row.rows() != 1) {
    co_await tx.rollback();
    co_return out;
  }
  out.from = std::string(row.get(0, 0));
  auto parsed = parse_status(out.from);
  if (!parsed || !api_may_set(*parsed, to)) {
    co_await tx.rollback();
    out.kind = StatusRecord::Kind::kRefused;
    co_return out;
  }
  Params p;
  p.add(order_id).add(out.from).add(target);
  (co_await tx.execute("UPDATE orders SET status = $3, updated_at = now() WHERE id = $1 AND status = $2", p))
      .expect_ok("status");
  (co_await tx.execute("INSERT INTO order_events (order_id, event_type, from_status, to_status)"
                       " VALUES ($1, 'STATUS_CHANGED', $2, $3)",
                       p))
      .expect_ok("status event");
  (co_await tx.commit()).expect_ok("commit");
  out.kind = StatusRecord::Kind::kChanged;
  co_return out;
}

}  // namespace orders::ordering
