#include "ordering/refusal_check.hpp"

#include <charconv>
#include <cstddef>
#include <iterator>
#include <utility>

#include "catalog/keys.hpp"
#include "ordering/keys.hpp"

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

std::optional<ReserveReply> first_refusal(const std::vector<ItemReading>& items, std::int64_t now_ms,
                                          bool order_total) {
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
  if (order_total && total > kMaxTotalCents) return ReserveReply{.kind = Kind::kInvalid, .code = "ORDER"};
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

RulesReading::RulesReading(const std::vector<std::vector<std::string>>& leading,
                           const std::vector<std::string>& sale_names, const std::string& user_id)
    : leading_(leading.size()), items_(sale_names.size()) {
  // Every text first, then the views (nothing reallocates under them).
  std::size_t count = 1 + sale_names.size() * 3;
  for (const auto& c : leading) count += c.size();
  names_.reserve(count);
  for (const auto& c : leading) names_.insert(names_.end(), c.begin(), c.end());
  for (const auto& name : sale_names) {
    names_.push_back(catalog::keys::info(name));
    names_.push_back(keys::buyers(name));
    names_.push_back(catalog::keys::stock(name));
  }
  names_.push_back(user_id);
  const std::string_view user = names_.back();
  std::size_t at = 0;
  for (const auto& c : leading) {
    commands_.emplace_back(names_.begin() + static_cast<std::ptrdiff_t>(at),
                           names_.begin() + static_cast<std::ptrdiff_t>(at + c.size()));
    at += c.size();
  }
  for (std::size_t i = 0; i < items_; ++i, at += 3) {
    commands_.push_back({"HMGET", names_[at], "active", "price", "max", "starts", "ends"});
    commands_.push_back({"HGET", names_[at + 1], user});
    commands_.push_back({"GET", names_[at + 2]});
  }
  commands_.push_back({"TIME"});  // last: a transaction is routed by its first command's key
}

std::optional<RulesReading::Read> RulesReading::parse(const redis::Reply& exec,
                                                      const std::vector<long long>& quantities) const {
  using Type = redis::Reply::Type;
  if (exec.type != Type::kArray || exec.elements.size() != commands_.size() || quantities.size() != items_) {
    return std::nullopt;
  }
  const auto& e = exec.elements;
  for (const auto& one : e) {
    if (one.is_error()) return std::nullopt;
  }
  Read out;
  for (std::size_t i = 0; i < leading_; ++i) out.leading.push_back(e[i].integer);
  const auto& time = e.back();
  if (time.type != Type::kArray || time.elements.size() != 2) return std::nullopt;
  const auto seconds = number(time.elements[0].str), micros = number(time.elements[1].str);
  if (!seconds || !micros) return std::nullopt;
  out.now_ms = *seconds * 1000 + *micros / 1000;
  auto value = [](const redis::Reply& v) -> std::optional<std::string> {
    if (v.type == Type::kString) return v.str;
    return std::nullopt;
  };
  out.items.resize(items_);
  for (std::size_t i = 0; i < items_; ++i) {
    const auto& info = e[leading_ + i * 3];
    if (info.type != Type::kArray || info.elements.size() != 5) return std::nullopt;
    ItemReading& item = out.items[i];
    item.quantity = quantities[i];
    item.active = value(info.elements[0]);
    item.price = value(info.elements[1]);
    item.max = value(info.elements[2]);
    item.starts = value(info.elements[3]);
    item.ends = value(info.elements[4]);
    item.bought = value(e[leading_ + i * 3 + 1]);
    item.left = value(e[leading_ + i * 3 + 2]);
  }
  return out;
}

std::vector<std::vector<std::string_view>> group_commands(std::span<const RulesReading* const> group) {
  std::vector<std::vector<std::string_view>> commands;
  for (const RulesReading* reading : group) {
    const auto own = reading->commands();
    commands.insert(commands.end(), own.begin(), own.end() - 1);  // all but its TIME
  }
  commands.push_back({"TIME"});
  return commands;
}

std::vector<redis::Reply> split_group_reply(std::span<const RulesReading* const> group, redis::Reply exec) {
  std::size_t expected = 1;
  for (const RulesReading* reading : group) expected += reading->commands().size() - 1;
  std::vector<redis::Reply> parts(group.size());
  if (exec.type != redis::Reply::Type::kArray || exec.elements.size() != expected) {
    for (auto& part : parts) part = exec;
    return parts;
  }
  auto next = exec.elements.begin();
  for (std::size_t i = 0; i < group.size(); ++i) {
    const auto count = static_cast<std::ptrdiff_t>(group[i]->commands().size()) - 1;
    parts[i].type = redis::Reply::Type::kArray;
    parts[i].elements.reserve(static_cast<std::size_t>(count) + 1);
    parts[i].elements.insert(parts[i].elements.end(), std::make_move_iterator(next),
                             std::make_move_iterator(next + count));
    parts[i].elements.push_back(exec.elements.back());
    next += count;
  }
  return parts;
}

bool RefusalHint::likely(const OrderRequest& request) const {
  if (refused_.empty()) return false;
  for (const auto& item : request.items) {
    if (refused_.count(item.product_id)) return true;
  }
  return false;
}

void RefusalHint::remember(const OrderRequest& request, const ReserveReply& reply) {
  if (reply.kind == Kind::kRefused && reply.code != "PURCHASE_LIMIT_EXCEEDED" && reply.item < request.items.size()) {
    if (refused_.size() >= 10'000) refused_.clear();
    refused_.insert(request.items[reply.item].product_id);
  } else if (reply.kind == Kind::kAccepted) {
    forget(request);
  }
}

void RefusalHint::forget(const OrderRequest& request) {
  if (refused_.empty()) return;
  for (const auto& item : request.items) refused_.erase(item.product_id);
}

}  // namespace orders::ordering
