// The servers' floors (#13): `orders bench persist` and `orders bench broker` run the service's own
// worker transaction and publisher/consumer code against the real servers; these tests check that
// they do what their figures claim to measure.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

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
