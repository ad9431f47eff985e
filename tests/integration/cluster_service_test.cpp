// The whole service on a Redis Cluster: `orders api` and two workers with REDIS_CLUSTER_NODES
// (a private 3-master cluster) beside the test stack's PostgreSQL and RabbitMQ, a concurrent
// sale checked against the record, and `orders reconcile` reporting and repairing a counter.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "catalog/keys.hpp"
#include "catalog/stock_buckets.hpp"
#include "support/api_helpers.hpp"
#include "support/own_stack.hpp"
#include "support/private_redis_cluster.hpp"
#include "support/process.hpp"

using namespace orders::testing;
using Clock = std::chrono::steady_clock;

namespace {

std::string db_count(const std::string& url, const std::string& sql) {
  std::string out = shell({"psql", url, "-tAc", sql});
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

RunResult reconcile(const std::string& db, const std::string& seeds, bool fix = false) {
  std::vector<std::string> argv{required_env("ORDERS_BINARY"), "reconcile", "--database-url", db,
                                "--redis-cluster-nodes",       seeds};
  if (fix) argv.push_back("--fix");
  return run(argv);
}

}  // namespace

TEST(ClusterService, ASaleOverTwoProductsOnARedisClusterIsExactAndReconcileRepairsACounter) {
  PrivateRedisCluster cluster(20480);
  const std::string seeds = cluster.seeds(2);
  MigratedDatabase db;
  ApiProcess api({"--database-url", db.url, "--redis-cluster-nodes", seeds});
  Process w1({required_env("ORDERS_BINARY"), "worker", "--database-url", db.url, "--redis-cluster-nodes", seeds});
  Process w2({required_env("ORDERS_BINARY"), "worker", "--database-url", db.url, "--redis-cluster-nodes", seeds});
  const std::string a = create_product(api.port(), R"({"name":"on a cluster","price":3,"stock":20})");
  const std::string b = create_product(api.port(), R"({"name":"also on it","price":2,"stock":30,"maxPerUser":1})");

  // 60 buyers, each an order of both products (two slots, most likely two masters).
  std::atomic<int> accepted{0}, sold_out{0};
  concurrently(60, [&](int i) {
    auto r = http_request(api.port(), "POST", "/api/orders",
                          R"({"userId":"c)" + std::to_string(i) + R"(","items":[{"productId":")" + a +
                              R"(","quantity":1},{"productId":")" + b + R"(","quantity":1}]})");
    accepted += r.status == 202;
    sold_out += r.status == 409;
  });
  EXPECT_EQ(accepted.load(), 20);
  EXPECT_EQ(sold_out.load(), 40);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  const std::string persisted = "SELECT count(*) FROM orders WHERE status = 'CONFIRMED'";
  while (db_count(db.url, persisted) != "20" && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(db_count(db.url, persisted), "20");
  EXPECT_EQ(db_count(db.url, "SELECT stock FROM products WHERE id = '" + a + "'"), "0");
  EXPECT_EQ(db_count(db.url, "SELECT stock FROM products WHERE id = '" + b + "'"), "10");

  auto clean = reconcile(db.url, seeds);
  EXPECT_EQ(clean.code, 0) << clean.output;
  EXPECT_NE(clean.output.find("0 with drift"), std::string::npos) << clean.output;

  // Redis gains 3 units of b it should not have: reported, then repaired on b's master.
  const std::string key = "{p:" + b + "}:stock";
  const int master = cluster.master_of_slot(std::stoi(cluster.cli(cluster.port(0), {"cluster", "keyslot", key})));
  cluster.cli(master, {"INCRBY", key, "3"});
  auto drift = reconcile(db.url, seeds);
  EXPECT_EQ(drift.code, 1) << drift.output;
  auto fixed = reconcile(db.url, seeds, /*fix=*/true);
  EXPECT_EQ(fixed.code, 0) << fixed.output;
  EXPECT_NE(fixed.output.find("counter 13 -> 10"), std::string::npos) << fixed.output;
  EXPECT_EQ(cluster.cli(master, {"GET", key}), "10\n");
  auto again = reconcile(db.url, seeds);
  EXPECT_EQ(again.code, 0) << again.output;
}

