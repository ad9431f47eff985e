#include <amqp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "common/time.hpp"
#include "common/uuid.hpp"
#include "config/config.hpp"
#include "ordering/cluster_keys.hpp"
#include "storage/rabbitmq/connection.hpp"
#include "support/amqp_queue.hpp"
#include "support/api_helpers.hpp"
#include "support/own_stack.hpp"
#include "support/process.hpp"

using namespace orders::testing;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

RunResult reconcile(const std::string& url, bool fix = false, std::vector<std::string> more = {}) {
  std::vector<std::string> argv{required_env("ORDERS_BINARY"), "reconcile", "--database-url", url};
  if (fix) argv.push_back("--fix");
  argv.insert(argv.end(), more.begin(), more.end());
  return run(argv);
}

// reconcile with LOG_FORMAT=json: the exit code, stdout (the summary) and stderr apart.
JsonCommand reconcile_json(const std::string& url, std::vector<std::string> more = {}) {
  std::vector<std::string> args{"reconcile", "--database-url", url};
  args.insert(args.end(), more.begin(), more.end());
  return run_orders_json(args);
}

orders::rabbitmq::Connection broker() {
  return orders::rabbitmq::Connection(orders::testing::test_broker(), std::chrono::seconds(5));
}

std::uint32_t dead_letter_count() {
  auto c = broker();
  return c.queue_message_count(orders::rabbitmq::kDeadQueue).value_or(0);
}

