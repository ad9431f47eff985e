#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "common/problem.hpp"
#include "ordering/order_log.hpp"
#include "ordering/order_status.hpp"
#include "ordering/stock_gate.hpp"

namespace orders::ordering {

// The order as it is now (its JSON), or why the change was refused: not found (404),
// INVALID_TRANSITION and ALREADY_CANCELLED (409).
using OrderOutcome = Outcome<std::string>;

// Problem of a status change the transition table (order_status.cpp) does not allow.
Problem invalid_transition(std::string_view from, std::string_view to);

// Status changes after a purchase: cancel (PENDING or CONFIRMED; the units go back exactly
// once) and complete (CONFIRMED). The record decides who wins a race with a worker: a cancel
// of an order not yet persisted stores it as CANCELLED itself, so the worker's insert of the
// same id changes nothing and sells nothing.
class OrderLifecycle {
 public:
  OrderLifecycle(OrderLog& log, StockGate& stock, EventBus& events) : log_(log), stock_(stock), events_(events) {}

  boost::asio::awaitable<OrderOutcome> cancel(const std::string& order_id);
  boost::asio::awaitable<OrderOutcome> change_status(const std::string& order_id, OrderStatus to);

 private:
  // The record's answer to a cancel, tried again (briefly) after a deadlock.
  boost::asio::awaitable<CancelRecord> cancel_in_record(const std::string& order_id, int& retries);
  boost::asio::awaitable<void> publish(std::string_view type, const std::string& order_id, std::string_view from,
                                       std::string_view to);
  boost::asio::awaitable<OrderOutcome> current(const std::string& order_id);
  // The units go back to Redis once, whoever gets here; then the record says so.
  boost::asio::awaitable<void> return_units(const OrderUnits& units);

  OrderLog& log_;
  StockGate& stock_;
  EventBus& events_;
};

}  // namespace orders::ordering
