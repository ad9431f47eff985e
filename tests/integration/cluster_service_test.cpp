// The whole service on a Redis Cluster: `orders api` and two workers with REDIS_CLUSTER_NODES
// (a private 3-master cluster) beside the test stack's PostgreSQL and RabbitMQ, a concurrent
// sale checked against the record, and `orders reconcile` reporting and repairing a counter.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

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
