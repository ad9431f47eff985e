#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "ordering/order_event.hpp"
#include "ordering/order_status.hpp"
#include "ordering/units.hpp"

// The record's side of the lifecycle (PostgreSQL in production, PostgresOrderLog): each call is
// one transaction that locks the order, checks the transition table against the status it
// found, and changes it or not. A change writes its event (order.cancelled,
// order.status_changed) into the record's event outbox in the same transaction; the workers'
// relay publishes it (worker/event_relay.hpp), so no crash between the commit and the broker
// loses it. OrderLifecycle decides what to do with the answers; the domain's unit tests use a
// fake (tests/support/fake_order_log.hpp).
namespace orders::ordering {

// What the record said about a cancel.
struct CancelRecord {
  enum class Kind {
    kNotInRecord,       // no such row (yet): the order may still be pending in Redis
    kRetry,             // a deadlock or serialization failure rolled it back; nothing changed
    kRefused,           // the transition table forbids it from `status`
    kCancelled,         // cancelled now; `units` go back to Redis
    kAlreadyCancelled,  // cancelled before; `units` set when Redis never confirmed them back
  };
  Kind kind = Kind::kNotInRecord;
  std::string status;  // the status it found (kRefused, kCancelled)
  OrderUnits units;
};

// What the record said about another status change.
struct StatusRecord {
  enum class Kind {
    kNotInRecord,
    kRefused,  // the transition table forbids it from `from` (`why` may say more)
    kChanged,
    kExpired,  // a payment of an order that is EXPIRED or past its deadline: refused
  };
  Kind kind = Kind::kNotInRecord;
  std::string from;  // the status it found (kRefused, kChanged)
  std::string why;   // kRefused: what the table alone does not say
};

// What storing a pending (not yet persisted) order straight as PAID came to.
enum class PaidStore {
  kStored,   // in the record as PAID, its stock taken there as a worker would
  kExists,   // a worker stored it first: the caller pays that row
  kExpired,  // its deadline passed by the record's clock: nothing stored
  kRetry,    // a deadlock or serialization failure rolled it back: again, a little later
  kCannot,   // the record cannot take it as it is (its stock, its key): a worker decides it first
};

class OrderLog {
 public:
  virtual ~OrderLog() = default;
  virtual boost::asio::awaitable<CancelRecord> cancel(const std::string& order_id) = 0;
  // A pending order stored straight as CANCELLED (with its CREATED and CANCELLED audit rows);
  // false when a worker stored the order first (the caller then cancels that row).
  virtual boost::asio::awaitable<bool> store_cancelled(const Order& order) = 0;
  // Redis has the units back: the record says so (a failure only logs; reconcile finishes it).
  virtual boost::asio::awaitable<void> mark_units_returned(const std::string& order_id) = 0;
  // Any change the API may make (api_may_set): one transaction with its audit row and event. A
  // payment checks the deadline under the row lock, so it and the sweeper never both win.
  virtual boost::asio::awaitable<StatusRecord> change_status(const std::string& order_id, OrderStatus to) = 0;
  // A pending order paid before a worker persisted it: stored as PAID, with its stock, items,
  // ledger, audit rows and event, in one transaction; the worker's insert then changes nothing.
  virtual boost::asio::awaitable<PaidStore> store_paid(const Order& order) = 0;
  // The order as the API shows it, or nothing.
  virtual boost::asio::awaitable<std::optional<std::string>> find(const std::string& order_id) = 0;
};

}  // namespace orders::ordering
