#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Redis keys of the purchase in cluster mode (docs/architecture.md, "Orders across slots").
// An order's own keys live in one of 64 home partitions {o:K}: its pending copy, its outbox
// entry and the partition's outbox, its transaction record, its idempotency record. The order
// id names its partition (the low 6 bits of its last byte), and the API picks the id in the
// partition of the (user, Idempotency-Key), so both lead to the same slot. The keys of a
// product are catalog/keys.hpp's {p:ID} in both modes; an order's part in a product slot is
// named after the smallest product id of its items in that slot.
namespace orders::ordering::cluster_keys {

inline constexpr int kHomePartitions = 64;

// The partition an order id names; -1 for a text too short to be one.
int partition_of(std::string_view order_id);
// The partition of a user's Idempotency-Key (FNV-1a of "user\nkey").
int partition_of_key(std::string_view user_id, std::string_view idempotency_key);
// `order_id` (a canonical UUID) with its last byte's low 6 bits set to `partition`.
std::string in_partition(std::string order_id, int partition);

inline std::string home(int partition) { return "{o:" + std::to_string(partition) + "}"; }
inline std::string home_of(std::string_view order_id) { return home(partition_of(order_id)); }

inline std::string order(std::string_view id) { return home_of(id) + ":order:" + std::string(id); }
inline std::string outbox(int partition) { return home(partition) + ":outbox"; }
inline std::string outbox_entry_prefix(int partition) { return home(partition) + ":outbox:"; }
inline std::string outbox_entry(std::string_view id) { return home_of(id) + ":outbox:" + std::string(id); }
inline std::string abandoned(std::string_view id) { return home_of(id) + ":abandoned:" + std::string(id); }
inline std::string transaction(std::string_view id) { return home_of(id) + ":txn:" + std::string(id); }
inline std::string transaction_prefix(int partition) { return home(partition) + ":txn:"; }
inline std::string transactions(int partition) { return home(partition) + ":txns"; }
// In the partition of the key (which is the order's when the API chose its id).
inline std::string idempotency(std::string_view user_id, std::string_view key) {
  return home(partition_of_key(user_id, key)) + ":idem:" + std::string(user_id) + ":" + std::string(key);
}
// For a purchase without a key: a name in the order's slot that no record ever has.
inline std::string no_idempotency(std::string_view order_id) { return home_of(order_id) + ":idem:"; }

// An order's items grouped by the slot of their product: the scripts of one product slot take
// a group at once. Groups in the order of their first item; `first` names the part.
struct SlotGroup {
  std::uint16_t slot = 0;
  std::string first;                   // the smallest product id of the group
  std::vector<std::size_t> positions;  // indexes into the order's items
};
std::vector<SlotGroup> group_by_slot(const std::vector<std::string>& product_ids);

inline std::string part(std::string_view first, std::string_view order_id) {
  return "{p:" + std::string(first) + "}:part:" + std::string(order_id);
}
inline std::string part_void(std::string_view first, std::string_view order_id) {
  return "{p:" + std::string(first) + "}:void:" + std::string(order_id);
}
inline std::string part_returned(std::string_view first, std::string_view order_id) {
  return "{p:" + std::string(first) + "}:returned:" + std::string(order_id);
}

// "product:quantity,..." as the transaction record holds the items, and back.
std::string items_text(const std::vector<std::pair<std::string, long long>>& items);
std::vector<std::pair<std::string, long long>> parse_items_text(std::string_view text);

}  // namespace orders::ordering::cluster_keys
