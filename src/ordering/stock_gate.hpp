#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/uuid.hpp"
#include "ordering/order_request.hpp"
#include "ordering/units.hpp"
#include "storage/rabbitmq/publisher.hpp"

// The two seams of a purchase: the live stock (Redis in production, RedisStockGate) and the
// broker (EventBus). The intake decides through them; the domain's unit tests use fakes
// (tests/support/fake_stock_gate.hpp).
namespace orders::ordering {

// What the reservation decided: reserve.lua's codes and data, never a response.
struct ReserveReply {
  enum class Kind {
    kAccepted,     // reserved now: order_json, lease_deadline, event
    kReplay,       // the key's earlier purchase, accepted: order_json
    kRefused,      // code (PRODUCT_NOT_FOUND, SALE_NOT_ACTIVE, PURCHASE_LIMIT_EXCEEDED, OUT_OF_STOCK), item
    kInvalid,      // a total the record cannot hold: code "LINE" (with item) or "ORDER"
    kInProgress,   // the key's earlier purchase is not settled yet
    kKeyReused,    // the key came with a different request
    kAbandoned,    // this order id was given up after a lost reply: the script did nothing
    kOutOfMemory,  // Redis refused the first write (maxmemory, noeviction): nothing written
    kRolledBack,   // cluster mode: the recovery undid the purchase before it committed (a slow step)
  };
  Kind kind = Kind::kRefused;
  std::string order_json;
  std::string lease_deadline;  // ms since the epoch, as Redis wrote it
  std::string event;
  std::string code;
  std::size_t item = 0;  // 0-based
  // PURCHASE_LIMIT_EXCEEDED: the limit and what the user has; OUT_OF_STOCK: units left.
  std::string limit, bought, left;
};

// The facts the intake fixed for one purchase before it reaches Redis.
struct Reservation {
  const OrderRequest* request = nullptr;
  std::string order_id;
  std::string reference_no;
  std::string created_at;       // RFC 3339
  std::int64_t created_ms = 0;  // the same, ms since the epoch (expiresAt is counted from it)
  std::string fingerprint;
  std::string event_head;  // order.created up to its data (order_created_head)
};

class StockGate {
 public:
  virtual ~StockGate() = default;
  virtual bool connected() const = 0;
  // The id of a new order (a UUID v7). Cluster mode picks it in the home partition of the
  // request's Idempotency-Key (ordering/cluster_keys.hpp).
  virtual std::string make_order_id(const OrderRequest& /*request*/) { return uuid::make_v7(); }
  // A refusal known without reserving (the sold-out path, ordering/refusal_check.hpp): read
  // only, asked before the intake builds the order. Nothing when the gate cannot tell; then
  // reserve() decides. Throws DependencyUnavailable when Redis does not answer (nothing written).
  virtual boost::asio::awaitable<std::optional<ReserveReply>> known_refusal(const OrderRequest& /*request*/) {
    co_return std::nullopt;
  }
  // The one atomic reservation. Throws DependencyUnavailable when the reply was lost after the
  // script was sent: it may or may not have run (the intake then calls abandon()).
  virtual boost::asio::awaitable<ReserveReply> reserve(const Reservation& reservation) = 0;
  // The broker confirmed the event: the outbox entry goes; a retry with the key now replays.
  virtual boost::asio::awaitable<void> confirm(const std::string& order_id) = 0;
  // The event never left: undo the reservation unless the relay has taken its outbox entry.
  // True when undone.
  virtual boost::asio::awaitable<bool> release(const Reservation& reservation, const std::string& lease_deadline) = 0;
  // After a lost reply: the pending order when the reservation ran, nothing when it did not
  // (and now never will). Throws when Redis gives no answer.
  virtual boost::asio::awaitable<std::optional<std::string>> abandon(const std::string& order_id) = 0;
  // The order as the purchase answered it, while it is pending (not yet persisted).
  virtual boost::asio::awaitable<std::optional<std::string>> pending_order(const std::string& order_id) = 0;
  // A FAILED, CANCELLED or EXPIRED order's units back to the counters and the buyer's counts, once
  // whoever asks (the returned:{id} marker). Throws DependencyUnavailable when Redis is down.
  virtual boost::asio::awaitable<void> return_units(const OrderUnits& units) = 0;
  // The relay's side: outbox entries whose lease ended, leased again to the caller for
  // `lease_ms`: (order id, event) pairs; and how many entries wait.
  virtual boost::asio::awaitable<std::vector<std::pair<std::string, std::string>>> claim_due(long long lease_ms,
                                                                                             int batch) = 0;
  virtual boost::asio::awaitable<long long> outbox_depth() = 0;
  // Cluster mode: undoes purchases whose API stopped between their first step and their commit
  // (their lease ended); the number undone. Nothing to do on one Redis, where a purchase is one
  // script.
  virtual boost::asio::awaitable<int> recover_due(int /*batch*/) { co_return 0; }
};

// Where order events go: RabbitMQ with publisher confirms in production (PublisherBus).
class EventBus {
 public:
  virtual ~EventBus() = default;
  virtual bool connected() const = 0;
  virtual boost::asio::awaitable<rabbitmq::PublishOutcome> publish(rabbitmq::Message message) = 0;
};

}  // namespace orders::ordering
