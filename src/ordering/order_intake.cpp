#include "ordering/order_intake.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/dependency_error.hpp"
#include "common/error_codes.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "metrics/registry.hpp"
#include "ordering/intake_metrics.hpp"
#include "ordering/order_event.hpp"
#include "ordering/reference_number.hpp"

namespace orders::ordering {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Kind = ReserveReply::Kind;

namespace {

// A purchase refused for one of its items: the message names the product, the detail the item.
Problem item_refusal(ProblemKind kind, std::string_view code, std::size_t item, const std::string& product,
                     std::string message) {
  std::vector<FieldError> details{{"items[" + std::to_string(item) + "].productId", message, product}};
  return Problem{kind, std::string(code), std::move(message), std::move(details)};
}

constexpr std::string_view kMostAnOrderHolds = "999999999999.99, the most an order can hold";

}  // namespace

OrderIntake::OrderIntake(StockGate& stock, EventBus& events, IntakeSettings settings)
    : stock_(stock), events_(events), settings_(settings) {
  ordering_metrics();
}

metrics::Counter& OrderIntake::rejected(std::string_view code) {
  auto it = rejected_.find(code);
  if (it == rejected_.end()) it = rejected_.emplace(std::string(code), &ordering_metrics().rejected.with({code})).first;
  return *it->second;
}

PurchaseOutcome OrderIntake::decided(const ReserveReply& reply, const OrderRequest& request) {
  auto& m = ordering_metrics();
  const std::string product = reply.item < request.items.size() ? request.items[reply.item].product_id : "";
  Problem problem;
  switch (reply.kind) {
    case Kind::kReplay:
      m.replayed.inc();
      {
        // The record holds the order ({"id":"..." first): its Location again.
        constexpr std::string_view kId = "{\"id\":\"";
        std::string id = reply.order_json.starts_with(kId) ? reply.order_json.substr(kId.size(), uuid::kTextLength)
                                                           : "";
        return Accepted{.order_id = std::move(id), .order_json = reply.order_json, .replayed = true};
      }
    case Kind::kRefused:
      if (reply.code == codes::kProductNotFound) {
        problem = item_refusal(ProblemKind::kNotFound, codes::kProductNotFound, reply.item, product,
                               "Product " + product + " does not exist or is not on sale");
      } else if (reply.code == codes::kSaleNotActive) {
        problem = item_refusal(ProblemKind::kConflict, codes::kSaleNotActive, reply.item, product,
                               "The sale of product " + product + " is not open now");
      } else if (reply.code == codes::kPurchaseLimitExceeded) {
        problem = item_refusal(ProblemKind::kConflict, codes::kPurchaseLimitExceeded, reply.item, product,
                               "At most " + reply.limit + " units of product " + product +
                                   " per user; this user already has " + reply.bought);
      } else if (reply.code == codes::kOutOfStock) {
        const std::string requested = reply.item < request.items.size()
                                          ? std::to_string(request.items[reply.item].quantity)
                                          : "?";
        problem = item_refusal(
            ProblemKind::kConflict, codes::kOutOfStock, reply.item, product,
            "Product " + product + " has " + reply.left + " units left, " + requested + " requested");
      } else {
        throw std::runtime_error("reserve script: unknown refusal " + reply.code);
      }
      break;
    case Kind::kInvalid:
      problem = reply.code == "LINE"
                    ? invalid_field("items[" + std::to_string(reply.item) + "].quantity",
                                    "makes a line total above " + std::string(kMostAnOrderHolds))
                    : invalid_field("items", "make an order total above " + std::string(kMostAnOrderHolds));
      break;
    case Kind::kInProgress:
      problem = Problem{ProblemKind::kConflict,
                        std::string(codes::kRequestInProgress),
                        "A request with this Idempotency-Key is still in progress; retry shortly",
                        {}};
      break;
    case Kind::kKeyReused:
      problem = Problem{ProblemKind::kUnprocessable,
                        std::string(codes::kIdempotencyKeyReused),
                        "This Idempotency-Key was used with a different request body",
                        {{"Idempotency-Key", "was used with a different request", {}}}};
      break;
    case Kind::kOutOfMemory:
      // maxmemory with noeviction (G6): Redis refused the first write, so nothing was written.
      spdlog::error("purchase refused: Redis is out of memory (maxmemory reached): {}", reply.code);
      rejected("REDIS_OUT_OF_MEMORY").inc();
      return unavailable("Redis is out of memory (maxmemory); nothing was reserved");
    case Kind::kRolledBack:
      rejected("REDIS_ROLLED_BACK").inc();
      return unavailable("A step of the purchase took too long and it was rolled back; nothing was reserved");
    case Kind::kAbandoned: throw std::logic_error("reserve script: this order was abandoned before it ran");
    case Kind::kAccepted: throw std::logic_error("decided() is for replies other than accepted");
  }
  rejected(problem.code).inc();
  return problem;
}

asio::awaitable<PurchaseOutcome> OrderIntake::purchase(const OrderRequest& request) {
  auto& m = ordering_metrics();
  // Not connected: nothing is sent, so nothing can have run (DependencyUnavailable, 503).
  if (!stock_.connected()) throw DependencyUnavailable("Redis", "not connected");
  // A refusal the gate knows from a reading (a product refused just before): answered before
  // the order is built; reading writes nothing, so a failed reading leaves it to reserve().
  const auto read_from = Clock::now();
  std::optional<ReserveReply> known;
  try {
    known = co_await stock_.known_refusal(request);
  } catch (const DependencyUnavailable&) {
    // Nothing was written: reserve() decides (and says why when Redis is gone).
  }
  if (known) {
    m.reservation.observe(std::chrono::duration<double>(Clock::now() - read_from).count());
    co_return decided(*known, request);
  }

  const std::string event_id = uuid::make_v7();
  Reservation reservation{.request = &request, .order_id = stock_.make_order_id(request)};
  reservation.reference_no = reference_number(reservation.order_id);
  reservation.created_ms = now_ms();
  reservation.created_at = format_rfc3339(reservation.created_ms);
  reservation.fingerprint = fingerprint(request);
  reservation.event_head = order_created_head(event_id, reservation.created_at);
  const std::string& order_id = reservation.order_id;

  const auto started = Clock::now();
  ReserveReply reply;
  std::string lost;
  try {
    reply = co_await stock_.reserve(reservation);
  } catch (const DependencyUnavailable& e) {
    lost = e.what();  // sent, and the connection dropped before the reply: it may have run
  }
  if (!lost.empty()) co_return co_await resolve_lost_reply(order_id, started, lost);
  m.reservation.observe(std::chrono::duration<double>(Clock::now() - started).count());
  if (reply.kind != Kind::kAccepted) co_return decided(reply, request);

  // Reserved. Now the event must reach the broker before we promise anything.
  rabbitmq::Message message{"orders", "order.created", event_id, "order.created", std::move(reply.event)};
  auto outcome = co_await events_.publish(std::move(message));
  m.confirms.with({rabbitmq::to_string(outcome)}).inc();
  if (outcome == rabbitmq::PublishOutcome::kConfirmed) {
    try {
      co_await stock_.confirm(order_id);
    } catch (const std::exception& e) {
      // The event is in the queue; the relay will publish it once more (workers ignore the copy).
      spdlog::warn("order {} confirmed but its outbox entry stays: {}", order_id, e.what());
    }
  } else if (rabbitmq::never_sent(outcome)) {
    // The broker never saw it: undo the reservation unless the relay has taken the entry.
    if (co_await stock_.release(reservation, reply.lease_deadline)) {
      rejected("BROKER_UNAVAILABLE").inc();
      co_return unavailable("RabbitMQ is unavailable");
    }
  }
  // Confirmed, or safe in the outbox (sent but unconfirmed, or claimed by the relay).
  m.accepted.inc();
  co_return Accepted{.order_id = order_id, .order_json = std::move(reply.order_json)};
}

asio::awaitable<PurchaseOutcome> OrderIntake::resolve_lost_reply(const std::string& order_id, Clock::time_point sent,
                                                                 std::string_view why) {
  auto& m = ordering_metrics();
  spdlog::warn("order {}: the reservation's reply was lost ({}); looking up whether it ran", order_id, why);
  // Decide before the API's lease on the outbox entry ends: until then nobody else publishes or
  // removes a pending order this call would find, so "not there" means "never ran".
  const auto deadline = sent + settings_.outbox_lease - std::chrono::milliseconds(1000);
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (;;) {
    try {
      if (stock_.connected()) {
        auto pending = co_await stock_.abandon(order_id);
        if (pending) {
          // It ran: the order is safe in the outbox and the relay publishes it once the lease ends.
          m.accepted.inc();
          co_return Accepted{.order_id = order_id, .order_json = std::move(*pending)};
        }
        rejected("REDIS_UNAVAILABLE").inc();
        co_return unavailable("Redis is unavailable");  // it never ran, and now never will
      }
    } catch (const DependencyUnavailable&) {
      // Still down: try again until the deadline.
    } catch (const std::exception& e) {
      spdlog::warn("order {}: resolving the lost reply failed: {}", order_id, e.what());
    }
    if (Clock::now() + std::chrono::milliseconds(100) >= deadline) break;
    pause.expires_after(std::chrono::milliseconds(100));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  rejected("OUTCOME_UNKNOWN").inc();
  spdlog::error("order {}: Redis did not answer in time; whether it was reserved is unknown", order_id);
  co_return unavailable(
      "Redis did not answer: this purchase may or may not have been accepted; retry with the same "
      "Idempotency-Key to learn its outcome");
}

asio::awaitable<std::optional<std::string>> OrderIntake::pending_order(const std::string& order_id) {
  co_return co_await stock_.pending_order(order_id);
}

}  // namespace orders::ordering
