#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/problem.hpp"

namespace orders::ordering {

struct RequestedItem {
  std::string product_id;  // canonical lower-case UUID
  std::int64_t quantity = 0;
};

// A validated POST /api/orders.
struct OrderRequest {
  std::string user_id;
  std::vector<RequestedItem> items;
  std::optional<std::string> idempotency_key;
};

inline constexpr std::size_t kMaxItems = 50;
inline constexpr std::int64_t kMaxQuantity = 1000;
inline constexpr std::size_t kMaxUserIdLength = 64;
inline constexpr std::size_t kMaxIdempotencyKeyLength = 255;

bool is_valid_user_id(std::string_view user_id);
// 1-255 printable ASCII characters (the IETF draft's key is an sf-string).
bool is_valid_idempotency_key(std::string_view key);

// Body and Idempotency-Key header to a request, or every problem with the field it concerns.
Outcome<OrderRequest> parse_order_request(std::string_view body, std::optional<std::string_view> idempotency_key);

// The fingerprint of the canonical request: the user and the items sorted by product, so the
// same purchase with its items in another order or other JSON spacing is the same request.
std::string fingerprint(const OrderRequest& request);

}  // namespace orders::ordering
