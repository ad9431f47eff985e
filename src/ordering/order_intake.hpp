#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/problem.hpp"
#include "ordering/order_request.hpp"
#include "ordering/redis_stock_gate.hpp"
#include "ordering/stock_gate.hpp"

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

  StockGate& stock_;
  EventBus& events_;
  IntakeSettings settings_;
};

// Republishes outbox entries whose lease expired: an API process died between reservation and
// confirm, or the broker did not confirm in time. Runs in every `orders api`; claims are atomic.
class OutboxRelay {
 public:
  OutboxRelay(boost::asio::any_io_executor executor, StockGate& stock, EventBus& events, IntakeSettings settings = {},
              std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
  void start();
  void stop();
  // One pass: claim what is due, publish it, confirm what the broker took.
  boost::asio::awaitable<void> sweep();

 private:
  boost::asio::awaitable<void> run();

  boost::asio::any_io_executor executor_;
  StockGate& stock_;
  EventBus& events_;
  IntakeSettings settings_;
  std::chrono::milliseconds interval_;
  boost::asio::steady_timer timer_;
  bool stopping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// ORD- + the whole 128-bit order id in Crockford base32 (26 characters, no I, L, O, U).
std::string reference_number(const std::string& order_id);

}  // namespace orders::ordering
