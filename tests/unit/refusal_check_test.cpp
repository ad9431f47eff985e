// The read-only refusal path's rules (ordering/refusal_check.hpp) against reserve.lua's order and
// figures; tests/integration/refusal_path_test.cpp compares both on a real Redis.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ordering/refusal_check.hpp"

using orders::ordering::first_refusal;
using orders::ordering::ItemReading;
using Kind = orders::ordering::ReserveReply::Kind;

namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;

// An item on sale: active, 1.00, 5 left, no limit, no window.
ItemReading on_sale(long long quantity = 1) {
  ItemReading r;
  r.quantity = quantity;
  r.active = "1";
  r.price = "100";
  r.left = "5";
  return r;
}

}  // namespace

TEST(RefusalCheck, NoRefusalWhenEveryRuleHolds) {
  EXPECT_FALSE(first_refusal({on_sale(), on_sale(5)}, kNow).has_value());
}

TEST(RefusalCheck, SoldOutNamesTheItemAndWhatIsLeft) {
  ItemReading short_one = on_sale(3);
  short_one.left = "2";
  auto r = first_refusal({on_sale(), short_one}, kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Kind::kRefused);
  EXPECT_EQ(r->code, "OUT_OF_STOCK");
  EXPECT_EQ(r->item, 1u);
  EXPECT_EQ(r->left, "2");
  // No counter reads as 0 left, as the script's `or '0'`.
  ItemReading none = on_sale();
  none.left.reset();
  auto missing = first_refusal({none}, kNow);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->left, "0");
}

TEST(RefusalCheck, InactiveOrPricelessIsNotFoundBeforeAnythingElse) {
  ItemReading gone = on_sale();
  gone.active = "0";
  ItemReading sold_out = on_sale();
  sold_out.left = "0";
  auto r = first_refusal({sold_out, gone}, kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, "PRODUCT_NOT_FOUND");
  EXPECT_EQ(r->item, 1u);
  ItemReading no_price = on_sale();
  no_price.price.reset();
  EXPECT_EQ(first_refusal({no_price}, kNow)->code, "PRODUCT_NOT_FOUND");
  ItemReading nothing;  // no info hash at all
  nothing.quantity = 1;
  EXPECT_EQ(first_refusal({nothing}, kNow)->code, "PRODUCT_NOT_FOUND");
}

TEST(RefusalCheck, ATotalTheRecordCannotHoldIsInvalidBeforeTheSaleRules) {
  ItemReading dear = on_sale(1000);
  dear.price = "100000000000";  // 1,000,000,000.00 × 1000 > 999,999,999,999.99
  dear.left = "0";
  auto line = first_refusal({on_sale(), dear}, kNow);
  ASSERT_TRUE(line);
  EXPECT_EQ(line->kind, Kind::kInvalid);
  EXPECT_EQ(line->code, "LINE");
  EXPECT_EQ(line->item, 1u);
  ItemReading half = on_sale(1000);
  half.price = "60000000000";  // each line fits, the two do not
  auto order = first_refusal({half, half}, kNow);
  ASSERT_TRUE(order);
  EXPECT_EQ(order->kind, Kind::kInvalid);
  EXPECT_EQ(order->code, "ORDER");
}

TEST(RefusalCheck, SaleWindowComesBeforeTheLimitAndTheStock) {
  ItemReading early = on_sale();
  early.starts = std::to_string(kNow + 1);
  early.max = "1";
  early.bought = "1";
  early.left = "0";
  EXPECT_EQ(first_refusal({early}, kNow)->code, "SALE_NOT_ACTIVE");
  ItemReading over = on_sale();
  over.ends = std::to_string(kNow);  // ends is exclusive
  EXPECT_EQ(first_refusal({over}, kNow)->code, "SALE_NOT_ACTIVE");
  ItemReading open = on_sale();
  open.starts = std::to_string(kNow);
  open.ends = std::to_string(kNow + 1);
  EXPECT_FALSE(first_refusal({open}, kNow).has_value());
}

TEST(RefusalCheck, TheLimitComesBeforeTheStockWithTheLimitAndWhatTheUserHas) {
  ItemReading limited = on_sale(2);
  limited.max = "3";
  limited.bought = "2";
  limited.left = "0";
  auto r = first_refusal({limited}, kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, "PURCHASE_LIMIT_EXCEEDED");
  EXPECT_EQ(r->limit, "3");
  EXPECT_EQ(r->bought, "2");
  limited.bought.reset();  // no purchases yet: 0 + 2 <= 3, so the stock decides
  EXPECT_EQ(first_refusal({limited}, kNow)->code, "OUT_OF_STOCK");
}

