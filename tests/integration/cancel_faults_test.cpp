#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <future>

#include "support/amqp_queue.hpp"
#include "support/api_helpers.hpp"
#include "support/own_stack.hpp"
#include "support/process.hpp"

using namespace orders::testing;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string body_for(const std::string& user, const std::string& product, int quantity) {
  return R"({"userId":")" + user + R"(","items":[{"productId":")" + product + R"(","quantity":)" +
         std::to_string(quantity) + "}]}";
}

RunResult reconcile(const MigratedDatabase& db, const StoppableRedis& redis, bool fix) {
  orders::testing::clear_order_queues(/*persist_too=*/false);  // reconcile counts dead letters; others leave some
  std::vector<std::string> argv{required_env("ORDERS_BINARY"), "reconcile", "--database-url", db.url};
  for (const auto& a : redis.args()) argv.push_back(a);
  if (fix) argv.push_back("--fix");
  return run(argv);
}

// A stack of its own: a database, a Redis that can die with a command unexecuted, an API and
// a worker. A CONFIRMED order of 3 units (of 10) by user u1, cancelled while Redis is
// stopped: the cancel commits in PostgreSQL, then Redis dies before it ran the return.
struct CancelCommittedRedisLost {
  MigratedDatabase db;
  StoppableRedis redis;
  std::unique_ptr<ApiProcess> api;
  std::unique_ptr<Process> worker;
  std::string product, order;

  void set_up() {
    std::vector<std::string> api_args{"--database-url", db.url};
    std::vector<std::string> worker_args{required_env("ORDERS_BINARY"), "worker", "--database-url", db.url};
    for (const auto& a : redis.args()) {
      api_args.push_back(a);
      worker_args.push_back(a);
    }
    api = std::make_unique<ApiProcess>(api_args);
    worker = std::make_unique<Process>(worker_args);
    product = create_product(api->port(), R"({"name":"owed","price":3,"stock":10,"maxPerUser":5})");
    auto bought = http_request(api->port(), "POST", "/api/orders", body_for("u1", product, 3));
    ASSERT_EQ(bought.status, 202) << bought.body;
    order = std::string(json_of(bought).at("data").at("id").as_string());
    ASSERT_TRUE(
        eventually([&] { return db.query("SELECT status FROM orders WHERE id = '" + order + "'") == "CONFIRMED"; }));
    ASSERT_EQ(redis.cli({"GET", "{p:" + product + "}:stock"}), "7");

    redis.stop_signal();
    auto cancel = std::async(std::launch::async, [&] {
      try {
        return http_request(api->port(), "DELETE", "/api/orders/" + order).status;
      } catch (const std::exception&) {
        return 0;  // no answer in the client's time: the same for this test
      }
    });
    // The cancel committed; its return of the units waits on the stopped Redis.
    ASSERT_TRUE(
        eventually([&] { return db.query("SELECT status FROM orders WHERE id = '" + order + "'") == "CANCELLED"; }));
    redis.kill();
    EXPECT_NE(cancel.get(), 200);  // Redis died under it: the return was not confirmed
    redis.start();
    // The API has its Redis back (it reconnects with backoff).
    ASSERT_TRUE(eventually([&] { return http_get(api->port(), "/ready").status == 200; }));
    ASSERT_EQ(db.query("SELECT stock FROM products WHERE id = '" + product + "'"), "10");
    ASSERT_EQ(redis.cli({"GET", "{p:" + product + "}:stock"}), "7") << "the return ran after all: no fault";
    ASSERT_EQ(redis.cli({"HGET", "{p:" + product + "}:buyers", "u1"}), "3");
  }

  HttpResult delete_again() { return http_request(api->port(), "DELETE", "/api/orders/" + order); }
};

}  // namespace

TEST(CancelFaults, ARepeatedDeleteGivesBackOnceTheUnitsARedisLossKeptAfterTheCommit) {
  CancelCommittedRedisLost s;
  ASSERT_NO_FATAL_FAILURE(s.set_up());
  auto again = s.delete_again();
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(json_of(again).at("code"), "ALREADY_CANCELLED");
  EXPECT_EQ(s.redis.cli({"GET", "{p:" + s.product + "}:stock"}), "10");
  EXPECT_EQ(s.redis.cli({"HGET", "{p:" + s.product + "}:buyers", "u1"}), "");
  EXPECT_EQ(s.db.query("SELECT units_returned_at IS NOT NULL FROM orders WHERE id = '" + s.order + "'"), "t");
  // Once: more DELETEs (concurrent ones too) give nothing more back.
  concurrently(10,
               [&](int) { EXPECT_EQ(http_request(s.api->port(), "DELETE", "/api/orders/" + s.order).status, 409); });
  EXPECT_EQ(s.redis.cli({"GET", "{p:" + s.product + "}:stock"}), "10");
  auto clean = reconcile(s.db, s.redis, false);
  EXPECT_EQ(clean.code, 0) << clean.output;
  EXPECT_NE(clean.output.find("0 with drift"), std::string::npos) << clean.output;
}

