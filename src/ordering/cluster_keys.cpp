#include "ordering/cluster_keys.hpp"

#include <algorithm>
#include <charconv>

#include "catalog/keys.hpp"
#include "storage/redis/cluster_slots.hpp"

namespace orders::ordering::cluster_keys {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

int partition_of(std::string_view order_id) {
  if (order_id.size() < 2) return -1;
  const int hi = hex_value(order_id[order_id.size() - 2]);
  const int lo = hex_value(order_id[order_id.size() - 1]);
  if (hi < 0 || lo < 0) return -1;
  return (hi * 16 + lo) % kHomePartitions;
}

int partition_of_key(std::string_view user_id, std::string_view idempotency_key) {
  std::uint32_t h = 2166136261u;
  auto mix = [&](std::string_view s) {
    for (char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 16777619u;
    }
  };
  mix(user_id);
  mix("\n");
  mix(idempotency_key);
  return static_cast<int>(h % kHomePartitions);
}

std::string in_partition(std::string order_id, int partition) {
  if (order_id.size() < 2) return order_id;
  const int hi = hex_value(order_id[order_id.size() - 2]);
  const int lo = hex_value(order_id[order_id.size() - 1]);
  if (hi < 0 || lo < 0) return order_id;
  const int byte = ((hi * 16 + lo) & ~(kHomePartitions - 1)) | (partition & (kHomePartitions - 1));
  static constexpr char kHex[] = "0123456789abcdef";
  order_id[order_id.size() - 2] = kHex[byte >> 4];
  order_id[order_id.size() - 1] = kHex[byte & 15];
  return order_id;
}

std::vector<SlotGroup> group_by_slot(const std::vector<std::string>& product_ids) {
  std::vector<SlotGroup> groups;
  for (std::size_t i = 0; i < product_ids.size(); ++i) {
    const std::uint16_t slot = redis::key_slot(catalog::keys::stock(product_ids[i]));
    auto it = std::find_if(groups.begin(), groups.end(), [&](const SlotGroup& g) { return g.slot == slot; });
    if (it == groups.end()) {
      groups.push_back(SlotGroup{slot, product_ids[i], {i}});
    } else {
      it->positions.push_back(i);
      if (product_ids[i] < it->first) it->first = product_ids[i];
    }
  }
  return groups;
}

std::string items_text(const std::vector<std::pair<std::string, long long>>& items) {
  std::string out;
  for (const auto& [product, quantity] : items) {
    if (!out.empty()) out += ',';
    out += product + ':' + std::to_string(quantity);
  }
  return out;
}

std::vector<std::pair<std::string, long long>> parse_items_text(std::string_view text) {
  std::vector<std::pair<std::string, long long>> items;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    const std::size_t colon = item.rfind(':');
    if (colon != std::string_view::npos) {
      long long quantity = 0;
      std::string_view digits = item.substr(colon + 1);
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), quantity);
      if (ec == std::errc() && ptr == digits.data() + digits.size()) {
        items.emplace_back(std::string(item.substr(0, colon)), quantity);
      }
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

}  // namespace orders::ordering::cluster_keys