namespace {

using orders::ordering::RulesReading;
using orders::redis::Reply;

Reply integer(long long value) {
  Reply r;
  r.type = Reply::Type::kInteger;
  r.integer = value;
  return r;
}

// The reply Redis gives `commands` in a MULTI: each command's reply an integer naming its
// position, TIME's two texts last.
Reply numbered_exec(std::size_t commands) {
  Reply exec;
  exec.type = Reply::Type::kArray;
  for (std::size_t i = 0; i + 1 < commands; ++i) exec.elements.push_back(integer(static_cast<long long>(i)));
  Reply time;
  time.type = Reply::Type::kArray;
  time.elements.resize(2);
  time.elements[0].type = time.elements[1].type = Reply::Type::kString;
  time.elements[0].str = "1800000000";
  time.elements[1].str = "5000";
  exec.elements.push_back(time);
  return exec;
}

}  // namespace

TEST(RefusalCheck, AGroupOfReadingsIsOneMultiWithOneTimeAndEachGetsItsOwnSlice) {
  const RulesReading keyed({{"EXISTS", "idem:u1:k"}}, {"p1"}, "u1");  // 1 + 3 + TIME
  const RulesReading two({}, {"p1", "p2"}, "u2");                     // 6 + TIME
  const RulesReading one({}, {"p3"}, "u3");                           // 3 + TIME
  const std::vector<const RulesReading*> group{&keyed, &two, &one};
  const auto commands = orders::ordering::group_commands(group);
  ASSERT_EQ(commands.size(), 4u + 6u + 3u + 1u);
  EXPECT_EQ(commands.back(), (std::vector<std::string_view>{"TIME"}));
  for (std::size_t i = 0; i + 1 < commands.size(); ++i) EXPECT_NE(commands[i][0], "TIME") << i;
  EXPECT_EQ(commands[0], (std::vector<std::string_view>{"EXISTS", "idem:u1:k"}));
  EXPECT_EQ(commands[4], two.commands()[0]);   // the second reading starts after the first's 4
  EXPECT_EQ(commands[10], one.commands()[0]);  // and the third after the second's 6

  const auto parts = orders::ordering::split_group_reply(group, numbered_exec(commands.size()));
  ASSERT_EQ(parts.size(), 3u);
  const std::vector<std::pair<long long, std::size_t>> slices{{0, 4}, {4, 6}, {10, 3}};  // first reply, count
  for (std::size_t i = 0; i < parts.size(); ++i) {
    SCOPED_TRACE("reading " + std::to_string(i));
    ASSERT_EQ(parts[i].type, Reply::Type::kArray);
    ASSERT_EQ(parts[i].elements.size(), slices[i].second + 1);
    for (std::size_t j = 0; j < slices[i].second; ++j) {
      EXPECT_EQ(parts[i].elements[j].integer, slices[i].first + static_cast<long long>(j));
    }
    EXPECT_EQ(parts[i].elements.back().elements[0].str, "1800000000");  // the group's TIME
  }
  // (That each slice parses as its reading's own EXEC, with the group's clock, is
  // RefusalPath.PurchasesArrivingTogether… on a real Redis.)
}

TEST(RefusalCheck, AGroupReplyThatIsNotTheGroupsGoesToEveryReadingAsItIs) {
  const RulesReading a({}, {"p1"}, "u1");
  const RulesReading b({}, {"p2"}, "u2");
  const std::vector<const RulesReading*> group{&a, &b};
  Reply nil;                           // a nil EXEC: the transaction did not run
  Reply short_one = numbered_exec(6);  // the group is 3 + 3 + TIME: one reply missing
  Reply error;
  error.type = Reply::Type::kError;
  error.str = "EXECABORT Transaction discarded because of previous errors.";
  for (const Reply& exec : {nil, short_one, error}) {
    const auto parts = orders::ordering::split_group_reply(group, exec);
    ASSERT_EQ(parts.size(), 2u);
    for (const auto& part : parts) {
      EXPECT_EQ(part.type, exec.type);
      EXPECT_EQ(part.elements.size(), exec.elements.size());
    }
    EXPECT_FALSE(a.parse(parts[0], {1}).has_value()) << "no reading: the script decides";
  }
}
