#include "ordering/redis_stock_gate.hpp"

#include <array>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/keys.hpp"
#include "ordering/keys.hpp"
#include "ordering/refusal_check.hpp"

namespace orders::ordering {
namespace asio = boost::asio;
using redis::Reply;
using Kind = ReserveReply::Kind;

namespace {

// A reply element as text (Lua numbers come back as integers, strings as strings).
std::string text_of(const Reply& r) { return r.type == Reply::Type::kInteger ? std::to_string(r.integer) : r.str; }

ReserveReply parse_reserve_reply(Reply& reply) {
  if (reply.is_error() && reply.str.find("OOM command not allowed") != std::string::npos) {
    return ReserveReply{.kind = Kind::kOutOfMemory, .code = reply.str};
  }
  if (reply.is_error() || reply.type != Reply::Type::kArray || reply.elements.empty()) {
    throw std::runtime_error("reserve script failed: " + reply.str);
  }
  auto& e = reply.elements;
  const std::string& kind = e[0].str;
  auto at = [&](std::size_t i) { return i < e.size() ? text_of(e[i]) : std::string(); };
  auto item = [&](std::size_t i) -> std::size_t {
    return i < e.size() && e[i].type == Reply::Type::kInteger && e[i].integer >= 1 ? e[i].integer - 1 : 0;
  };
  if (kind == "REFUSED") {
    return ReserveReply{
        .kind = Kind::kRefused, .code = at(1), .item = item(2), .limit = at(3), .bought = at(4), .left = at(3)};
  }
  if (kind == "ACCEPTED" && e.size() >= 4) {
    return ReserveReply{.kind = Kind::kAccepted,
                        .order_json = std::move(e[1].str),
                        .lease_deadline = std::move(e[2].str),
                        .event = std::move(e[3].str)};
  }
  if (kind == "REPLAY" && e.size() >= 2) return ReserveReply{.kind = Kind::kReplay, .order_json = std::move(e[1].str)};
  if (kind == "INVALID") return ReserveReply{.kind = Kind::kInvalid, .code = at(1), .item = item(2)};
  if (kind == "IN_PROGRESS") return ReserveReply{.kind = Kind::kInProgress};
  if (kind == "KEY_REUSED") return ReserveReply{.kind = Kind::kKeyReused};
  if (kind == "ABANDONED") return ReserveReply{.kind = Kind::kAbandoned};
  throw std::runtime_error("reserve script: unexpected reply " + kind);
}

}  // namespace

asio::awaitable<ReserveReply> RedisStockGate::reserve(const Reservation& r) {
  const OrderRequest& request = *r.request;
  const std::string idem_key = request.idempotency_key.value_or("");
  const std::string lease = std::to_string(settings_.outbox_lease.count());
  const std::string idem_ttl = std::to_string(settings_.idempotency_ttl.count());
  const std::string order_ttl = std::to_string(settings_.pending_order_ttl.count());
  const std::string created_ms = std::to_string(r.created_ms);
  const std::string window = settings_.default_payment_window.count() > 0
                                 ? std::to_string(settings_.default_payment_window.count())
                                 : "";

  std::vector<std::string> key_storage;
  key_storage.reserve(5 + request.items.size() * 3);
  key_storage.push_back(keys::idempotency(request.user_id, idem_key));
  key_storage.push_back(keys::order(r.order_id));
  key_storage.emplace_back(keys::kOutbox);
  key_storage.push_back(keys::outbox_entry(r.order_id));
  key_storage.push_back(keys::abandoned(r.order_id));
  std::vector<std::string> quantities;
  quantities.reserve(request.items.size());
  for (const auto& item : request.items) {
    key_storage.push_back(catalog::keys::stock(item.product_id));
    key_storage.push_back(catalog::keys::info(item.product_id));
    key_storage.push_back(keys::buyers(item.product_id));
    quantities.push_back(std::to_string(item.quantity));
  }
  std::vector<std::string_view> script_keys(key_storage.begin(), key_storage.end());
  std::vector<std::string_view> args{request.user_id, idem_key, r.fingerprint, r.order_id, r.reference_no, r.created_at,
                                     r.event_head,    lease,    idem_ttl,      order_ttl,  created_ms,     window};
  for (std::size_t i = 0; i < request.items.size(); ++i) {
    args.push_back(request.items[i].product_id);
    args.push_back(quantities[i]);
  }
  Reply reply = co_await redis_.eval(redis::script("reserve"), script_keys, args);
  ReserveReply decided = parse_reserve_reply(reply);
  refusals_.remember(request, decided);
  co_return decided;
}

asio::awaitable<std::optional<ReserveReply>> RedisStockGate::known_refusal(const OrderRequest& request) {
  if (!refusals_.likely(request)) co_return std::nullopt;
  std::vector<std::string> sale_names;
  std::vector<long long> quantities;
  for (const auto& item : request.items) {
    sale_names.push_back(item.product_id);
    quantities.push_back(item.quantity);
  }
  // A key with a record is the script's to answer (a replay, in progress, reused). (No
  // abandoned marker to look for: the order id is new, and only a lost script sets one.)
  std::vector<std::vector<std::string>> markers;
  if (request.idempotency_key) {
    markers.push_back({"EXISTS", keys::idempotency(request.user_id, *request.idempotency_key)});
  }
  // Shared with the group that sends it, which may outlive this call (a cancelled wait).
  const auto reading = std::make_shared<const RulesReading>(markers, sale_names, request.user_id);
  Reply exec = co_await readings_.add(reading);
  std::optional<RulesReading::Read> read = reading->parse(exec, quantities);
  if (!read || (!read->leading.empty() && read->leading[0] != 0)) co_return std::nullopt;
  std::optional<ReserveReply> refusal = first_refusal(read->items, read->now_ms);
  if (!refusal) refusals_.forget(request);  // it would sell: the script decides
  co_return refusal;
}

asio::awaitable<std::vector<Reply>> RedisStockGate::read_group(const std::vector<Reading>& group) {
  std::vector<const RulesReading*> readings;
  for (const Reading& reading : group) readings.push_back(reading.get());
  const std::vector<std::vector<std::string_view>> commands = group_commands(readings);
  Reply exec = co_await redis_.transaction(commands);
  co_return split_group_reply(readings, std::move(exec));
}

asio::awaitable<void> RedisStockGate::confirm(const std::string& order_id) { co_await confirms_.add(order_id); }

asio::awaitable<void> RedisStockGate::confirm_group(const std::vector<std::string>& ids) {
  std::vector<std::string> entries;
  entries.reserve(ids.size());
  for (const auto& id : ids) entries.push_back(keys::outbox_entry(id));
  std::vector<std::string_view> confirm_keys{keys::kOutbox};
  confirm_keys.insert(confirm_keys.end(), entries.begin(), entries.end());
  const std::vector<std::string_view> confirm_args(ids.begin(), ids.end());
  Reply r = co_await redis_.eval(redis::script("outbox_confirm"), confirm_keys, confirm_args);
  if (r.is_error()) throw std::runtime_error("outbox_confirm failed: " + r.str);
}

asio::awaitable<bool> RedisStockGate::release(const Reservation& r, const std::string& lease_deadline) {
  const OrderRequest& request = *r.request;
  std::vector<std::string> key_storage{std::string(keys::kOutbox), keys::outbox_entry(r.order_id),
                                       keys::order(r.order_id)};
  std::vector<std::string> quantities;
  for (const auto& item : request.items) {
    key_storage.push_back(catalog::keys::stock(item.product_id));
    key_storage.push_back(keys::buyers(item.product_id));
    quantities.push_back(std::to_string(item.quantity));
  }
  std::vector<std::string_view> release_keys(key_storage.begin(), key_storage.end());
  std::vector<std::string_view> release_args{r.order_id, lease_deadline, request.user_id};
  for (const auto& q : quantities) release_args.push_back(q);
  Reply released = co_await redis_.eval(redis::script("outbox_release"), release_keys, release_args);
  if (released.is_error()) throw std::runtime_error("outbox_release failed: " + released.str);
  co_return released.integer == 1;
}

asio::awaitable<std::optional<std::string>> RedisStockGate::abandon(const std::string& order_id) {
  const std::string order_key = keys::order(order_id);
  const std::string marker_key = keys::abandoned(order_id);
  std::array<std::string_view, 2> resolve_keys{order_key, marker_key};
  const std::string marker_ttl = std::to_string(std::chrono::seconds(std::chrono::hours(1)).count());
  std::array<std::string_view, 1> resolve_args{marker_ttl};
  Reply r = co_await redis_.eval(redis::script("reserve_abandon"), resolve_keys, resolve_args);
  if (r.type == Reply::Type::kString) co_return std::move(r.str);
  if (r.is_error()) throw std::runtime_error(r.str);
  co_return std::nullopt;
}

asio::awaitable<std::optional<std::string>> RedisStockGate::pending_order(const std::string& order_id) {
  std::string key = keys::order(order_id);
  std::array<std::string_view, 2> get{"GET", key};
  Reply r = co_await redis_.command(get);
  if (r.type != Reply::Type::kString) co_return std::nullopt;
  co_return std::move(r.str);
}

asio::awaitable<void> RedisStockGate::return_units(const OrderUnits& units) {
  const ScriptCall call = return_units_call(units);
  std::vector<std::string_view> script_keys(call.keys.begin(), call.keys.end());
  std::vector<std::string_view> script_args(call.args.begin(), call.args.end());
  Reply returned = co_await redis_.eval(redis::script("return_units"), script_keys, script_args);
  if (returned.is_error()) throw std::runtime_error("returning units of " + units.order_id + ": " + returned.str);
}

asio::awaitable<std::vector<std::pair<std::string, std::string>>> RedisStockGate::claim_due(long long lease_ms,
                                                                                            int batch) {
  const std::string lease = std::to_string(lease_ms);
  const std::string count = std::to_string(batch);
  std::array<std::string_view, 1> claim_keys{keys::kOutbox};
  std::array<std::string_view, 3> claim_args{keys::kOutboxEntryPrefix, lease, count};
  Reply claimed = co_await redis_.eval(redis::script("outbox_claim"), claim_keys, claim_args);
  if (claimed.is_error()) throw std::runtime_error("outbox_claim failed: " + claimed.str);
  std::vector<std::pair<std::string, std::string>> due;
  for (std::size_t i = 0; i + 1 < claimed.elements.size(); i += 2) {
    due.emplace_back(std::move(claimed.elements[i].str), std::move(claimed.elements[i + 1].str));
  }
  co_return due;
}

asio::awaitable<long long> RedisStockGate::outbox_depth() {
  std::array<std::string_view, 2> zcard{"ZCARD", keys::kOutbox};
  co_return (co_await redis_.command(zcard)).integer;
}

}  // namespace orders::ordering
