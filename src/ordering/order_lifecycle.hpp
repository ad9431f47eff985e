#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "common/problem.hpp"
#include "ordering/order_log.hpp"
#include "ordering/order_status.hpp"
#include "ordering/stock_gate.hpp"

namespace orders::ordering {

// The order as it is now (its JSON), or why the change was refused: not found (404),
// INVALID_TRANSITION, ALREADY_CANCELLED and ORDER_EXPIRED (409).
using OrderOutcome = Outcome<std::string>;

// Problem of a status change the transition table (order_status.cpp) does not allow.
Problem invalid_transition(std::string_view from, std::string_view to);

// Status changes after a purchase: cancel (PENDING or CONFIRMED; the units go back exactly
// once), pay (PENDING or CONFIRMED, before expiresAt) and complete (PAID, or CONFIRMED without
// a window). The record decides who wins a race with a worker: a cancel or a payment of an
// order not yet persisted stores it (CANCELLED, PAID) itself, so the worker's insert of the
// same id changes nothing. Events go through the record's outbox (order_log.hpp).
class OrderLifecycle {
 public:
  OrderLifecycle(OrderLog& log, StockGate& stock) : log_(log), stock_(stock) {}

  boost::asio::awaitable<OrderOutcome> cancel(const std::string& order_id);
  boost::asio::awaitable<OrderOutcome> change_status(const std::string& order_id, OrderStatus to);

 private:
  // The record's answer to a cancel, tried again (briefly) after a deadlock.
  boost::asio::awaitable<CancelRecord> cancel_in_record(const std::string& order_id, int& retries);
  // A payment of an order the record does not hold yet; `seen_pending` is set when Redis had it.
  boost::asio::awaitable<std::optional<OrderOutcome>> pay_pending(const std::string& order_id, bool& seen_pending);
  boost::asio::awaitable<OrderOutcome> current(const std::string& order_id);
  // The units go back to Redis once, whoever gets here; then the record says so.
  boost::asio::awaitable<void> return_units(const OrderUnits& units);

  OrderLog& log_;
  StockGate& stock_;
};

// ORDER_EXPIRED: a payment after the order's deadline.
Problem order_expired();

}  // namespace orders::ordering