std::string count_orders(const std::string& url, const std::string& product) {
  std::string out = shell(
      {"psql", url, "-tAc", "SELECT count(*) FROM order_items WHERE product_id = '" + product + "'"});
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

TEST(Reconcile, NoDriftAfterASaleThenReportsAndFixesABentCounter) {
  orders::testing::clear_order_queues();
  MigratedDatabase db;
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

namespace {

std::string purchase(std::uint16_t /*port*/, const std::string& user, const std::string& product, int quantity) {
  return R"({"userId":")" + user + R"(","items":[{"productId":")" + product + R"(","quantity":)" +
         std::to_string(quantity) + "}]}";
}

std::string db_query(const std::string& url, const std::string& sql) {
  std::string out = shell({"psql", url, "-tAc", sql});
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

// After a Redis loss of a product's sale rules and buyer counts, plain reconcile reports both
// and --fix rebuilds them from the record: the product sells again and the per-user limit
// still counts what each user bought.
TEST(Reconcile, ReportsAndRebuildsMissingSaleRulesAndBuyerCounts) {
  orders::testing::clear_order_queues();
  MigratedDatabase db;
  ApiProcess api({"--database-url", db.url});
  Process worker({required_env("ORDERS_BINARY"), "worker", "--database-url", db.url});
  std::string product = create_product(api.port(), R"({"name":"rebuilt","price":4.25,"stock":10,"maxPerUser":2})");
  ASSERT_EQ(http_request(api.port(), "POST", "/api/orders", purchase(api.port(), "limited", product, 2)).status, 202);
  auto other = http_request(api.port(), "POST", "/api/orders", purchase(api.port(), "gone", product, 1));
  ASSERT_EQ(other.status, 202);
  const std::string other_id(json_of(other).at("data").at("id").as_string());
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (db_query(db.url, "SELECT count(*) FROM orders WHERE status = 'CONFIRMED'") != "2" && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(http_request(api.port(), "DELETE", "/api/orders/" + other_id).status, 200);

  const std::string tag = "{p:" + product + "}";
  redis_cli({"DEL", tag + ":info", tag + ":buyers"});  // what a Redis loss leaves
  auto refused = http_request(api.port(), "POST", "/api/orders", purchase(api.port(), "buyer", product, 1));
  EXPECT_EQ(refused.status, 404) << "without its rules the product does not sell";
  auto drift = reconcile(db.url);
  EXPECT_EQ(drift.code, 1) << drift.output;
  EXPECT_NE(drift.output.find("no sale rules"), std::string::npos) << drift.output;
  EXPECT_NE(drift.output.find("buyers 1 user"), std::string::npos) << drift.output;

  auto fixed = reconcile(db.url, /*fix=*/true);
  EXPECT_EQ(fixed.code, 0) << fixed.output;
  EXPECT_EQ(redis_cli({"HGET", tag + ":buyers", "limited"}), "2");
  EXPECT_EQ(redis_cli({"HGET", tag + ":buyers", "gone"}), "");
  EXPECT_EQ(redis_cli({"HGET", tag + ":info", "price"}), "425");
  EXPECT_EQ(redis_cli({"HGET", tag + ":info", "max"}), "2");
  auto again = reconcile(db.url);
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("0 with drift"), std::string::npos) << again.output;

  auto over = http_request(api.port(), "POST", "/api/orders", purchase(api.port(), "limited", product, 1));
  EXPECT_EQ(over.status, 409) << over.body;
  EXPECT_EQ(json_of(over).at("code"), "PURCHASE_LIMIT_EXCEEDED");
  EXPECT_EQ(http_request(api.port(), "POST", "/api/orders", purchase(api.port(), "gone", product, 2)).status, 202);
}

// reconcile, plain and --fix, run again and again while a sale sells out over two workers:
// it never reports drift that is not there, and --fix never gives Redis units the record
// does not have (G1: exactly the stock is sold; G4 after the drain).
TEST(Reconcile, UnderASaleReportsNoFalseDriftAndFixNeverAddsUnits) {
  orders::testing::clear_order_queues();
  MigratedDatabase db;
  ApiProcess api({"--database-url", db.url});
  Process w1({required_env("ORDERS_BINARY"), "worker", "--database-url", db.url});
  Process w2({required_env("ORDERS_BINARY"), "worker", "--database-url", db.url});
  constexpr int kStock = 300;
  std::string product = create_product(api.port(),
                                       R"({"name":"busy","price":1,"stock":)" + std::to_string(kStock) + "}");
  std::string quiet = create_product(api.port(), R"({"name":"quiet","price":1,"stock":5})");
  std::atomic<bool> selling{true};
  std::atomic<int> sold{0}, runs{0};
  std::vector<std::string> false_drift;
  std::mutex reports;
  std::thread checker([&] {
    for (int i = 0; i < 200 && (selling || i < 4); ++i) {
      auto r = reconcile(db.url, /*fix=*/i % 2 == 1);
      ++runs;
      if (r.code != 0 || r.output.find(" 0 with drift") == std::string::npos) {
        std::lock_guard lock(reports);
        false_drift.push_back(r.output);
      }
    }
  });
  concurrently(8, [&](int t) {
    for (int i = 0; i < 2 * kStock / 8 + 10; ++i) {
      auto r = http_request(api.port(), "POST", "/api/orders",
                            purchase(api.port(), "busy" + std::to_string(t) + "-" + std::to_string(i), product, 1));
      if (r.status == 202) ++sold;
      else if (r.status == 409) break;  // sold out
      else ADD_FAILURE() << r.status << " " << r.body;
    }
  });
  selling = false;
  checker.join();
  EXPECT_GE(runs.load(), 4);
  EXPECT_TRUE(false_drift.empty()) << false_drift.size() << " reports with drift, the first:\n" << false_drift.front();
  EXPECT_EQ(sold.load(), kStock);

  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (count_orders(db.url, product) != std::to_string(kStock) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(count_orders(db.url, product), std::to_string(kStock));
  EXPECT_EQ(db_query(db.url, "SELECT count(*) FROM orders WHERE status <> 'CONFIRMED'"), "0");
  EXPECT_EQ(db_query(db.url, "SELECT stock FROM products WHERE id = '" + product + "'"), "0");
  EXPECT_EQ(db_query(db.url, "SELECT sum(delta) FROM inventory_movements WHERE product_id = '" + product + "'"), "0");
  EXPECT_EQ(redis_get("{p:" + product + "}:stock"), "0");
  EXPECT_EQ(redis_get("{p:" + quiet + "}:stock"), "5");
  auto clean = reconcile(db.url);
  EXPECT_EQ(clean.code, 0) << clean.output;
  EXPECT_NE(clean.output.find(" 0 with drift"), std::string::npos) << clean.output;
}

namespace {

// A pending order record as the reservation script writes it, created `age` ago, for a product
// the record does not have; deleted by the destructor (other tests read the same Redis).
struct PendingRecord {
  explicit PendingRecord(std::chrono::milliseconds age) : id(orders::uuid::make_v7()) {
    const std::string created = orders::format_rfc3339(orders::now_ms() - age.count());
    redis_cli({"SET", key(),
               R"({"id":")" + id +
                   R"(","referenceNo":"ORD-TEST","userId":"stuck","status":"PENDING","items":[)"
                   R"({"productId":")" +
                   orders::uuid::make_v7() +
                   R"(","quantity":1,"unitPrice":1.00,"totalPrice":1.00}],"totalPrice":1.00,"createdAt":")" + created +
                   R"("})",
               "EX", "600"});
  }
  ~PendingRecord() { redis_cli({"DEL", key()}); }
  // Its name in Redis: order:ID on one Redis, {o:K}:order:ID on a cluster.
  std::string key() const {
    return orders::testing::cluster_mode() ? orders::ordering::cluster_keys::order(id) : "order:" + id;
  }
  std::string id;
};

}  // namespace