// A hot product in stockBuckets through the whole service: created split over four slots, sold
// to a crowd above its stock (exactly all of it, through the refills), its stock read as the
// sum and changed by a PUT spread over the buckets, a cancel back in the buyer's home bucket,
// and reconcile clean over the buckets.
TEST(ClusterService, AProductInFourBucketsSellsExactlyItsStockAndReadsAsTheSum) {
  PrivateRedisCluster cluster(20480);
  const std::string seeds = cluster.seeds(2);
  MigratedDatabase db;
  ApiProcess api({"--database-url", db.url, "--redis-cluster-nodes", seeds});
  Process w1({required_env("ORDERS_BINARY"), "worker", "--database-url", db.url, "--redis-cluster-nodes", seeds});
  const std::string hot = create_product(api.port(), R"({"name":"hot","price":5,"stock":30,"stockBuckets":4})");
  auto counter = [&](int b) {
    const std::string key = "{p:" + orders::catalog::keys::bucket(hot, b) + "}:stock";
    const int master = cluster.master_of_slot(std::stoi(cluster.cli(cluster.port(0), {"cluster", "keyslot", key})));
    std::string v = cluster.cli(master, {"GET", key});
    return v.empty() || v == "\n" ? -1 : std::stoll(v);
  };
  auto live_stock = [&] { return json_of(http_get(api.port(), "/api/products/" + hot)).at("data").at("stock"); };
  // Split evenly: 8, 8, 7, 7.
  EXPECT_EQ(counter(0) + counter(1) + counter(2) + counter(3), 30);
  EXPECT_EQ(counter(0), 8);
  EXPECT_EQ(counter(3), 7);
  EXPECT_EQ(live_stock().as_int64(), 30);
  EXPECT_EQ(json_of(http_get(api.port(), "/api/products/" + hot)).at("data").at("stockBuckets").as_int64(), 4);
  auto fixed = http_request(api.port(), "PUT", "/api/products/" + hot, R"({"stockBuckets":2})");
  EXPECT_EQ(fixed.status, 400) << fixed.body;
  EXPECT_NE(fixed.body.find("stockBuckets"), std::string::npos) << fixed.body;

  // 80 buyers for 30 units; a 503 (a home emptied under the buyer) is retried as a client does.
  std::atomic<int> accepted{0}, sold_out{0}, other{0};
  std::vector<std::string> orders_of(80);
  concurrently(80, [&](int i) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      auto r = buy(api.port(), "hot-" + std::to_string(i), hot);
      if (r.status == 503) continue;
      if (r.status == 202) {
        ++accepted;
        orders_of[i] = std::string(json_of(r).at("data").at("id").as_string());
      } else if (r.status == 409 && error_code_of(r) == "OUT_OF_STOCK") {
        ++sold_out;
      } else {
        ++other;
      }
      return;
    }
    ++other;
  });
  EXPECT_EQ(accepted.load(), 30);
  EXPECT_EQ(sold_out.load(), 50);
  EXPECT_EQ(other.load(), 0);
  for (int b = 0; b < 4; ++b) EXPECT_EQ(counter(b), 0) << "bucket " << b;
  EXPECT_EQ(live_stock().as_int64(), 0);
  const std::string persisted = "SELECT count(*) FROM orders WHERE status = 'CONFIRMED'";
  ASSERT_TRUE(eventually([&] { return db_count(db.url, persisted) == "30"; })) << db_count(db.url, persisted);
  EXPECT_EQ(db_count(db.url, "SELECT stock FROM products WHERE id = '" + hot + "'"), "0");

  // A new stock figure is spread over the buckets; the record takes the same delta.
  auto put = http_request(api.port(), "PUT", "/api/products/" + hot, R"({"stock":10})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(json_of(put).at("data").at("stock").as_int64(), 10);
  EXPECT_EQ(counter(0) + counter(1) + counter(2) + counter(3), 10);
  EXPECT_EQ(db_count(db.url, "SELECT stock FROM products WHERE id = '" + hot + "'"), "10");

  // A cancel returns the unit to the buyer's home bucket.
  int buyer = 0;
  while (orders_of[buyer].empty()) ++buyer;
  const int home = orders::catalog::buckets::home_bucket("hot-" + std::to_string(buyer), 4);
  const long long home_before = counter(home);
  auto cancel = http_request(api.port(), "DELETE", "/api/orders/" + orders_of[buyer]);
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(counter(home), home_before + 1);
  EXPECT_EQ(live_stock().as_int64(), 11);
  ASSERT_TRUE(
      eventually([&] { return db_count(db.url, "SELECT stock FROM products WHERE id = '" + hot + "'") == "11"; }));

  auto clean = reconcile(db.url, seeds);
  EXPECT_EQ(clean.code, 0) << clean.output;
  EXPECT_NE(clean.output.find("0 with drift"), std::string::npos) << clean.output;
  // A bent bucket is reported as the product's drift; --fix leaves a split product to a person.
  const std::string key = "{p:" + orders::catalog::keys::bucket(hot, 2) + "}:stock";
  const int master = cluster.master_of_slot(std::stoi(cluster.cli(cluster.port(0), {"cluster", "keyslot", key})));
  cluster.cli(master, {"INCRBY", key, "2"});
  auto drift = reconcile(db.url, seeds);
  EXPECT_EQ(drift.code, 1) << drift.output;
  EXPECT_NE(drift.output.find("counter 2"), std::string::npos) << drift.output;
  auto not_fixed = reconcile(db.url, seeds, /*fix=*/true);
  EXPECT_EQ(not_fixed.code, 1) << not_fixed.output;
  EXPECT_NE(not_fixed.output.find("not repaired: split over 4 buckets"), std::string::npos) << not_fixed.output;
}
