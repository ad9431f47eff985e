#include "ordering/order_intake.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "catalog/keys.hpp"
#include "common/dependency_error.hpp"
#include "common/error_codes.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "http/envelope.hpp"
#include "metrics/registry.hpp"
#include "ordering/keys.hpp"

namespace orders::ordering {
namespace asio = boost::asio;
using redis::Reply;
using Clock = std::chrono::steady_clock;

namespace {

const redis::Script& reserve_script() {
  static const redis::Script s = redis::embedded_script("reserve");
  return s;
}
const redis::Script& confirm_script() {
  static const redis::Script s = redis::embedded_script("outbox_confirm");
  return s;
}
const redis::Script& release_script() {
  static const redis::Script s = redis::embedded_script("outbox_release");
  return s;
}
const redis::Script& abandon_script() {
  static const redis::Script s = redis::embedded_script("reserve_abandon");
  return s;
}
const redis::Script& claim_script() {
  static const redis::Script s = redis::embedded_script("outbox_claim");
  return s;
}

struct OrderingMetrics {
  metrics::Counter& accepted = metrics::registry().counter("orders_accepted_total", "Purchases answered 202").with({});
  metrics::Family<metrics::Counter>& rejected = metrics::registry().counter("orders_rejected_total",
                                                                            "Purchases refused, by reason", {"reason"});
  metrics::Family<metrics::Counter>& confirms = metrics::registry().counter(
      "publish_confirms_total", "order.created publishes by broker outcome", {"result"});
  metrics::Counter& replayed = metrics::registry()
                                   .counter("idempotent_replays_total",
                                            "Purchases answered from the idempotency record")
                                   .with({});
  metrics::Counter& republished =
      metrics::registry().counter("outbox_republished_total", "Outbox entries the relay published again").with({});
  metrics::Gauge& outbox_depth =
      metrics::registry().gauge("outbox_depth", "Orders reserved but not yet confirmed by the broker").with({});
  metrics::Histogram& reservation =
      metrics::registry().histogram("reservation_duration_seconds", "The reservation script's round trip", {}).with({});
};

OrderingMetrics& ordering_metrics() {
  static OrderingMetrics m;
  return m;
}

// ORD- + the whole 128-bit order id in Crockford base32 (26 characters, no I, L, O, U): as
// unique as the id itself, and easier to read out than a UUID.
std::string reference_number(const std::string& order_id) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  unsigned __int128 value = 0;
  for (char c : order_id) {
    if (c == '-') continue;
    value = (value << 4) | static_cast<unsigned>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  std::string out(26, '0');
  for (int i = 25; i >= 0; --i) {
    out[i] = kAlphabet[static_cast<unsigned>(value & 31)];
    value >>= 5;
  }
  return "ORD-" + out;
}

// The code of a refusal body, for the metric label.
std::string code_of(std::string_view body) {
  auto at = body.find("\"code\":\"");
  if (at == std::string_view::npos) return "unknown";
  auto end = body.find('"', at + 8);
  return std::string(body.substr(at + 8, end - at - 8));
}

}  // namespace

OrderIntake::OrderIntake(redis::Client& redis, rabbitmq::Publisher& publisher, IntakeSettings settings)
    : redis_(redis), publisher_(publisher), settings_(settings) {
  ordering_metrics();
}

asio::awaitable<PurchaseResult> OrderIntake::purchase(const OrderRequest& request) {
  auto& m = ordering_metrics();
  const std::string order_id = uuid::make_v7();
  const std::string event_id = uuid::make_v7();
  const std::string reference = reference_number(order_id);
  const std::string created_at = format_rfc3339(now_ms());
  const std::string fp = fingerprint(request);
  const std::string idem_key = request.idempotency_key.value_or("");
  const std::string lease = std::to_string(settings_.outbox_lease.count());
  const std::string idem_ttl = std::to_string(settings_.idempotency_ttl.count());
  const std::string order_ttl = std::to_string(settings_.pending_order_ttl.count());

  std::vector<std::string> key_storage;
  key_storage.reserve(5 + request.items.size() * 3);
  key_storage.push_back(keys::idempotency(request.user_id, idem_key));
  key_storage.push_back(keys::order(order_id));
  key_storage.emplace_back(keys::kOutbox);
  key_storage.push_back(keys::outbox_entry(order_id));
  key_storage.push_back(keys::abandoned(order_id));
  std::vector<std::string> quantities;
  for (const auto& item : request.items) {
    key_storage.push_back(catalog::keys::stock(item.product_id));
    key_storage.push_back(catalog::keys::info(item.product_id));
    key_storage.push_back(keys::buyers(item.product_id));
    quantities.push_back(std::to_string(item.quantity));
  }
  std::vector<std::string_view> script_keys(key_storage.begin(), key_storage.end());
  std::vector<std::string_view> args{request.user_id, idem_key, fp,    order_id, reference,
                                     created_at,      event_id, lease, idem_ttl, order_ttl};
  for (std::size_t i = 0; i < request.items.size(); ++i) {
    args.push_back(request.items[i].product_id);
    args.push_back(quantities[i]);
  }

  const auto started = Clock::now();
  // Not connected: nothing is sent, so nothing can have run (DependencyUnavailable, 503).
  if (!redis_.connected()) throw DependencyUnavailable("Redis", "not connected");
  Reply reply;
  std::string lost;
  try {
    reply = co_await redis_.eval(reserve_script(), script_keys, args);
  } catch (const DependencyUnavailable& e) {
    lost = e.what();  // sent, and the connection dropped before the reply: it may have run
  }
  if (!lost.empty()) co_return co_await resolve_lost_reply(order_id, started, lost);
  m.reservation.observe(std::chrono::duration<double>(Clock::now() - started).count());
  if (reply.is_error() && reply.str.find("OOM command not allowed") != std::string::npos) {
    // maxmemory with noeviction (G6): Redis refused the first write, so nothing was written.
    spdlog::error("purchase refused: Redis is out of memory (maxmemory reached): {}", reply.str);
    m.rejected.with({"REDIS_OUT_OF_MEMORY"}).inc();
    auto r = http::error(503, codes::kServiceUnavailable, "Redis is out of memory (maxmemory); nothing was reserved");
    r.with_header("Retry-After", "2");
    co_return PurchaseResult{.status = 503, .body = std::move(r.body), .retry_later = true, .code = r.code};
  }
  if (reply.is_error() || reply.type != Reply::Type::kArray || reply.elements.size() < 3) {
    throw std::runtime_error("reserve script failed: " + reply.str);
  }
  const std::string& kind = reply.elements[0].str;
  PurchaseResult result;
  result.status = static_cast<int>(reply.elements[1].integer);
  result.body = std::move(reply.elements[2].str);

  if (kind == "REFUSED") {
    result.code = code_of(result.body);
    m.rejected.with({result.code}).inc();
    co_return result;
  }
  if (kind == "INVALID") {
    result.code = codes::kValidationFailed;
    m.rejected.with({result.code}).inc();
    co_return result;
  }
  if (kind == "ABANDONED") throw std::logic_error("reserve script: order " + order_id + " was abandoned before it ran");
  if (kind == "REPLAY") {
    m.replayed.inc();
    result.replayed = true;
    // The stored 202 body is the order ({"success":true,"data":{"id":"..."): its Location again.
    constexpr std::string_view kId = "\"id\":\"";
    if (auto at = result.body.find(kId); result.status == 202 && at != std::string::npos) {
      result.order_id = result.body.substr(at + kId.size(), uuid::kTextLength);
    }
    co_return result;
  }
  if (kind == "IN_PROGRESS") {
    m.rejected.with({codes::kRequestInProgress}).inc();
    result.code = codes::kRequestInProgress;
    result.body = http::error(409, codes::kRequestInProgress,
                              "A request with this Idempotency-Key is still in progress; retry shortly")
                      .body;
    co_return result;
  }
  if (kind == "KEY_REUSED") {
    m.rejected.with({codes::kIdempotencyKeyReused}).inc();
    result.code = codes::kIdempotencyKeyReused;
    result.body = http::error(422, codes::kIdempotencyKeyReused,
                              "This Idempotency-Key was used with a different request body",
                              std::vector<http::FieldError>{{"Idempotency-Key", "was used with a different request"}})
                      .body;
    co_return result;
  }
  if (kind != "ACCEPTED" || reply.elements.size() < 5) throw std::runtime_error("reserve script: unexpected " + kind);

  // Reserved. Now the event must reach the broker before we promise anything.
  const std::string lease_deadline = reply.elements[3].str;
  rabbitmq::Message message{"orders", "order.created", event_id, "order.created", std::move(reply.elements[4].str)};
  auto outcome = co_await publisher_.publish(std::move(message));
  m.confirms.with({rabbitmq::to_string(outcome)}).inc();
  const std::string outbox_entry = keys::outbox_entry(order_id);
  if (outcome == rabbitmq::PublishOutcome::kConfirmed) {
    std::array<std::string_view, 2> confirm_keys{keys::kOutbox, outbox_entry};
    std::array<std::string_view, 1> confirm_args{order_id};
    try {
      co_await redis_.eval(confirm_script(), confirm_keys, confirm_args);
    } catch (const std::exception& e) {
      // The event is in the queue; the relay will publish it once more (workers ignore the copy).
      spdlog::warn("order {} confirmed but its outbox entry stays: {}", order_id, e.what());
    }
  } else if (rabbitmq::never_sent(outcome)) {
    // The broker never saw it: undo the reservation unless the relay has taken the entry.
    std::vector<std::string> release_storage{std::string(keys::kOutbox), outbox_entry, keys::order(order_id)};
    for (const auto& item : request.items) {
      release_storage.push_back(catalog::keys::stock(item.product_id));
      release_storage.push_back(keys::buyers(item.product_id));
    }
    std::vector<std::string_view> release_keys(release_storage.begin(), release_storage.end());
    std::vector<std::string_view> release_args{order_id, lease_deadline, request.user_id};
    for (const auto& q : quantities) release_args.push_back(q);
    Reply released = co_await redis_.eval(release_script(), release_keys, release_args);
    if (released.integer == 1) {
      m.rejected.with({"BROKER_UNAVAILABLE"}).inc();
      co_return unavailable("RabbitMQ");
    }
  }
  // Confirmed, or safe in the outbox (sent but unconfirmed, or claimed by the relay).
  m.accepted.inc();
  result.order_id = order_id;
  co_return result;
}

PurchaseResult OrderIntake::unavailable(std::string_view dependency) {
  auto r = http::service_unavailable(dependency, 2);
  return PurchaseResult{.status = r.status, .body = std::move(r.body), .retry_later = true, .code = r.code};
}

asio::awaitable<PurchaseResult> OrderIntake::resolve_lost_reply(const std::string& order_id, Clock::time_point sent,
                                                                std::string_view why) {
  auto& m = ordering_metrics();
  spdlog::warn("order {}: the reservation's reply was lost ({}); looking up whether it ran", order_id, why);
  const std::string order_key = keys::order(order_id);
  const std::string marker_key = keys::abandoned(order_id);
  std::array<std::string_view, 2> resolve_keys{order_key, marker_key};
  const std::string marker_ttl = std::to_string(std::chrono::seconds(std::chrono::hours(1)).count());
  std::array<std::string_view, 1> resolve_args{marker_ttl};
  // Decide before the API's lease on the outbox entry ends: until then nobody else publishes or
  // removes a pending order this call would find, so "not there" means "never ran".
  const auto deadline = sent + settings_.outbox_lease - std::chrono::milliseconds(1000);
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (;;) {
    try {
      if (redis_.connected()) {
        Reply r = co_await redis_.eval(abandon_script(), resolve_keys, resolve_args);
        if (r.type == Reply::Type::kString) {
          // It ran: the order is safe in the outbox and the relay publishes it once the lease ends.
          m.accepted.inc();
          co_return PurchaseResult{
              .status = 202, .body = R"({"success":true,"data":)" + r.str + "}", .order_id = order_id};
        }
        if (!r.is_error()) {
          m.rejected.with({"REDIS_UNAVAILABLE"}).inc();
          co_return unavailable("Redis");  // it never ran, and now never will
        }
        spdlog::warn("order {}: resolving the lost reply failed: {}", order_id, r.str);
      }
    } catch (const DependencyUnavailable&) {
      // Still down: try again until the deadline.
    }
    if (Clock::now() + std::chrono::milliseconds(100) >= deadline) break;
    pause.expires_after(std::chrono::milliseconds(100));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  m.rejected.with({"OUTCOME_UNKNOWN"}).inc();
  spdlog::error("order {}: Redis did not answer in time; whether it was reserved is unknown", order_id);
  auto r = http::error(503, codes::kServiceUnavailable,
                       "Redis did not answer: this purchase may or may not have been accepted; retry with the same "
                       "Idempotency-Key to learn its outcome");
  r.with_header("Retry-After", "2");
  co_return PurchaseResult{.status = 503, .body = std::move(r.body), .retry_later = true, .code = r.code};
}

asio::awaitable<std::optional<std::string>> OrderIntake::pending_order(const std::string& order_id) {
  std::string key = keys::order(order_id);
  std::array<std::string_view, 2> get{"GET", key};
  Reply r = co_await redis_.command(get);
  if (r.type != Reply::Type::kString) co_return std::nullopt;
  co_return std::move(r.str);
}

OutboxRelay::OutboxRelay(asio::any_io_executor executor, redis::Client& redis, rabbitmq::Publisher& publisher,
                         IntakeSettings settings, std::chrono::milliseconds interval)
    : executor_(executor),
      redis_(redis),
      publisher_(publisher),
      settings_(settings),
      interval_(interval),
      timer_(executor) {}

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
  if (!redis_.connected()) co_return;
  auto& m = ordering_metrics();
  std::array<std::string_view, 2> zcard{"ZCARD", keys::kOutbox};
  m.outbox_depth.set(static_cast<double>((co_await redis_.command(zcard)).integer));
  if (!publisher_.connected()) co_return;
  std::string lease = std::to_string(settings_.relay_lease.count());
  std::array<std::string_view, 1> claim_keys{keys::kOutbox};
  std::array<std::string_view, 3> claim_args{keys::kOutboxEntryPrefix, lease, "500"};
  Reply claimed = co_await redis_.eval(claim_script(), claim_keys, claim_args);
  for (std::size_t i = 0; i + 1 < claimed.elements.size(); i += 2) {
    const std::string& order_id = claimed.elements[i].str;
    // Publish with confirm, one after another: the relay handles the exceptions, not the bulk.
    auto event_id_at = claimed.elements[i + 1].str.find("\"id\":\"");
    std::string event_id = claimed.elements[i + 1].str.substr(event_id_at + 6, 36);
    rabbitmq::Message message{"orders", "order.created", event_id, "order.created", claimed.elements[i + 1].str};
    auto outcome = co_await publisher_.publish(std::move(message));
    m.confirms.with({rabbitmq::to_string(outcome)}).inc();
    if (outcome != rabbitmq::PublishOutcome::kConfirmed) continue;  // the lease expires; tried again
    m.republished.inc();
    std::string entry = keys::outbox_entry(order_id);
    std::array<std::string_view, 2> confirm_keys{keys::kOutbox, entry};
    std::array<std::string_view, 1> confirm_args{order_id};
    co_await redis_.eval(confirm_script(), confirm_keys, confirm_args);
  }
}

}  // namespace orders::ordering
