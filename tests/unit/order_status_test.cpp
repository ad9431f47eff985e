#include <gtest/gtest.h>

#include <set>

#include "ordering/order_status.hpp"

using namespace orders::ordering;

TEST(OrderStatus, NamesRoundTrip) {
  for (auto s : {OrderStatus::kPending, OrderStatus::kConfirmed, OrderStatus::kCompleted, OrderStatus::kCancelled,
                 OrderStatus::kFailed}) {
    EXPECT_EQ(parse_status(to_string(s)), s);
  }
  EXPECT_FALSE(parse_status("SHIPPED"));
  EXPECT_FALSE(parse_status("pending"));
}

TEST(OrderStatus, EveryTransitionIsAllowedOnlyWhenTheSpecSaysSo) {
  const std::set<std::pair<std::string_view, std::string_view>> allowed = {{"PENDING", "CONFIRMED"},
                                                                           {"CONFIRMED", "COMPLETED"},
                                                                           {"PENDING", "CANCELLED"},
                                                                           {"CONFIRMED", "CANCELLED"},
                                                                           {"PENDING", "FAILED"}};
  const OrderStatus all[] = {OrderStatus::kPending, OrderStatus::kConfirmed, OrderStatus::kCompleted,
                             OrderStatus::kCancelled, OrderStatus::kFailed};
  for (auto from : all) {
    for (auto to : all) {
      EXPECT_EQ(can_transition(from, to), allowed.count({to_string(from), to_string(to)}) == 1)
          << to_string(from) << " -> " << to_string(to);
    }
  }
}
