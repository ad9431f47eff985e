#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "common/problem.hpp"
#include "ordering/order_reader.hpp"
#include "ordering/order_status.hpp"
#include "ordering/stock_gate.hpp"
#include "storage/postgres/pool.hpp"

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
  OrderLifecycle(postgres::Pool& pool, StockGate& stock, EventBus& events, OrderReader& reader)
      : pool_(pool), stock_(stock), events_(events), reader_(reader) {}

  boost::asio::awaitable<OrderOutcome> cancel(const std::string& order_id);
  boost::asio::awaitable<OrderOutcome> change_status(const std::string& order_id, OrderStatus to);

 private:
  boost::asio::awaitable<void> publish(std::string_view type, const std::string& order_id, std::string_view from,
                                       std::string_view to);
  boost::asio::awaitable<OrderOutcome> current(const std::string& order_id);
  // The units go back to Redis once, whoever gets here; then the record says so.
  boost::asio::awaitable<void> return_units(const OrderUnits& units);

  postgres::Pool& pool_;
  StockGate& stock_;
  EventBus& events_;
  OrderReader& reader_;
};

}  // namespace orders::ordering
