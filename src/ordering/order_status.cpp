#include "ordering/order_status.hpp"

#include <array>
#include <utility>

namespace orders::ordering {
namespace {

constexpr std::array<std::pair<OrderStatus, OrderStatus>, 5> kTransitions{{
    {OrderStatus::kPending, OrderStatus::kConfirmed},
    {OrderStatus::kConfirmed, OrderStatus::kCompleted},
    {OrderStatus::kPending, OrderStatus::kCancelled},
    {OrderStatus::kConfirmed, OrderStatus::kCancelled},
    {OrderStatus::kPending, OrderStatus::kFailed},
}};

constexpr std::array<std::pair<OrderStatus, std::string_view>, 5> kNames{{
    {OrderStatus::kPending, "PENDING"},
    {OrderStatus::kConfirmed, "CONFIRMED"},
    {OrderStatus::kCompleted, "COMPLETED"},
    {OrderStatus::kCancelled, "CANCELLED"},
    {OrderStatus::kFailed, "FAILED"},
}};

}  // namespace

std::string_view to_string(OrderStatus status) {
  for (const auto& [s, name] : kNames) {
    if (s == status) return name;
  }
  return "UNKNOWN";
}

std::optional<OrderStatus> parse_status(std::string_view text) {
  for (const auto& [s, name] : kNames) {
    if (name == text) return s;
  }
  return std::nullopt;
}

bool can_transition(OrderStatus from, OrderStatus to) {
  for (const auto& [f, t] : kTransitions) {
    if (f == from && t == to) return true;
  }
  return false;
}

bool api_may_set(OrderStatus from, OrderStatus to) {
  return can_transition(from, to) && to != OrderStatus::kConfirmed && to != OrderStatus::kFailed;
}

}  // namespace orders::ordering