TEST(CancelFaults, ReconcileFixGivesBackWhatTheCrashKeptAndALaterDeleteGivesNothingMore) {
  CancelCommittedRedisLost s;
  ASSERT_NO_FATAL_FAILURE(s.set_up());
  // In flight for less than a minute: owed, not drift yet.
  auto report = reconcile(s.db, s.redis, false);
  EXPECT_EQ(report.code, 0) << report.output;
  auto fixed = reconcile(s.db, s.redis, true);
  EXPECT_EQ(fixed.code, 0) << fixed.output;
  EXPECT_NE(fixed.output.find("units of 1 cancelled or expired orders returned"), std::string::npos) << fixed.output;
  EXPECT_EQ(s.redis.cli({"GET", "{p:" + s.product + "}:stock"}), "10");
  EXPECT_EQ(s.redis.cli({"HGET", "{p:" + s.product + "}:buyers", "u1"}), "");
  EXPECT_EQ(s.db.query("SELECT units_returned_at IS NOT NULL FROM orders WHERE id = '" + s.order + "'"), "t");
  auto again = s.delete_again();
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(s.redis.cli({"GET", "{p:" + s.product + "}:stock"}), "10") << "returned twice";
  // Even with the flag lost, the marker reconcile wrote keeps a DELETE from returning them again.
  s.db.query("UPDATE orders SET units_returned_at = NULL WHERE id = '" + s.order + "'");
  EXPECT_EQ(s.delete_again().status, 409);
  EXPECT_EQ(s.redis.cli({"GET", "{p:" + s.product + "}:stock"}), "10") << "returned twice";
  auto clean = reconcile(s.db, s.redis, false);
  EXPECT_EQ(clean.code, 0) << clean.output;
}

// Cancels of multi-item orders over the same products, their items in different orders,
// racing workers that persist other multi-item orders over those products: every lock is
// taken in product id order, a deadlock is retried, and no cancel answers 500.
TEST(CancelFaults, MultiItemCancelsRacingWorkersNeverDeadlockIntoA500) {
  MigratedDatabase db;
  ApiProcess api({"--database-url", db.url});
  Process w1({required_env("ORDERS_BINARY"), "worker", "--database-url", db.url});
  Process w2({required_env("ORDERS_BINARY"), "worker", "--database-url", db.url});
  std::vector<std::string> products;
  for (int i = 0; i < 3; ++i)
    products.push_back(create_product(api.port(), R"({"name":"knot","price":1,"stock":5000})"));
  auto order_body = [&](int n) {
    // A different item order for each n: (0,1,2), (1,2,0), (2,0,1), (2,1,0), ...
    std::vector<int> at{0, 1, 2};
    std::rotate(at.begin(), at.begin() + n % 3, at.end());
    if (n % 2) std::reverse(at.begin(), at.end());
    std::string items;
    for (int k : at) {
      items += std::string(items.empty() ? "" : ",") + R"({"productId":")" + products[k] + R"(","quantity":)" +
               std::to_string(1 + (n + k) % 3) + "}";
    }
    return R"({"userId":"knot)" + std::to_string(n) + R"(","items":[)" + items + "]}";
  };
  constexpr int kOrders = 120;
  std::vector<std::string> first(kOrders);
  concurrently(12, [&](int t) {
    for (int n = t; n < kOrders; n += 12) {
      auto r = http_request(api.port(), "POST", "/api/orders", order_body(n));
      ASSERT_EQ(r.status, 202) << r.body;
      first[n] = std::string(json_of(r).at("data").at("id").as_string());
    }
  });
  ASSERT_TRUE(eventually(
      [&] { return db.query("SELECT count(*) FROM orders WHERE status = 'CONFIRMED'") == std::to_string(kOrders); }));

  std::atomic<int> server_errors{0}, cancelled{0};
  concurrently(24, [&](int t) {
    for (int n = t % 12; n < kOrders; n += 12) {
      if (t < 12) {
        // Cancels, each of a CONFIRMED multi-item order.
        auto r = http_request(api.port(), "DELETE", "/api/orders/" + first[n]);
        for (int attempt = 0; r.status == 503 && attempt < 5; ++attempt) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          r = http_request(api.port(), "DELETE", "/api/orders/" + first[n]);
        }
        if (r.status >= 500) ++server_errors;
        if (r.status == 200 || (r.status == 409 && json_of(r).at("code") == "ALREADY_CANCELLED")) ++cancelled;
        else ADD_FAILURE() << r.status << " " << r.body;
      } else {
        // New orders the workers persist meanwhile, locking the same product rows.
        auto r = http_request(api.port(), "POST", "/api/orders", order_body(kOrders + n));
        EXPECT_EQ(r.status, 202) << r.body;
      }
    }
  });
  EXPECT_EQ(server_errors.load(), 0);
  EXPECT_EQ(cancelled.load(), kOrders);
  ASSERT_TRUE(eventually([&] { return db.query("SELECT count(*) FROM orders") == std::to_string(2 * kOrders); }));
  ASSERT_TRUE(eventually(
      [&] { return db.query("SELECT count(*) FROM orders WHERE status = 'CONFIRMED'") == std::to_string(kOrders); }));
  for (const auto& p : products) {
    const std::string live = db.query(
        "SELECT 5000 - COALESCE(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id"
        " WHERE i.product_id = '" +
        p + "' AND o.status = 'CONFIRMED'");
    EXPECT_EQ(db.query("SELECT stock FROM products WHERE id = '" + p + "'"), live);
    EXPECT_EQ(db.query("SELECT sum(delta) FROM inventory_movements WHERE product_id = '" + p + "'"), live);
    EXPECT_TRUE(eventually([&] { return redis_get("{p:" + p + "}:stock") == live; }))
        << redis_get("{p:" + p + "}:stock");
  }
  EXPECT_EQ(db.query("SELECT count(*) FROM orders WHERE status = 'CANCELLED' AND units_returned_at IS NULL"), "0");
}