// An order accepted an hour ago that no worker persisted (a stopped worker, a dead letter) is
// drift once it is older than --stale-after, with its id and age; younger, or with the check
// off, it is not. --fix leaves it.
TEST(Reconcile, ReportsAPendingOrderOlderThanStaleAfterThatTheRecordLacks) {
  orders::testing::clear_order_queues();
  MigratedDatabase db;
  PendingRecord stuck(std::chrono::hours(1));

  auto reported = reconcile(db.url, false, {"--stale-after", "30"});
  EXPECT_EQ(reported.code, 1) << reported.output;
  EXPECT_NE(reported.output.find("stale: order " + stuck.id + " pending in Redis for 36"), std::string::npos)
      << reported.output;
  EXPECT_NE(reported.output.find("0 products, 0 with drift, 0 busy"), std::string::npos) << reported.output;

  auto fixed = reconcile(db.url, true, {"--stale-after", "30"});
  EXPECT_EQ(fixed.code, 1) << fixed.output;
  EXPECT_NE(fixed.output.find("not fixed: --fix only reports stale orders"), std::string::npos) << fixed.output;
  EXPECT_EQ(redis_cli({"EXISTS", stuck.key()}), "1");

  auto json = reconcile_json(db.url, {"--stale-after", "30"});
  EXPECT_EQ(json.code, 1) << json.out << json.err;
  auto summary = summary_of(json.out);
  bool found = false;
  for (const auto& o : summary["staleOrders"].as_array()) {
    if (o.at("id") != json::value(stuck.id)) continue;
    found = true;
    EXPECT_GE(o.at("ageSeconds").to_number<long long>(), 3600);
    EXPECT_LT(o.at("ageSeconds").to_number<long long>(), 3700);
  }
  EXPECT_TRUE(found) << json.out;

  for (const char* minutes : {"120", "0"}) {
    auto quiet = reconcile(db.url, false, {"--stale-after", minutes});
    EXPECT_EQ(quiet.code, 0) << minutes << ": " << quiet.output;
    EXPECT_EQ(quiet.output.find(stuck.id), std::string::npos) << minutes << ": " << quiet.output;
  }
  auto out_of_range = reconcile(db.url, false, {"--stale-after", "-1"});
  EXPECT_EQ(out_of_range.code, 2) << out_of_range.output;
}

