// The servers' floors (#13): `orders bench persist` and `orders bench broker` run the service's own
// worker transaction and publisher/consumer code against the real servers; these tests check that
// they do what their figures claim to measure.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "common/uuid.hpp"
#include "storage/rabbitmq/connection.hpp"
#include "support/amqp_queue.hpp"
#include "support/own_stack.hpp"
#include "support/process.hpp"

using namespace orders::testing;

// Every synthetic order goes in through the worker's persist_batch, in batches, with all the rows
// a worker writes: the order CONFIRMED, its item, its ledger row, its two audit events, the stock.
TEST(BenchPersist, WritesEveryOrderWithTheRowsOfTheWorkersTransaction) {
  MigratedDatabase db;
  auto r = run({required_env("ORDERS_BINARY"), "bench", "persist", "--database-url", db.url, "--orders", "20",
                "--batch", "7", "--keyed-share", "0.5"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("persisted  20 of 20"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("us per order: postgres"), std::string::npos) << r.output;
  EXPECT_EQ(db.query("SELECT count(*) FROM orders WHERE status = 'CONFIRMED'"), "20");
  EXPECT_EQ(db.query("SELECT count(*) FROM order_items"), "20");
  EXPECT_EQ(db.query("SELECT count(*) FROM inventory_movements WHERE reason = 'ORDER' AND delta = -1"), "20");
  EXPECT_EQ(db.query("SELECT count(*) FROM order_events"), "40");
  EXPECT_EQ(db.query("SELECT stock FROM products"), "0") << "the product had exactly the units of the orders";
  EXPECT_EQ(db.query("SELECT sum(delta) FROM inventory_movements"), "0") << "the ledger sums to the stock";
  EXPECT_EQ(db.query("SELECT is_active FROM products"), "f") << "no buyer sees the bench's product";
  const std::string keyed = db.query("SELECT count(idempotency_key) FROM orders");
  EXPECT_GT(std::stoi(keyed), 0);
  EXPECT_LT(std::stoi(keyed), 20);
}

// Each phase moves every message, and the queue of its own is gone afterwards.
TEST(BenchBroker, ConfirmsDeliversAndDropsEveryMessageAndRemovesItsQueue) {
  const std::string url = required_env("RABBITMQ_URL");
  auto r = run({required_env("ORDERS_BINARY"), "bench", "broker", "--rabbitmq-url", url, "--messages", "300",
                "--ack-every", "64"});
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* phase : {"publish+confirm, queued  300 of 300", "deliver+ack (multiple)   300 of 300",
                            "publish+confirm, no queue 300 of 300"}) {
    EXPECT_NE(r.output.find(phase), std::string::npos) << phase << "\n" << r.output;
  }
  // Gone: a passive declare of it fails.
  orders::rabbitmq::Connection check(test_broker(), std::chrono::seconds(5), /*heartbeat_seconds=*/0);
  EXPECT_THROW(check.queue_message_count("bench.broker"), std::exception);
}

// Into a database that holds a shop's products it refuses to write (2), naming why; a database
// that cannot be reached is a dependency down (3).
TEST(BenchPersist, RefusesADatabaseWithProductsOfItsOwnAndSaysWhenItCannotReachOne) {
  MigratedDatabase db;
  db.query("INSERT INTO products (id, name, price, stock) VALUES ('" + orders::uuid::make_v7() + "', 'shop', 1, 1)");
  auto refused = run({required_env("ORDERS_BINARY"), "bench", "persist", "--database-url", db.url, "--orders", "5"});
  EXPECT_EQ(refused.code, 2) << refused.output;
  EXPECT_NE(refused.output.find("holds products of its own"), std::string::npos) << refused.output;
  EXPECT_EQ(db.query("SELECT count(*) FROM orders"), "0");

  auto unreachable = run({required_env("ORDERS_BINARY"), "bench", "persist", "--database-url",
                          "postgresql://orders:orders@127.0.0.1:1/orders", "--orders", "5"});
  EXPECT_EQ(unreachable.code, 3) << unreachable.output;
}

// A multiple-ack every N deliveries with fewer than N allowed unacknowledged would stall: refused.
TEST(BenchBroker, RefusesAnAckIntervalAbovePrefetch) {
  auto r = run({required_env("ORDERS_BINARY"), "bench", "broker", "--rabbitmq-url", required_env("RABBITMQ_URL"),
                "--messages", "10", "--prefetch", "100", "--ack-every", "500"});
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--ack-every (500) must not exceed --prefetch (100)"), std::string::npos) << r.output;
}
