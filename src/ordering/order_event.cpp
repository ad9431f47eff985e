#include "ordering/order_event.hpp"

#include <boost/json/parse.hpp>
#include <charconv>

#include "common/event_envelope.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "ordering/order_request.hpp"

namespace orders::ordering {
namespace json = boost::json;

namespace {

// Prices travel as JSON numbers with at most two decimals; Boost.JSON reads them as doubles or
// integers, money_from_double recovers the exact cents (below 10^13, as for doubles: no int64
// overflow for a huge integer).
std::optional<Money> money_of(const json::value& v) {
  constexpr std::int64_t kLimit = 10'000'000'000'000;
  if (v.is_int64()) {
    if (v.as_int64() <= -kLimit || v.as_int64() >= kLimit) return std::nullopt;
    return Money{v.as_int64() * 100};
  }
  if (v.is_uint64()) return std::nullopt;  // above int64: far beyond any price
  if (v.is_double()) return money_from_double(v.as_double());
  return std::nullopt;
}

std::optional<Order> order_of(const json::object& order, std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<Order> {
    if (why) *why = reason;
    return std::nullopt;
  };
  Order out;
  auto text = [&](const char* field) -> std::optional<std::string> {
    const json::value* f = order.if_contains(field);
    if (!f || !f->is_string()) return std::nullopt;
    return std::string(f->as_string());
  };
  auto id = text("id"), reference = text("referenceNo"), user = text("userId"), created = text("createdAt");
  if (!id || !uuid::is_valid(*id)) return fail("bad order id");
  if (!reference || reference->empty()) return fail("bad referenceNo");
  if (!user || !is_valid_user_id(*user)) return fail("bad userId");
  if (!created || !parse_rfc3339(*created)) return fail("bad createdAt");
  out.id = *id;
  out.reference_no = *reference;
  out.user_id = *user;
  out.created_at = *created;
  // The payment deadline (absent in orders accepted before the payment window existed).
  if (const json::value* expires = order.if_contains("expiresAt"); expires && !expires->is_null()) {
    if (!expires->is_string() || !parse_rfc3339(expires->as_string())) return fail("bad expiresAt");
    out.expires_at = std::string(expires->as_string());
  }
  // The totals the record stores are computed here, in int64 cents, from the unit prices and
  // quantities: the reservation computed the event's the same way, but a total of 16 digits
  // (50 items x 1000 x a 12-digit price) does not survive a JSON double exactly.
  const json::value* total = order.if_contains("totalPrice");
  if (!total || !total->is_number()) return fail("bad totalPrice");
  Money sum{0};

  const json::value* items = order.if_contains("items");
  if (!items || !items->is_array() || items->as_array().empty() || items->as_array().size() > kMaxItems) {
    return fail("bad items");
  }
  for (const auto& item_value : items->as_array()) {
    if (!item_value.is_object()) return fail("bad item");
    const auto& item = item_value.as_object();
    OrderLine p;
    const json::value* product = item.if_contains("productId");
    const json::value* qty = item.if_contains("quantity");
    const json::value* unit = item.if_contains("unitPrice");
    const json::value* line = item.if_contains("totalPrice");
    if (!product || !product->is_string() || !uuid::is_valid(product->as_string())) return fail("bad productId");
    if (!qty || !qty->is_int64() || qty->as_int64() < 1 || qty->as_int64() > kMaxQuantity) return fail("bad quantity");
    auto unit_money = unit ? money_of(*unit) : std::nullopt;
    if (!unit_money || !line || !line->is_number()) return fail("bad item price");
    auto line_money = checked_mul(*unit_money, qty->as_int64());
    auto next_sum = line_money ? checked_add(sum, *line_money) : std::nullopt;
    if (!next_sum) return fail("bad item price");
    sum = *next_sum;
    p.product_id = std::string(product->as_string());
    p.quantity = static_cast<int>(qty->as_int64());
    p.unit_price = *unit_money;
    p.total_price = *line_money;
    out.items.push_back(std::move(p));
  }
  if (sum.cents < 0) return fail("bad totalPrice");
  out.total_price = sum;
  return out;
}

}  // namespace

std::optional<Order> parse_order_created(std::string_view body, std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<Order> {
    if (why) *why = reason;
    return std::nullopt;
  };
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(body.data(), body.size()), ec);
  if (ec || !v.is_object()) return fail("not a JSON object");
  const auto& event = v.as_object();
  const json::value* type = event.if_contains("type");
  if (!type || !type->is_string() || type->as_string() != "order.created") return fail("not an order.created event");
  const json::value* data = event.if_contains("data");
  if (!data || !data->is_object()) return fail("no data");
  const json::value* order_value = data->as_object().if_contains("order");
  if (!order_value || !order_value->is_object()) return fail("no data.order");
  auto out = order_of(order_value->as_object(), why);
  const json::value* key = data->as_object().if_contains("idempotencyKey");
  if (out && key && key->is_string()) out->idempotency_key = std::string(key->as_string());
  return out;
}

std::optional<Order> parse_order(std::string_view order_json, std::string* why) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(order_json.data(), order_json.size()), ec);
  if (ec || !v.is_object()) {
    if (why) *why = "not a JSON object";
    return std::nullopt;
  }
  return order_of(v.as_object(), why);
}

std::string order_created_head(std::string_view event_id, std::string_view created_at) {
  return event_head(event_id, "order.created", created_at);
}

std::string worker_outcome_event_id(std::string_view order_id) {
  std::string id(order_id);
  if (id.size() == 36) id[14] = '8';
  return id;
}

std::string order_status_event(std::string_view event_id, std::string_view type, std::string_view order_id,
                               std::string_view from, std::string_view to, std::string_view reason) {
  std::string data = R"({"orderId":")" + std::string(order_id) + R"(","fromStatus":")" + std::string(from) +
                     R"(","toStatus":")" + std::string(to) + "\"";
  if (!reason.empty()) data += R"(,"reason":")" + std::string(reason) + "\"";
  data += '}';
  return event_json(event_id, type, format_rfc3339(now_ms()), data);
}

}  // namespace orders::ordering