// A pending record of an order the record holds is not stale, however old: it is persisted
// and its record only not yet dropped.
TEST(Reconcile, AnOldPendingRecordOfAPersistedOrderIsNotStale) {
  orders::testing::clear_order_queues();
  MigratedDatabase db;
  PendingRecord persisted(std::chrono::hours(1));
  db.query("INSERT INTO orders (id, reference_no, user_id, status, total_price, created_at) VALUES ('" + persisted.id +
           "', 'ORD-TEST', 'stuck', 'CONFIRMED', 1, now())");
  ASSERT_EQ(db.query("SELECT count(*) FROM orders"), "1");
  auto r = reconcile(db.url, false, {"--stale-after", "30"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("stale:"), std::string::npos) << r.output;
}

// A message in orders.dead is drift, with a pointer to the README; RabbitMQ unreachable is said
// on stderr and the rest is still checked (exit 0 without other drift).
TEST(Reconcile, ReportsDeadLettersAndGoesOnWithoutRabbitMq) {
  orders::testing::clear_order_queues();
  MigratedDatabase db;
  {
    auto c = broker();
    orders::rabbitmq::declare_topology(c);
    amqp_basic_properties_t props{};
    ASSERT_EQ(amqp_basic_publish(c.native(), orders::rabbitmq::kChannel, amqp_empty_bytes,
                                 orders::rabbitmq::bytes(orders::rabbitmq::kDeadQueue), 0, 0, &props,
                                 orders::rabbitmq::bytes("a dead letter")),
              AMQP_STATUS_OK);
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (dead_letter_count() < 1 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(dead_letter_count(), 1u);

  auto reported = reconcile(db.url);
  EXPECT_EQ(reported.code, 1) << reported.output;
  EXPECT_NE(reported.output.find("dead letters: 1 in orders.dead (README \"Dead-letter queue orders.dead\""),
            std::string::npos)
      << reported.output;
  auto json = reconcile_json(db.url);
  EXPECT_EQ(json.code, 1) << json.out << json.err;
  EXPECT_EQ(summary_of(json.out)["deadLetters"], 1) << json.out;

  orders::testing::clear_order_queues();
  auto clean = reconcile(db.url);
  EXPECT_EQ(clean.code, 0) << clean.output;
  EXPECT_EQ(clean.output.find("dead letters"), std::string::npos) << clean.output;

  const std::string nowhere = "amqp://orders:orders@127.0.0.1:" + std::to_string(free_port()) + "/";
  auto unreachable = reconcile(db.url, false, {"--rabbitmq-url", nowhere});
  EXPECT_EQ(unreachable.code, 0) << unreachable.output;
  EXPECT_NE(unreachable.output.find("orders reconcile: dead letters not checked ("), std::string::npos)
      << unreachable.output;
  EXPECT_NE(unreachable.output.find("0 products, 0 with drift, 0 busy"), std::string::npos) << unreachable.output;
  auto unreachable_json = reconcile_json(db.url, {"--rabbitmq-url", nowhere});
  EXPECT_EQ(unreachable_json.code, 0) << unreachable_json.out << unreachable_json.err;
  EXPECT_TRUE(summary_of(unreachable_json.out)["deadLetters"].is_null()) << unreachable_json.out;
  auto warning = json::parse(unreachable_json.err);  // one JSON log line
  EXPECT_EQ(warning.at("level"), "warning") << unreachable_json.err;
}

// LOG_FORMAT=json: one JSON object on stdout with every product's row, what drifted and what
// --fix changed; errors are JSON log lines on stderr, nothing on stdout.
TEST(Reconcile, JsonSummaryHasEveryFieldAndJsonErrors) {
  orders::testing::clear_order_queues();
  MigratedDatabase db;
  ApiProcess api({"--database-url", db.url});
  std::string product = create_product(api.port(), R"({"name":"json","price":2,"stock":5})");

  auto clean = reconcile_json(db.url);
  EXPECT_EQ(clean.code, 0) << clean.out << clean.err;
  auto summary = summary_of(clean.out);
  ASSERT_EQ(summary["products"].as_array().size(), 1u) << clean.out;
  const auto& row = summary["products"].as_array()[0].as_object();
  EXPECT_EQ(row.at("id"), json::value(product));
  EXPECT_EQ(row.at("counter"), 5);
  EXPECT_EQ(row.at("pending"), 0);
  EXPECT_EQ(row.at("owed"), 0);
  EXPECT_EQ(row.at("stock"), 5);
  EXPECT_EQ(row.at("ledger"), 5);
  EXPECT_EQ(row.at("orders"), 0);
  EXPECT_TRUE(row.at("drift").as_array().empty()) << clean.out;
  EXPECT_TRUE(summary["busy"].as_array().empty());
  EXPECT_TRUE(summary["staleOrders"].is_array());
  EXPECT_EQ(summary["deadLetters"], 0);
  EXPECT_EQ(summary["drifting"], 0);
  EXPECT_TRUE(summary["fixed"].as_array().empty());

  redis_cli({"INCRBY", "{p:" + product + "}:stock", "3"});
  auto drift = reconcile_json(db.url);
  EXPECT_EQ(drift.code, 1) << drift.out;
  auto bent = summary_of(drift.out);
  EXPECT_EQ(bent["drifting"], 1) << drift.out;
  EXPECT_EQ(bent["products"].as_array()[0].at("drift"), (json::array{"counter 3"})) << drift.out;
  auto fixed = reconcile_json(db.url, {"--fix"});
  EXPECT_EQ(fixed.code, 0) << fixed.out;
  EXPECT_EQ(summary_of(fixed.out)["fixed"], (json::array{product + " counter 8 -> 5"})) << fixed.out;
  EXPECT_EQ(redis_get("{p:" + product + "}:stock"), "5");

  auto failed = reconcile_json("postgresql://orders:orders@127.0.0.1:" + std::to_string(free_port()) + "/none");
  EXPECT_EQ(failed.code, 3);
  EXPECT_EQ(failed.out, "");
  auto line = json::parse(failed.err);
  EXPECT_EQ(line.at("level"), "error") << failed.err;
  EXPECT_EQ(std::string(line.at("msg").as_string()).rfind("orders reconcile: PostgreSQL unavailable", 0), 0u)
      << failed.err;
}
