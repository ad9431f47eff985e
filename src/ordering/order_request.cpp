#include "ordering/order_request.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <cstdio>
#include <set>

#include "common/json_body.hpp"
#include "common/uuid.hpp"

namespace orders::ordering {
namespace json = boost::json;

bool is_valid_user_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxUserIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '@' || c == '-';
  });
}

bool is_valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxIdempotencyKeyLength) return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

Outcome<OrderRequest> parse_order_request(std::string_view text, std::optional<std::string_view> idempotency_key) {
  JsonBody body = JsonBody::parse(text);
  std::vector<FieldError> errors = body.errors();
  OrderRequest request;
  if (idempotency_key) {
    if (is_valid_idempotency_key(*idempotency_key)) request.idempotency_key = std::string(*idempotency_key);
    else errors.push_back({"Idempotency-Key", "must be 1 to 255 printable ASCII characters"});
  }
  if (!body.is_object()) return invalid_fields(std::move(errors));
  body.reject_unknown({"userId", "items"});

  auto user = body.string("userId", Presence::kRequired, 1, kMaxUserIdLength);
  if (user && !is_valid_user_id(*user)) body.add_error("userId", "must be 1 to 64 characters of A-Z a-z 0-9 _ . @ -");
  else if (user) request.user_id = *user;

  const json::value* items = body.object().if_contains("items");
  if (!items || items->is_null()) {
    body.add_error("items", "is required");
  } else if (!items->is_array()) {
    body.add_error("items", "must be an array");
  } else if (items->as_array().empty() || items->as_array().size() > kMaxItems) {
    body.add_error("items", "must hold 1 to " + std::to_string(kMaxItems) + " items");
  } else {
    std::set<std::string> seen;
    const auto& array = items->as_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      const std::string at = "items[" + std::to_string(i) + "]";
      if (!array[i].is_object()) {
        body.add_error(at, "must be an object {productId, quantity}");
        continue;
      }
      const auto& o = array[i].as_object();
      for (const auto& [key, value] : o) {
        if (key != "productId" && key != "quantity") body.add_error(at + "." + std::string(key), "is not allowed");
      }
      RequestedItem item;
      const json::value* id = o.if_contains("productId");
      std::optional<std::string> product;
      if (id && id->is_string()) product = uuid::normalize(id->as_string());
      if (!product) body.add_error(at + ".productId", "must be a UUID");
      else if (!seen.insert(*product).second) body.add_error(at + ".productId", "appears twice; one line per product");
      else item.product_id = *product;
      const json::value* qty = o.if_contains("quantity");
      std::optional<std::int64_t> quantity;
      if (qty && qty->is_int64()) quantity = qty->as_int64();
      if (!quantity || *quantity < 1 || *quantity > kMaxQuantity) {
        body.add_error(at + ".quantity", "must be an integer from 1 to " + std::to_string(kMaxQuantity));
      } else {
        item.quantity = *quantity;
      }
      request.items.push_back(std::move(item));
    }
  }
  errors.insert(errors.end(), body.errors().begin(), body.errors().end());
  if (!errors.empty()) return invalid_fields(std::move(errors));
  return request;
}

std::string fingerprint(const OrderRequest& request) {
  std::vector<const RequestedItem*> sorted;
  for (const auto& item : request.items) sorted.push_back(&item);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->product_id < b->product_id; });
  std::string canonical = request.user_id;
  for (const auto* item : sorted) canonical += '|' + item->product_id + ':' + std::to_string(item->quantity);
  // Two 64-bit FNV-1a hashes with different offsets: a collision needs both to collide.
  std::uint64_t a = 1469598103934665603ULL, b = 0x84222325cbf29ce4ULL;
  for (unsigned char c : canonical) {
    a = (a ^ c) * 1099511628211ULL;
    b = (b ^ c) * 0x100000001b3ULL + 0x9e3779b97f4a7c15ULL;
  }
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return out;
}

}  // namespace orders::ordering
