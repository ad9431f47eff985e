#include <gtest/gtest.h>

#include <set>

#include "ordering/order_status.hpp"

using namespace orders::ordering;

namespace {

constexpr OrderStatus kAll[] = {OrderStatus::kPending,   OrderStatus::kConfirmed, OrderStatus::kPaid,
                                OrderStatus::kCompleted, OrderStatus::kCancelled, OrderStatus::kFailed,
                                OrderStatus::kExpired};

}  // namespace

TEST(OrderStatus, NamesRoundTrip) {
  for (auto s : kAll) EXPECT_EQ(parse_status(to_string(s)), s);
  EXPECT_FALSE(parse_status("SHIPPED"));
  EXPECT_FALSE(parse_status("pending"));
}

TEST(OrderStatus, EveryTransitionIsAllowedOnlyWhenTheSpecSaysSo) {
  const std::set<std::pair<std::string_view, std::string_view>> allowed = {
      {"PENDING", "CONFIRMED"},   {"CONFIRMED", "PAID"},    {"PENDING", "PAID"},        {"PAID", "COMPLETED"},
      {"CONFIRMED", "COMPLETED"}, {"PENDING", "CANCELLED"}, {"CONFIRMED", "CANCELLED"}, {"PENDING", "FAILED"},
      {"PENDING", "EXPIRED"},     {"CONFIRMED", "EXPIRED"}};
  for (auto from : kAll) {
    for (auto to : kAll) {
      EXPECT_EQ(can_transition(from, to), allowed.count({to_string(from), to_string(to)}) == 1)
          << to_string(from) << " -> " << to_string(to);
    }
  }
}

TEST(OrderStatus, OnlyTheSweeperExpiresAndOnlyWorkersConfirmOrFail) {
  for (auto from : kAll) {
    EXPECT_FALSE(api_may_set(from, OrderStatus::kExpired)) << to_string(from);
    EXPECT_FALSE(api_may_set(from, OrderStatus::kConfirmed)) << to_string(from);
    EXPECT_FALSE(api_may_set(from, OrderStatus::kFailed)) << to_string(from);
  }
  EXPECT_TRUE(api_may_set(OrderStatus::kConfirmed, OrderStatus::kPaid));
  EXPECT_TRUE(api_may_set(OrderStatus::kPaid, OrderStatus::kCompleted));
  // A paid order is never expired, and an expired one never paid.
  EXPECT_FALSE(can_transition(OrderStatus::kPaid, OrderStatus::kExpired));
  EXPECT_FALSE(can_transition(OrderStatus::kExpired, OrderStatus::kPaid));
}
