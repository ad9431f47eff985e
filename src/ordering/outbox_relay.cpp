#include "ordering/outbox_relay.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/uuid.hpp"
#include "ordering/intake_metrics.hpp"

namespace orders::ordering {
namespace asio = boost::asio;

OutboxRelay::OutboxRelay(asio::any_io_executor executor, StockGate& stock, EventBus& events, IntakeSettings settings,
                         std::chrono::milliseconds interval)
    : executor_(executor), stock_(stock), events_(events), settings_(settings), interval_(interval), timer_(executor) {}

void OutboxRelay::start() { asio::co_spawn(executor_, run(), asio::detached); }

void OutboxRelay::stop() {
  stopping_ = true;
  *alive_ = false;
  timer_.cancel();
}

asio::awaitable<void> OutboxRelay::run() {
  auto alive = alive_;
  while (*alive && !stopping_) {
    try {
      co_await sweep();
    } catch (const std::exception& e) {
      spdlog::warn("outbox relay: {}", e.what());
    }
    if (!*alive) co_return;
    timer_.expires_after(interval_);
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || !*alive) co_return;
  }
}

asio::awaitable<void> OutboxRelay::sweep() {
  if (!stock_.connected()) co_return;
  co_await stock_.recover_due(500);
  auto& m = ordering_metrics();
  m.outbox_depth.set(static_cast<double>(co_await stock_.outbox_depth()));
  if (!events_.connected()) co_return;
  auto due = co_await stock_.claim_due(settings_.relay_lease.count(), 500);
  for (auto& [order_id, event] : due) {
    // Publish with confirm, one after another: the relay handles the exceptions, not the bulk.
    auto event_id_at = event.find("\"id\":\"");
    std::string event_id = event_id_at == std::string::npos ? uuid::make_v7() : event.substr(event_id_at + 6, 36);
    rabbitmq::Message message{"orders", "order.created", event_id, "order.created", event};
    auto outcome = co_await events_.publish(std::move(message));
    m.confirms.with({rabbitmq::to_string(outcome)}).inc();
    if (outcome != rabbitmq::PublishOutcome::kConfirmed) continue;  // the lease expires; tried again
    m.republished.inc();
    co_await stock_.confirm(order_id);
  }
}

}  // namespace orders::ordering
