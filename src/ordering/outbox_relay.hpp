#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "ordering/redis_stock_gate.hpp"
#include "ordering/stock_gate.hpp"

namespace orders::ordering {

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

}  // namespace orders::ordering
