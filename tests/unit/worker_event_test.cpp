#include <gtest/gtest.h>

#include <cstdio>

#include "ordering/order_event.hpp"
#include "ordering/order_request.hpp"
#include "storage/postgres/array.hpp"

using namespace orders;
using namespace orders::ordering;
using orders::postgres::pg_array;

namespace {

const std::string kEvent =
    R"({"id":"0190c3b2-6f1e-7a2b-8c3d-000000000001","type":"order.created","version":1,"occurredAt":"2026-11-25T10:00:00.000Z",)"
    R"("data":{"order":{"id":"0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d","referenceNo":"ORD-1","userId":"alice","status":"PENDING",)"
    R"("items":[{"productId":"0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9e","quantity":3,"unitPrice":19.99,"totalPrice":59.97}],)"
    R"("totalPrice":59.97,"createdAt":"2026-11-25T10:00:00.000Z"},"idempotencyKey":"k \"1\""}})";

}  // namespace

TEST(OrderCreatedEvent, CarriesEverythingToPersistTheOrderWithExactMoney) {
  auto order = parse_order_created(kEvent);
  ASSERT_TRUE(order);
  EXPECT_EQ(order->id, "0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d");
  EXPECT_EQ(order->user_id, "alice");
  EXPECT_EQ(order->total_price.cents, 5997);
  ASSERT_EQ(order->items.size(), 1u);
  EXPECT_EQ(order->items[0].quantity, 3);
  EXPECT_EQ(order->items[0].unit_price.cents, 1999);
  EXPECT_EQ(order->items[0].total_price.cents, 5997);
  EXPECT_EQ(*order->idempotency_key, "k \"1\"");
}

TEST(OrderCreatedEvent, WhatCannotBePersistedIsRefusedWithAReason) {
  std::string why;
  EXPECT_FALSE(parse_order_created("not json", &why));
  EXPECT_EQ(why, "not a JSON object");
  EXPECT_FALSE(parse_order_created(R"({"type":"order.cancelled","data":{}})", &why));
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {R"("userId":"alice")", R"("userId":"a b")"},
           {R"("quantity":3)", R"("quantity":0)"},
           {R"("unitPrice":19.99)", R"("unitPrice":19.999)"},
           {R"("createdAt":"2026-11-25T10:00:00.000Z")", R"("createdAt":"yesterday")"},
           {R"("id":"0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d")", R"("id":"x")"},
       }) {
    std::string broken = kEvent;
    broken.replace(broken.find(from), from.size(), to);
    EXPECT_FALSE(parse_order_created(broken, &why)) << to;
  }
}

TEST(PostgresArrays, ElementsAreQuotedEscapedAndNullable) {
  EXPECT_EQ(pg_array({}), "{}");
  EXPECT_EQ(pg_array({std::string("a"), std::nullopt, std::string("b\"c\\d")}), R"({"a",NULL,"b\"c\\d"})");
}

TEST(OrderFingerprint, IgnoresItemOrderAndSeesEveryChange) {
  ordering::OrderRequest a{"u", {{"p1", 1}, {"p2", 2}}, std::nullopt};
  ordering::OrderRequest b{"u", {{"p2", 2}, {"p1", 1}}, std::string("key")};
  ordering::OrderRequest c{"u", {{"p1", 1}, {"p2", 3}}, std::nullopt};
  ordering::OrderRequest d{"v", {{"p1", 1}, {"p2", 2}}, std::nullopt};
  EXPECT_EQ(ordering::fingerprint(a), ordering::fingerprint(b));
  EXPECT_NE(ordering::fingerprint(a), ordering::fingerprint(c));
  EXPECT_NE(ordering::fingerprint(a), ordering::fingerprint(d));
}

TEST(OrderRequestValidation, KeysAndUsers) {
  EXPECT_TRUE(ordering::is_valid_user_id("alice.b@x-y_1"));
  EXPECT_FALSE(ordering::is_valid_user_id(""));
  EXPECT_FALSE(ordering::is_valid_user_id("a b"));
  EXPECT_FALSE(ordering::is_valid_user_id(std::string(65, 'a')));
  EXPECT_TRUE(ordering::is_valid_idempotency_key("any printable ~!@# key"));
  EXPECT_FALSE(ordering::is_valid_idempotency_key(""));
  EXPECT_FALSE(ordering::is_valid_idempotency_key(std::string(256, 'k')));
  EXPECT_FALSE(ordering::is_valid_idempotency_key("tab\tkey"));
  EXPECT_FALSE(ordering::is_valid_idempotency_key("caf\xc3\xa9"));
}

TEST(OrderCreatedEvent, TotalsAreExactCentsOfUnitPriceTimesQuantityEvenBeyondADoublesDigits) {
  // 50 x 1000 x 999,999,999.99 has 16 digits: as a JSON double it is not exact, and numeric(14, 2)
  // could not hold it. The worker computes it in int64 cents.
  std::string items;
  for (int i = 0; i < 50; ++i) {
    char product[40];
    std::snprintf(product, sizeof product, "0190c3b2-6f1e-7a2b-8c3d-%012d", i);
    items += std::string(i ? "," : "") + R"({"productId":")" + product +
             R"(","quantity":1000,"unitPrice":999999999.99,"totalPrice":999999999990.00})";
  }
  std::string event = kEvent;
  const std::string from = event.substr(event.find("\"items\":["), event.find("],") + 1 - event.find("\"items\":["));
  event.replace(event.find(from), from.size(), "\"items\":[" + items + "]");
  const std::string total = "\"totalPrice\":59.97,\"createdAt\"";
  event.replace(event.find(total), total.size(), "\"totalPrice\":49999999999500.00,\"createdAt\"");
  auto order = parse_order_created(event);
  ASSERT_TRUE(order) << event;
  EXPECT_EQ(order->total_price.cents, 4'999'999'999'950'000);
  EXPECT_EQ(order->total_price.to_decimal(), "49999999999500.00");
  EXPECT_EQ(order->items[7].total_price.to_decimal(), "999999999990.00");
}

TEST(OrderCreatedEvent, AHugeIntegerPriceIsRefusedNotOverflowed) {
  std::string why;
  for (const char* price : {"92233720368547758", "18446744073709551615", "-92233720368547758"}) {
    std::string broken = kEvent;
    broken.replace(broken.find("\"unitPrice\":19.99"), 17, std::string("\"unitPrice\":") + price);
    EXPECT_FALSE(parse_order_created(broken, &why)) << price;
    EXPECT_EQ(why, "bad item price") << price;
  }
}

TEST(WorkerOutcomeEventId, IsTheSameForEveryRepublishAndNotTheOrderId) {
  const std::string order = "01a23493-caad-7440-b498-b99769bed29b";
  EXPECT_EQ(worker_outcome_event_id(order), "01a23493-caad-8440-b498-b99769bed29b");
  EXPECT_EQ(worker_outcome_event_id(order), worker_outcome_event_id(order));
  EXPECT_NE(worker_outcome_event_id(order), worker_outcome_event_id("01a23493-caad-7440-b498-b99769bed29c"));
}
