#include "ordering/order_status.hpp"

#include <array>
#include <utility>

namespace orders::ordering {
namespace {

using S = OrderStatus;

constexpr std::array<std::pair<S, S>, 10> kTransitions{{
    {S::kPending, S::kConfirmed},
    {S::kConfirmed, S::kPaid},
    {S::kPending, S::kPaid},
    {S::kPaid, S::kCompleted},
    {S::kConfirmed, S::kCompleted},
    {S::kPending, S::kCancelled},
    {S::kConfirmed, S::kCancelled},
    {S::kPending, S::kFailed},
    {S::kPending, S::kExpired},
    {S::kConfirmed, S::kExpired},
}};

constexpr std::array<std::pair<S, std::string_view>, 7> kNames{{
    {S::kPending, "PENDING"},
    {S::kConfirmed, "CONFIRMED"},
    {S::kPaid, "PAID"},
    {S::kCompleted, "COMPLETED"},
    {S::kCancelled, "CANCELLED"},
    {S::kFailed, "FAILED"},
    {S::kExpired, "EXPIRED"},
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
  return can_transition(from, to) && to != S::kConfirmed && to != S::kFailed && to != S::kExpired;
}

}  // namespace orders::ordering
