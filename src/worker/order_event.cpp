#include "worker/order_event.hpp"

#include <boost/json/parse.hpp>
#include <charconv>

#include "common/time.hpp"
#include "common/uuid.hpp"
#include "ordering/order_request.hpp"

namespace orders::worker {
namespace json = boost::json;

namespace {

// Prices travel as JSON numbers with at most two decimals; Boost.JSON reads them as doubles or
// integers, money_from_double recovers the exact cents.
std::optional<Money> money_of(const json::value& v) {
  if (v.is_int64()) return Money{v.as_int64() * 100};
  if (v.is_uint64()) return Money{static_cast<std::int64_t>(v.as_uint64()) * 100};
  if (v.is_double()) return money_from_double(v.as_double());
  return std::nullopt;
}

}  // namespace

std::optional<PersistOrder> parse_order_created(std::string_view body, std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<PersistOrder> {
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
  const auto& order = order_value->as_object();

  PersistOrder out;
  auto text = [&](const char* field) -> std::optional<std::string> {
    const json::value* f = order.if_contains(field);
    if (!f || !f->is_string()) return std::nullopt;
    return std::string(f->as_string());
  };
  auto id = text("id"), reference = text("referenceNo"), user = text("userId"), created = text("createdAt");
  if (!id || !uuid::is_valid(*id)) return fail("bad order id");
  if (!reference || reference->empty()) return fail("bad referenceNo");
  if (!user || !ordering::is_valid_user_id(*user)) return fail("bad userId");
  if (!created || !parse_rfc3339(*created)) return fail("bad createdAt");
  out.id = *id;
  out.reference_no = *reference;
  out.user_id = *user;
  out.created_at = *created;
  const json::value* total = order.if_contains("totalPrice");
  auto total_money = total ? money_of(*total) : std::nullopt;
  if (!total_money || total_money->cents < 0) return fail("bad totalPrice");
  out.total_price = *total_money;

  const json::value* items = order.if_contains("items");
  if (!items || !items->is_array() || items->as_array().empty() || items->as_array().size() > ordering::kMaxItems) {
    return fail("bad items");
  }
  for (const auto& item_value : items->as_array()) {
    if (!item_value.is_object()) return fail("bad item");
    const auto& item = item_value.as_object();
    PersistItem p;
    const json::value* product = item.if_contains("productId");
    const json::value* qty = item.if_contains("quantity");
    const json::value* unit = item.if_contains("unitPrice");
    const json::value* line = item.if_contains("totalPrice");
    if (!product || !product->is_string() || !uuid::is_valid(product->as_string())) return fail("bad productId");
    if (!qty || !qty->is_int64() || qty->as_int64() < 1 || qty->as_int64() > ordering::kMaxQuantity)
      return fail("bad quantity");
    auto unit_money = unit ? money_of(*unit) : std::nullopt;
    auto line_money = line ? money_of(*line) : std::nullopt;
    if (!unit_money || !line_money) return fail("bad item price");
    p.product_id = std::string(product->as_string());
    p.quantity = static_cast<int>(qty->as_int64());
    p.unit_price = *unit_money;
    p.total_price = *line_money;
    out.items.push_back(std::move(p));
  }
  const json::value* key = data->as_object().if_contains("idempotencyKey");
  if (key && key->is_string()) out.idempotency_key = std::string(key->as_string());
  return out;
}

}  // namespace orders::worker
