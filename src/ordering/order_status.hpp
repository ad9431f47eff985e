#pragma once

#include <optional>
#include <string_view>

namespace orders::ordering {

enum class OrderStatus { kPending, kConfirmed, kPaid, kCompleted, kCancelled, kFailed, kExpired };

std::string_view to_string(OrderStatus status);
std::optional<OrderStatus> parse_status(std::string_view text);

// The lifecycle of SPEC section 4, as data: PENDING → CONFIRMED → PAID → COMPLETED (CONFIRMED →
// COMPLETED for orders without a payment window); PENDING → PAID (paid before a worker persisted
// it); PENDING or CONFIRMED → CANCELLED; PENDING → FAILED; PENDING or CONFIRMED → EXPIRED.
bool can_transition(OrderStatus from, OrderStatus to);
// What the API may set: CONFIRMED and FAILED are the worker's to set, EXPIRED the sweeper's.
bool api_may_set(OrderStatus from, OrderStatus to);

}  // namespace orders::ordering
