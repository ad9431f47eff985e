#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/call_batch.hpp"
#include "ordering/confirm_batch.hpp"
#include "ordering/refusal_check.hpp"
#include "ordering/stock_gate.hpp"
#include "storage/rabbitmq/publisher.hpp"
#include "storage/redis/commands.hpp"

namespace orders::ordering {

struct IntakeSettings {
  // The API's lease on a fresh outbox entry: the relay leaves it alone until then. Longer than
  // the longest a purchase waits for the broker, so the API decides first.
  std::chrono::milliseconds outbox_lease{5000};
  std::chrono::milliseconds relay_lease{10000};
  std::chrono::seconds idempotency_ttl{24 * 3600};
  std::chrono::seconds pending_order_ttl{7 * 24 * 3600};
  // PAYMENT_WINDOW_SECONDS: the window of products that set none; 0 = none (never expire).
  std::chrono::seconds default_payment_window{0};
};

// The purchase's scripts on one Redis connection (src/ordering/lua/: reserve, outbox_confirm,
// outbox_release, reserve_abandon, outbox_claim): the keys and arguments each script
// documents, built here and nowhere else.
class RedisStockGate final : public StockGate {
 public:
  RedisStockGate(redis::Commands& redis, IntakeSettings settings = {})
      : redis_(redis),
        settings_(settings),
        confirms_([this](const std::vector<std::string>& ids) { return confirm_group(ids); }),
        readings_([this](const std::vector<Reading>& group) { return read_group(group); }, 256,
                  [](const Reading& reading) { return reading->commands().size(); }, kMaxGroupCommands) {}

  bool connected() const override { return redis_.connected(); }
  boost::asio::awaitable<std::optional<ReserveReply>> known_refusal(const OrderRequest& request) override;
  boost::asio::awaitable<ReserveReply> reserve(const Reservation& reservation) override;
  boost::asio::awaitable<void> confirm(const std::string& order_id) override;
  boost::asio::awaitable<bool> release(const Reservation& reservation, const std::string& lease_deadline) override;
  boost::asio::awaitable<std::optional<std::string>> abandon(const std::string& order_id) override;
  boost::asio::awaitable<std::optional<std::string>> pending_order(const std::string& order_id) override;
  boost::asio::awaitable<void> return_units(const OrderUnits& units) override;
  boost::asio::awaitable<std::vector<std::pair<std::string, std::string>>> claim_due(long long lease_ms,
                                                                                     int batch) override;
  boost::asio::awaitable<long long> outbox_depth() override;

  const IntakeSettings& settings() const { return settings_; }

 private:
  // The sold-out path: while a product's last purchase here was refused (sold out, sale not
  // open, gone), a purchase of it first reads the script's keys in one MULTI
  // (ordering/refusal_check.hpp) and answers a refusal from that reading; Redis then runs no
  // script. A reading that would take stock, or finds an idempotency record or an abandoned
  // marker, is no answer: the script runs as always. The hint only picks the path.
  // The readings of the purchases that arrive together go as one MULTI (a CallBatch;
  // group_commands, split_group_reply): each one's commands in turn, one TIME for all, and each
  // gets its own part of the reply back. Every reading is still sent after its purchase
  // arrived. At most kMaxGroupCommands commands per MULTI (a reading of more goes alone), so
  // one transaction never holds Redis for long: it runs as one step for every client.
  using Reading = std::shared_ptr<const RulesReading>;
  static constexpr std::size_t kMaxGroupCommands = 2048;
  boost::asio::awaitable<std::vector<redis::Reply>> read_group(const std::vector<Reading>& group);

  // One outbox_confirm call for the ids of a group (ConfirmBatch gathers them).
  boost::asio::awaitable<void> confirm_group(const std::vector<std::string>& ids);

  redis::Commands& redis_;
  IntakeSettings settings_;
  RefusalHint refusals_;
  ConfirmBatch confirms_;
  CallBatch<Reading, redis::Reply> readings_;
};

// The publisher with confirms as the intake's EventBus.
class PublisherBus final : public EventBus {
 public:
  explicit PublisherBus(rabbitmq::Publisher& publisher) : publisher_(publisher) {}
  bool connected() const override { return publisher_.connected(); }
  boost::asio::awaitable<rabbitmq::PublishOutcome> publish(rabbitmq::Message message) override {
    return publisher_.publish(std::move(message));
  }

 private:
  rabbitmq::Publisher& publisher_;
};

}  // namespace orders::ordering
