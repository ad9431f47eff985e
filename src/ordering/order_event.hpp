#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/money.hpp"

namespace orders::ordering {

struct OrderLine {
  std::string product_id;
  int quantity = 0;
  Money unit_price;
  Money total_price;
};

// An order as the reservation wrote it (the pending copy in Redis, the order.created event):
// everything needed to persist it.
struct Order {
  std::string id;
  std::string reference_no;
  std::string user_id;
  std::vector<OrderLine> items;
  Money total_price;
  std::string created_at;                 // RFC 3339
  std::optional<std::string> expires_at;  // RFC 3339: the payment deadline; none: never expires
  std::optional<std::string> idempotency_key;
};

// Parses an order.created event body; nothing when it is not one we can persist (the message
// is then dead-lettered: retrying cannot fix it).
std::optional<Order> parse_order_created(std::string_view body, std::string* why = nullptr);
// The same for the order alone (the pending copy reserve.lua keeps under order:{id}).
std::optional<Order> parse_order(std::string_view order_json, std::string* why = nullptr);

// The events of an order (SPEC section 6), built once for the API, the relay, the lifecycle and
// the worker. order.created is written by reserve.lua from this head (common/event_envelope.hpp).
std::string order_created_head(std::string_view event_id, std::string_view created_at);
// The event id of the worker's outcome for an order (order.confirmed or order.failed, never both):
// the order id with the version nibble 8 (RFC 9562's custom UUID), the same for every republish,
// so consumers drop the repeats of a redelivery by message_id.
std::string worker_outcome_event_id(std::string_view order_id);
// order.confirmed, order.failed, order.cancelled, order.status_changed:
//   data {"orderId", "fromStatus", "toStatus"[, "reason"]}
std::string order_status_event(std::string_view event_id, std::string_view type, std::string_view order_id,
                               std::string_view from, std::string_view to, std::string_view reason = {});

}  // namespace orders::ordering
