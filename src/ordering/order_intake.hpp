#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/problem.hpp"
#include "ordering/order_request.hpp"
#include "ordering/redis_stock_gate.hpp"
#include "ordering/reference_number.hpp"
#include "ordering/stock_gate.hpp"

namespace orders::metrics {
class Counter;
}

namespace orders::ordering {

// A purchase the service took: reserved now, or earlier under the same Idempotency-Key.
struct Accepted {
  std::string order_id;
  std::string order_json;  // the order as the buyer sees it while it is pending
  bool replayed = false;
};

// 202 Accepted, or why not (refusals, and 503s after which nothing stays reserved).
using PurchaseOutcome = Outcome<Accepted>;

// POST /api/orders: the reservation (one atomic step through the StockGate), then a
// confirmed publish of order.created. Accepted once the broker confirmed, or once the order is
// safe in the outbox (the relay publishes it); unavailable only after the reservation was
// undone or never ran.
class OrderIntake {
 public:
  OrderIntake(StockGate& stock, EventBus& events, IntakeSettings settings = {});

  boost::asio::awaitable<PurchaseOutcome> purchase(const OrderRequest& request);
  // The pending order as the purchase answered it, while it is pending.
  boost::asio::awaitable<std::optional<std::string>> pending_order(const std::string& order_id);

 private:
  // The connection dropped with the reservation in flight: find out whether it ran.
  boost::asio::awaitable<PurchaseOutcome> resolve_lost_reply(const std::string& order_id,
                                                             std::chrono::steady_clock::time_point sent,
                                                             std::string_view why);
  // What the reservation decided, for a reply that is not "accepted".
  PurchaseOutcome decided(const ReserveReply& reply, const OrderRequest& request);

  // orders_rejected_total{code}: the child of each code, found once (a refusal is the
  // sold-out path's every answer; the family's lookup takes a lock both I/O threads share).
  metrics::Counter& rejected(std::string_view code);

  StockGate& stock_;
  EventBus& events_;
  IntakeSettings settings_;
  std::map<std::string, metrics::Counter*, std::less<>> rejected_;
};

}  // namespace orders::ordering
