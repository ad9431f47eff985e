#include "ordering/refusal_check.hpp"

#include <charconv>

namespace orders::ordering {
namespace {

using Kind = ReserveReply::Kind;

// Lua's tonumber() of what our own code writes there (decimal integers); nullopt for nil or
// anything else, which the script's rules treat as "not set".
std::optional<long long> number(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  long long value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

ReserveReply refused(std::string code, std::size_t item) {
  return ReserveReply{.kind = Kind::kRefused, .code = std::move(code), .item = item};
}

}  // namespace

std::optional<ReserveReply> first_refusal(const std::vector<ItemReading>& items, std::int64_t now_ms) {
  constexpr long long kMaxTotalCents = 99999999999999;  // reserve.lua's
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].active != "1" || !number(items[i].price)) return refused("PRODUCT_NOT_FOUND", i);
  }
  long long total = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const long long price = *number(items[i].price);
    // (The quantity is at most 1000 and a price at most 12 digits: no overflow.)
    const long long line = price * items[i].quantity;
    if (line > kMaxTotalCents) return ReserveReply{.kind = Kind::kInvalid, .code = "LINE", .item = i};
    total += line;
  }
  if (total > kMaxTotalCents) return ReserveReply{.kind = Kind::kInvalid, .code = "ORDER"};
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto starts = number(items[i].starts), ends = number(items[i].ends);
    if ((starts && now_ms < *starts) || (ends && now_ms >= *ends)) return refused("SALE_NOT_ACTIVE", i);
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto max = number(items[i].max);
    if (!max) continue;
    const long long bought = number(items[i].bought).value_or(0);
    if (bought + items[i].quantity > *max) {
      ReserveReply r = refused("PURCHASE_LIMIT_EXCEEDED", i);
      r.limit = std::to_string(*max);
      r.bought = std::to_string(bought);
      r.left = r.limit;  // (as the script's reply reads: its third figure)
      return r;
    }
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string left = items[i].left.value_or("0");
    if (number(left).value_or(0) < items[i].quantity) {
      ReserveReply r = refused("OUT_OF_STOCK", i);
      r.left = left;
      r.limit = left;  // (as the script's reply reads: its third figure)
      return r;
    }
  }
  return std::nullopt;
}

}  // namespace orders::ordering
