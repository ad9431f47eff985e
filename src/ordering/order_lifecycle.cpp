#include "ordering/order_lifecycle.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/dependency_error.hpp"
#include "common/error_codes.hpp"
#include "common/uuid.hpp"
#include "ordering/order_event.hpp"
#include "storage/postgres/array.hpp"

namespace orders::ordering {
namespace asio = boost::asio;
using postgres::Params;

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

constexpr int kAttempts = 5;

// A deadlock or serialization failure: the transaction is rolled back and tried again.
bool retryable(const postgres::Result& r) { return !r.ok() && (r.sqlstate() == "40P01" || r.sqlstate() == "40001"); }

// What the record said about a cancel.
struct RecordOutcome {
  enum Kind { kNotInRecord, kRetry, kRefused, kCancelled, kAlreadyCancelled } kind = kNotInRecord;
  std::string status;  // the status before (kRefused, kCancelled)
  OrderUnits units;    // kCancelled, and kAlreadyCancelled whose units Redis has not confirmed back
};

asio::awaitable<RecordOutcome> cancel_in_record(postgres::Pool& pool, const std::string& order_id) {
  RecordOutcome out;
  out.units.order_id = order_id;
  auto lease = co_await pool.acquire();
  (co_await lease->execute("BEGIN", kTimeout)).expect_ok("begin");
  Params id;
  id.add(order_id);
  auto row = co_await lease->execute(
      "SELECT status, user_id, units_returned_at IS NOT NULL FROM orders WHERE id = $1 FOR UPDATE", id, kTimeout);
  row.expect_ok("lock order");
  if (row.rows() != 1) {
    co_await lease->execute("ROLLBACK", kTimeout);
    co_return out;
  }
  out.status = std::string(row.get(0, 0));
  out.units.user_id = std::string(row.get(0, 1));
  const bool returned = row.get_bool(0, 2);
  auto parsed = parse_status(out.status);
  const bool already = parsed == OrderStatus::kCancelled;
  if (!already && (!parsed || !can_transition(*parsed, OrderStatus::kCancelled))) {
    co_await lease->execute("ROLLBACK", kTimeout);
    out.kind = RecordOutcome::kRefused;
    co_return out;
  }
  bool retry = false;
  if (!already) {
    // A CONFIRMED order took its units from the record: they go back, with the ledger row.
    Params p;
    p.add(order_id).add(out.status);
    for (const char* sql : kCancelStatements) {
      auto r = co_await lease->execute(sql, p, kTimeout);
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
    auto items = co_await lease->execute("SELECT product_id, quantity FROM order_items WHERE order_id = $1", id,
                                         kTimeout);
    items.expect_ok("items");
    for (int i = 0; i < items.rows(); ++i) {
      out.units.items.emplace_back(std::string(items.get(i, 0)), items.get_int(i, 1));
    }
  }
  if (retry || already) {
    co_await lease->execute("ROLLBACK", kTimeout);
    out.kind = retry ? RecordOutcome::kRetry : RecordOutcome::kAlreadyCancelled;
    co_return out;
  }
  auto committed = co_await lease->execute("COMMIT", kTimeout);
  if (retryable(committed)) {
    out.kind = RecordOutcome::kRetry;
    co_return out;
  }
  committed.expect_ok("commit");
  out.kind = RecordOutcome::kCancelled;
  co_return out;
}

}  // namespace

Problem invalid_transition(std::string_view from, std::string_view to) {
  std::string message = "An order cannot go from " + std::string(from) + " to " + std::string(to);
  std::vector<FieldError> details{{"status", std::string(from) + " -> " + std::string(to), {}}};
  return Problem{ProblemKind::kConflict, std::string(codes::kInvalidTransition), std::move(message),
                 std::move(details)};
}

asio::awaitable<OrderOutcome> OrderLifecycle::current(const std::string& order_id) {
  auto order = co_await reader_.find(order_id);
  if (!order) co_return not_found("Order");
  co_return std::move(*order);
}

asio::awaitable<void> OrderLifecycle::return_units(const OrderUnits& units) {
  co_await stock_.return_units(units);
  // Redis has them (now or before): the record says so, so the units never go back twice
  // after the marker expired. A failure here leaves the flag for the next DELETE or reconcile.
  Params id;
  id.add(units.order_id);
  auto flagged = co_await pool_.query(
      "UPDATE orders SET units_returned_at = now() WHERE id = $1 AND units_returned_at IS NULL", id);
  if (!flagged.ok()) {
    spdlog::warn("order {}: units returned, flag not stored: {}", units.order_id, flagged.error_message());
  }
}

asio::awaitable<void> OrderLifecycle::publish(std::string_view type, const std::string& order_id, std::string_view from,
                                              std::string_view to) {
  std::string event_id = uuid::make_v7();
  std::string body = order_status_event(event_id, type, order_id, from, to);
  rabbitmq::Message message{"orders", std::string(type), event_id, std::string(type), std::move(body)};
  auto outcome = co_await events_.publish(std::move(message));
  if (outcome != rabbitmq::PublishOutcome::kConfirmed) {
    // The record has the change; other systems miss this notification (no event outbox yet).
    spdlog::warn("{} for order {} not confirmed: {}", type, order_id, rabbitmq::to_string(outcome));
  }
}

asio::awaitable<OrderOutcome> OrderLifecycle::cancel(const std::string& order_id) {
  OrderUnits units;
  units.order_id = order_id;
  std::string from;
  int retries = 0;
  for (int attempt = 0; attempt < 3 && from.empty(); ++attempt) {
    RecordOutcome record = co_await cancel_in_record(pool_, order_id);
    while (record.kind == RecordOutcome::kRetry) {
      // A deadlock or serialization failure rolled the transaction back: again, a little later.
      if (++retries >= kAttempts) throw std::runtime_error("cancel of " + order_id + " kept deadlocking");
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(5 * retries));
      co_await pause.async_wait(asio::use_awaitable);
      record = co_await cancel_in_record(pool_, order_id);
    }
    if (record.kind == RecordOutcome::kRefused) co_return invalid_transition(record.status, "CANCELLED");
    if (record.kind == RecordOutcome::kAlreadyCancelled) {
      if (!record.units.items.empty()) {
        bool owed = false;
        try {
          co_await return_units(record.units);
        } catch (const DependencyUnavailable& e) {
          owed = true;
        }
        // Still owed: the next DELETE or `orders reconcile --fix` returns them.
        if (owed) spdlog::warn("order {}: units of the earlier cancel not returned yet (Redis unavailable)", order_id);
      }
      co_return Problem{
          ProblemKind::kConflict, std::string(codes::kAlreadyCancelled), "The order is already cancelled", {}};
    }
    if (record.kind == RecordOutcome::kCancelled) {
      units = std::move(record.units);
      from = std::move(record.status);
      break;
    }

    // Not in the record yet: still pending in Redis (or unknown).
    auto pending = co_await stock_.pending_order(order_id);
    if (!pending) {
      // A worker may have persisted it (and dropped the pending copy) since the look above.
      if (attempt < 2) continue;
      co_return not_found("Order");
    }
    auto order = parse_order(*pending);
    if (!order) throw std::runtime_error("unreadable pending order " + order_id);
    // Store it as CANCELLED; if a worker stored it first, the next attempt cancels that row.
    std::vector<std::optional<std::string>> products, quantities, unit_prices, totals;
    for (const auto& item : order->items) {
      products.emplace_back(item.product_id);
      quantities.emplace_back(std::to_string(item.quantity));
      unit_prices.emplace_back(item.unit_price.to_decimal());
      totals.emplace_back(item.total_price.to_decimal());
    }
    Params p;
    p.add(order->id)
        .add(order->reference_no)
        .add(order->user_id)
        .add(order->total_price.to_decimal())
        .add(order->created_at)
        .add(postgres::pg_array(products))
        .add(postgres::pg_array(quantities))
        .add(postgres::pg_array(unit_prices))
        .add(postgres::pg_array(totals));
    auto stored = co_await pool_.query(
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
        " SELECT count(*) FROM o",
        p);
    stored.expect_ok("store cancelled order");
    if (stored.get_int(0, 0) == 1) {
      units.user_id = order->user_id;
      for (const auto& item : order->items) units.items.emplace_back(item.product_id, item.quantity);
      from = "PENDING";
    }
  }
  if (from.empty()) throw std::runtime_error("cancel of " + order_id + " did not settle");

