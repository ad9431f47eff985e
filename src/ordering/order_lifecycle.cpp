#include "ordering/order_lifecycle.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/dependency_error.hpp"
#include "common/error_codes.hpp"
#include "common/time.hpp"
#include "ordering/order_event.hpp"

namespace orders::ordering {
namespace asio = boost::asio;
using Kind = CancelRecord::Kind;

namespace {

constexpr int kAttempts = 5;

Problem already_cancelled() {
  return Problem{ProblemKind::kConflict, std::string(codes::kAlreadyCancelled), "The order is already cancelled", {}};
}

}  // namespace

Problem invalid_transition(std::string_view from, std::string_view to) {
  std::string message = "An order cannot go from " + std::string(from) + " to " + std::string(to);
  std::vector<FieldError> details{{"status", std::string(from) + " -> " + std::string(to), {}}};
  return Problem{ProblemKind::kConflict, std::string(codes::kInvalidTransition), std::move(message),
                 std::move(details)};
}

asio::awaitable<OrderOutcome> OrderLifecycle::current(const std::string& order_id) {
  auto order = co_await log_.find(order_id);
  if (!order) co_return not_found("Order");
  co_return std::move(*order);
}

asio::awaitable<void> OrderLifecycle::return_units(const OrderUnits& units) {
  co_await stock_.return_units(units);
  // Redis has them (now or before): the record says so, so the units never go back twice
  // after the marker expired. A failure here leaves the flag for the next DELETE or reconcile.
  co_await log_.mark_units_returned(units.order_id);
}

asio::awaitable<CancelRecord> OrderLifecycle::cancel_in_record(const std::string& order_id, int& retries) {
  CancelRecord record = co_await log_.cancel(order_id);
  while (record.kind == Kind::kRetry) {
    // A deadlock or serialization failure rolled the transaction back: again, a little later.
    if (++retries >= kAttempts) throw std::runtime_error("cancel of " + order_id + " kept deadlocking");
    asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(5 * retries));
    co_await pause.async_wait(asio::use_awaitable);
    record = co_await log_.cancel(order_id);
  }
  co_return record;
}

asio::awaitable<OrderOutcome> OrderLifecycle::cancel(const std::string& order_id) {
  int retries = 0;
  // Three looks: the record, then Redis's pending copy; a worker may move the order from one to
  // the other between two looks.
  for (int attempt = 0; attempt < 3; ++attempt) {
    CancelRecord record = co_await cancel_in_record(order_id, retries);
    switch (record.kind) {
      case Kind::kRefused: co_return invalid_transition(record.status, "CANCELLED");
      case Kind::kAlreadyCancelled:
        if (!record.units.items.empty()) {
          try {
            co_await return_units(record.units);
          } catch (const DependencyUnavailable&) {
            // Still owed: the next DELETE or `orders reconcile --fix` returns them.
            spdlog::warn("order {}: units of the earlier cancel not returned yet (Redis unavailable)", order_id);
          }
        }
        co_return already_cancelled();
      case Kind::kCancelled: co_await return_units(record.units); co_return co_await current(order_id);
      case Kind::kRetry:
      case Kind::kNotInRecord: break;
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
    if (co_await log_.store_cancelled(*order)) {
      OrderUnits units{order_id, order->user_id, {}};
      for (const auto& item : order->items) units.items.emplace_back(item.product_id, item.quantity);
      co_await return_units(units);
      co_return co_await current(order_id);
    }
  }
  throw std::runtime_error("cancel of " + order_id + " did not settle");
}

asio::awaitable<std::optional<OrderOutcome>> OrderLifecycle::pay_pending(const std::string& order_id,
                                                                         bool& seen_pending) {
  auto pending = co_await stock_.pending_order(order_id);
  if (!pending) co_return std::nullopt;
  seen_pending = true;
  auto order = parse_order(*pending);
  if (!order) throw std::runtime_error("unreadable pending order " + order_id);
  if (order->expires_at) {
    auto deadline = parse_rfc3339(*order->expires_at);
    if (deadline && now_ms() >= *deadline) co_return order_expired();
  }
  for (int attempt = 1;; ++attempt) {
    switch (co_await log_.store_paid(*order)) {
      case PaidStore::kStored: co_return co_await current(order_id);
      case PaidStore::kExists: co_return std::nullopt;  // a worker was first: pay that row
      case PaidStore::kExpired: co_return order_expired();
      case PaidStore::kCannot: co_return unavailable("The order is still being persisted; retry the payment shortly");
      case PaidStore::kRetry: break;
    }
    if (attempt >= kAttempts) co_return unavailable("The order is busy; retry the payment shortly");
    asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(5 * attempt));
    co_await pause.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<OrderOutcome> OrderLifecycle::change_status(const std::string& order_id, OrderStatus to) {
  if (to == OrderStatus::kCancelled) co_return co_await cancel(order_id);
  const std::string target(to_string(to));
  bool seen_pending = false;
  // Three looks, as for a cancel: a worker may move the order from Redis to the record between.
  for (int attempt = 0; attempt < 3; ++attempt) {
    StatusRecord record = co_await log_.change_status(order_id, to);
    switch (record.kind) {
      case StatusRecord::Kind::kChanged: co_return co_await current(order_id);
      case StatusRecord::Kind::kExpired: co_return order_expired();
      case StatusRecord::Kind::kRefused: {
        Problem p = invalid_transition(record.from, target);
        if (!record.why.empty()) p.message += ": " + record.why;
        co_return p;
      }
      case StatusRecord::Kind::kNotInRecord: break;
    }
    // Not in the record: a pending order can be cancelled or paid, nothing else.
    if (to != OrderStatus::kPaid) {
      if (!co_await stock_.pending_order(order_id)) {
        if (attempt < 2) continue;
        co_return not_found("Order");
      }
      co_return invalid_transition("PENDING", target);
    }
    if (auto paid = co_await pay_pending(order_id, seen_pending)) co_return std::move(*paid);
  }
  // It exists (pending a moment ago) but moved between the looks every time: not a 404.
  if (seen_pending) co_return unavailable("The order is being persisted; retry the payment shortly");
  co_return not_found("Order");
}

Problem order_expired() {
  return Problem{ProblemKind::kConflict,
                 std::string(codes::kOrderExpired),
                 "The order's payment window has passed: it expired and its units are on sale again",
                 {{"status", "past expiresAt", {}}}};
}

}  // namespace orders::ordering
