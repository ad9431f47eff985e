#include <gtest/gtest.h>

#include "app/fd_limit.hpp"
#include "common/json_body.hpp"
#include "ordering/order_request.hpp"

using namespace orders;
using orders::JsonBody;

namespace {

std::string first_error_field(const JsonBody& body) { return body.errors().empty() ? "" : body.errors()[0].field; }

}  // namespace

TEST(JsonBody, RepeatedMemberIsRefusedNamingIt) {
  auto body = JsonBody::parse(R"({"userId":"u","items":[],"userId":"v"})");
  EXPECT_FALSE(body.is_object());
  ASSERT_EQ(body.errors().size(), 1u);
  EXPECT_EQ(body.errors()[0].field, "userId");
  EXPECT_EQ(body.errors()[0].message, "is given more than once");
}

TEST(JsonBody, RepeatedMemberInANestedObjectIsNamedByItsPath) {
  auto body = JsonBody::parse(
      R"({"items":[{"productId":"a","quantity":1},{"productId":"b","quantity":1,"quantity":9}]})");
  EXPECT_EQ(first_error_field(body), "items[1].quantity");
  auto deeper = JsonBody::parse(R"({"a":{"b":[[1,2],{"c":1,"c":2}]}})");
  EXPECT_EQ(first_error_field(deeper), "a.b[1].c");
}

TEST(JsonBody, RepeatedMemberSpelledWithEscapesIsStillRepeated) {
  auto body = JsonBody::parse(R"({"userId":"u","user\u0049d":"v"})");
  EXPECT_EQ(first_error_field(body), "userId");
}

TEST(JsonBody, SameNameInDifferentObjectsIsFine) {
  auto body = JsonBody::parse(
      R"({"items":[{"productId":"a","quantity":1},{"productId":"b","quantity":2}],"x":{"items":null}})");
  ASSERT_TRUE(body.is_object());
  EXPECT_TRUE(body.valid());
  const auto& items = body.object().at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].as_object().at("quantity").as_int64(), 2);
  EXPECT_EQ(items[0].as_object().at("productId").as_string(), "a");
  EXPECT_TRUE(body.object().at("x").as_object().at("items").is_null());
}

TEST(JsonBody, ValuesOfEveryKindSurviveTheParse) {
  auto body = JsonBody::parse(R"({"s":"h\u00e9","i":-5,"u":18446744073709551615,"d":19.99,"t":true,"n":null})");
  ASSERT_TRUE(body.is_object());
  const auto& o = body.object();
  EXPECT_EQ(o.at("s").as_string(), "h\xc3\xa9");
  EXPECT_EQ(o.at("i").as_int64(), -5);
  EXPECT_EQ(o.at("u").as_uint64(), 18446744073709551615ull);
  EXPECT_DOUBLE_EQ(o.at("d").as_double(), 19.99);
  EXPECT_TRUE(o.at("t").as_bool());
  EXPECT_TRUE(o.at("n").is_null());
}

TEST(JsonBody, MalformedOrTrailingInputIsRefusedNamingTheBody) {
  EXPECT_EQ(first_error_field(JsonBody::parse(R"({"a":1} {"b":2})")), "body");
  EXPECT_EQ(first_error_field(JsonBody::parse(R"({"a":1)")), "body");
  EXPECT_EQ(first_error_field(JsonBody::parse("[1,2]")), "body");
  EXPECT_EQ(first_error_field(JsonBody::parse("")), "body");
  EXPECT_TRUE(JsonBody::parse("  {\"a\":1}  \n").valid());
}

TEST(OrderRequest, EmptyIdempotencyKeyIsRefusedNotIgnored) {
  const std::string body =
      R"({"userId":"u1","items":[{"productId":"0193a7e2-5c4d-7b1e-9f00-0000000000aa","quantity":1}]})";
  auto empty = ordering::parse_order_request(body, std::string_view{});
  ASSERT_TRUE(std::holds_alternative<Problem>(empty));
  EXPECT_EQ(std::get<Problem>(empty).details[0].field, "Idempotency-Key");
  auto none = ordering::parse_order_request(body, std::nullopt);
  ASSERT_TRUE(std::holds_alternative<ordering::OrderRequest>(none));
  EXPECT_FALSE(std::get<ordering::OrderRequest>(none).idempotency_key);
}

TEST(OrderRequest, RepeatedMemberIsRefused) {
  auto parsed = ordering::parse_order_request(
      R"({"userId":"u","items":[{"productId":"0193a7e2-5c4d-7b1e-9f00-0000000000aa","quantity":1}],"userId":"v"})",
      std::nullopt);
  ASSERT_TRUE(std::holds_alternative<Problem>(parsed));
  EXPECT_EQ(std::get<Problem>(parsed).details[0].field, "userId");
}

TEST(FdLimit, ConnectionsAreCappedBelowTheDescriptorLimit) {
  EXPECT_EQ(app::connection_cap(10000, 1024, 100), 924u);
  EXPECT_EQ(app::connection_cap(500, 1024, 100), 500u);
  EXPECT_EQ(app::connection_cap(10000, 50, 100), 1u);
  EXPECT_GE(app::raise_fd_limit(), 1u);
}

TEST(JsonBody, APriceTooLargeForCentsSaysTheRangeNotTheDecimals) {
  auto huge = JsonBody::parse(R"({"price":1e20})");
  auto price = huge.money("price", Presence::kRequired, 0, 99'999'999'999);
  EXPECT_FALSE(price);
  ASSERT_EQ(huge.errors().size(), 1u);
  EXPECT_EQ(huge.errors()[0].message, "must be between 0.00 and 999999999.99");
  auto fine = JsonBody::parse(R"({"price":1.234})");
  EXPECT_FALSE(fine.money("price", Presence::kRequired, 0, 99'999'999'999));
  EXPECT_EQ(fine.errors().at(0).message, "must have at most two decimals");
  auto negative = JsonBody::parse(R"({"price":-1e30})");
  EXPECT_FALSE(negative.money("price", Presence::kRequired, 0, 99'999'999'999));
  EXPECT_EQ(negative.errors().at(0).message, "must be between 0.00 and 999999999.99");
}

TEST(QueryString, EmptyPiecesFromATrailingOrDoubledAmpersandAreIgnored) {
  auto trailing = decode_query("page=2&");
  ASSERT_TRUE(trailing);
  ASSERT_EQ(trailing->size(), 1u);
  EXPECT_EQ((*trailing)[0], (std::pair<std::string, std::string>{"page", "2"}));
  auto doubled = decode_query("page=2&&limit=5");
  ASSERT_TRUE(doubled);
  EXPECT_EQ(doubled->size(), 2u);
  auto only = decode_query("&");
  ASSERT_TRUE(only);
  EXPECT_TRUE(only->empty());
  auto empty_key = decode_query("=x");
  ASSERT_TRUE(empty_key);
  EXPECT_EQ(empty_key->size(), 1u) << "a value without a name is still named (and refused) by the caller";
}