  co_await return_units(units);
  co_await publish("order.cancelled", order_id, from, "CANCELLED");
  co_return co_await current(order_id);
}

asio::awaitable<OrderOutcome> OrderLifecycle::change_status(const std::string& order_id, OrderStatus to) {
  if (to == OrderStatus::kCancelled) co_return co_await cancel(order_id);
  const std::string target(to_string(to));
  std::string from;
  {
    auto lease = co_await pool_.acquire();
    (co_await lease->execute("BEGIN", kTimeout)).expect_ok("begin");
    Params id;
    id.add(order_id);
    auto row = co_await lease->execute("SELECT status FROM orders WHERE id = $1 FOR UPDATE", id, kTimeout);
    row.expect_ok("lock order");
    const bool in_record = row.rows() == 1;
    if (in_record) from = std::string(row.get(0, 0));
    auto parsed = parse_status(from);
    // CONFIRMED and FAILED are the worker's to set; the API moves only orders in the record.
    const bool allowed = in_record && parsed && can_transition(*parsed, to) && to != OrderStatus::kConfirmed &&
                         to != OrderStatus::kFailed;
    if (allowed) {
      Params p;
      p.add(order_id).add(from).add(target);
      (co_await lease->execute("UPDATE orders SET status = $3, updated_at = now() WHERE id = $1 AND status = $2", p,
                               kTimeout))
          .expect_ok("status");
      (co_await lease->execute("INSERT INTO order_events (order_id, event_type, from_status, to_status)"
                               " VALUES ($1, 'STATUS_CHANGED', $2, $3)",
                               p, kTimeout))
          .expect_ok("status event");
      (co_await lease->execute("COMMIT", kTimeout)).expect_ok("commit");
    } else {
      co_await lease->execute("ROLLBACK", kTimeout);
    }
    if (!allowed) {
      if (!in_record) {
        if (!co_await stock_.pending_order(order_id)) co_return not_found("Order");
        from = "PENDING";
      }
      co_return invalid_transition(from, target);
    }
  }
  co_await publish("order.status_changed", order_id, from, target);
  co_return co_await current(order_id);
}

}  // namespace orders::ordering
