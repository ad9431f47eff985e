#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "ordering/order_request.hpp"
#include "storage/rabbitmq/publisher.hpp"
#include "storage/redis/client.hpp"

namespace orders::ordering {

struct IntakeSettings {
  // The API's lease on a fresh outbox entry: the relay leaves it alone until then. Longer than
  // the longest a purchase waits for the broker, so the API decides first.
  std::chrono::milliseconds outbox_lease{5000};
  std::chrono::milliseconds relay_lease{10000};
  std::chrono::seconds idempotency_ttl{24 * 3600};
  std::chrono::seconds pending_order_ttl{7 * 24 * 3600};
};

struct PurchaseResult {
  int status = 0;
  std::string body;  // the full response body
  bool replayed = false;
  std::string order_id;      // set on 202
  bool retry_later = false;  // 503: RabbitMQ could not take the order; nothing was reserved
  std::string code;          // the error code of a refusal, empty on 202
};

// POST /api/orders: the reservation script (one atomic Redis step), then a confirmed publish
// of order.created. The answer is 202 once the broker confirmed, or once the order is safe in
// the Redis outbox (the relay publishes it); 503 only after the reservation was undone.
class OrderIntake {
 public:
  OrderIntake(redis::Client& redis, rabbitmq::Publisher& publisher, IntakeSettings settings = {});

  boost::asio::awaitable<PurchaseResult> purchase(const OrderRequest& request);
  // The pending order as the purchase answered it, while it is pending.
  boost::asio::awaitable<std::optional<std::string>> pending_order(const std::string& order_id);

 private:
  // The connection dropped with the reservation in flight: find out whether it ran.
  boost::asio::awaitable<PurchaseResult> resolve_lost_reply(const std::string& order_id,
                                                            std::chrono::steady_clock::time_point sent,
                                                            std::string_view why);
  static PurchaseResult unavailable(std::string_view dependency);

  redis::Client& redis_;
  rabbitmq::Publisher& publisher_;
  IntakeSettings settings_;
};

// Republishes outbox entries whose lease expired: an API process died between reservation and
// confirm, or the broker did not confirm in time. Runs in every `orders api`; claims are atomic.
class OutboxRelay {
 public:
  OutboxRelay(boost::asio::any_io_executor executor, redis::Client& redis, rabbitmq::Publisher& publisher,
              IntakeSettings settings = {}, std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
  void start();
  void stop();

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> sweep();

  boost::asio::any_io_executor executor_;
  redis::Client& redis_;
  rabbitmq::Publisher& publisher_;
  IntakeSettings settings_;
  std::chrono::milliseconds interval_;
  boost::asio::steady_timer timer_;
  bool stopping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace orders::ordering
