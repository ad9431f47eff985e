#include <gtest/gtest.h>

#include <atomic>

#include "common/uuid.hpp"
#include "config/config.hpp"
#include "support/api_helpers.hpp"
#include "support/process.hpp"

using namespace orders::testing;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// A database of its own: reconcile reports on every product of the record, and the shared
// test database holds products whose counters other tests bent on purpose.
struct OwnDatabase {
  OwnDatabase() {
    name = "reconcile_" + orders::uuid::make_v7().substr(24);
    psql("CREATE DATABASE " + name);
    auto base = orders::config::parse_postgres_url(required_env("DATABASE_URL"));
    url = "postgresql://" + base.user + ":" + base.password + "@" + base.host + ":" + std::to_string(base.port) + "/" +
          name;
  }
  ~OwnDatabase() { psql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); }
  std::string name, url;
};

RunResult reconcile(const std::string& url, bool fix = false) {
  std::vector<std::string> argv{required_env("ORDERS_BINARY"), "reconcile", "--database-url", url};
  if (fix) argv.push_back("--fix");
  return run(argv);
}

std::string count_orders(const std::string& url, const std::string& product) {
  std::string out = shell(
      {"psql", url, "-tAc", "SELECT count(*) FROM order_items WHERE product_id = '" + product + "'"});
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

TEST(Reconcile, NoDriftAfterASaleThenReportsAndFixesABentCounter) {
  OwnDatabase db;
  ASSERT_EQ(run({required_env("ORDERS_BINARY"), "migrate", "--database-url", db.url}).code, 0);
  ApiProcess api({"--database-url", db.url});
  Process w1({required_env("ORDERS_BINARY"), "worker", "--database-url", db.url});
  Process w2({required_env("ORDERS_BINARY"), "worker", "--database-url", db.url});
  std::string product = create_product(api.port(), R"({"name":"reconciled","price":7,"stock":20})");
  std::atomic<int> accepted{0};
  concurrently(50, [&](int i) {
    auto r = http_request(
        api.port(), "POST", "/api/orders",
        R"({"userId":"r)" + std::to_string(i) + R"(","items":[{"productId":")" + product + R"(","quantity":1}]})");
    accepted += r.status == 202;
  });
  ASSERT_EQ(accepted.load(), 20);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (count_orders(db.url, product) != "20" && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(count_orders(db.url, product), "20");

  auto clean = reconcile(db.url);
  EXPECT_EQ(clean.code, 0) << clean.output;
  EXPECT_NE(clean.output.find("0 with drift"), std::string::npos) << clean.output;

  redis_cli({"INCRBY", "{p:" + product + "}:stock", "3"});  // Redis gained 3 units it should not have
  auto drift = reconcile(db.url);
  EXPECT_EQ(drift.code, 1) << drift.output;
  EXPECT_NE(drift.output.find("counter 3"), std::string::npos) << drift.output;

  auto fixed = reconcile(db.url, /*fix=*/true);
  EXPECT_EQ(fixed.code, 0) << fixed.output;
  EXPECT_NE(fixed.output.find("counter 3 -> 0"), std::string::npos) << fixed.output;
  EXPECT_EQ(redis_get("{p:" + product + "}:stock"), "0");
  auto again = reconcile(db.url);
  EXPECT_EQ(again.code, 0) << again.output;
}
