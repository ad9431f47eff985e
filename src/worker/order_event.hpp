#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/money.hpp"

namespace orders::worker {

struct PersistItem {
  std::string product_id;
  int quantity = 0;
  Money unit_price;
  Money total_price;
};

// What an order.created event carries: everything needed to persist the order.
struct PersistOrder {
  std::string id;
  std::string reference_no;
  std::string user_id;
  std::vector<PersistItem> items;
  Money total_price;
  std::string created_at;  // RFC 3339
  std::optional<std::string> idempotency_key;
};

// Parses an order.created event body; nothing when it is not one we can persist (the message
// is then dead-lettered: retrying cannot fix it).
std::optional<PersistOrder> parse_order_created(std::string_view body, std::string* why = nullptr);

}  // namespace orders::worker
