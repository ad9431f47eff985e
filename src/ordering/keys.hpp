#pragma once

#include <string>
#include <string_view>

#include "catalog/keys.hpp"

// Redis keys of the purchase path. A product's keys share its hash tag {p:ID} (catalog/keys.hpp).
namespace orders::ordering::keys {

inline std::string buyers(std::string_view product_id) { return catalog::keys::tag(product_id) + ":buyers"; }
inline std::string order(std::string_view order_id) { return "order:" + std::string(order_id); }
// Set when the API gave up an order whose reservation reply it lost (reserve_abandon.lua).
inline std::string abandoned(std::string_view order_id) { return "abandoned:" + std::string(order_id); }
// Set once an order's units went back to the counters (return_units.lua); kept 30 days.
inline std::string returned(std::string_view order_id) { return "returned:" + std::string(order_id); }
inline constexpr long long kReturnedMarkerTtlSeconds = 30LL * 24 * 3600;
inline std::string idempotency(std::string_view user_id, std::string_view key) {
  return "idem:" + std::string(user_id) + ":" + std::string(key);
}
inline constexpr std::string_view kOutbox = "outbox";
inline constexpr std::string_view kOutboxEntryPrefix = "outbox:";
inline std::string outbox_entry(std::string_view order_id) {
  return std::string(kOutboxEntryPrefix) + std::string(order_id);
}

}  // namespace orders::ordering::keys
