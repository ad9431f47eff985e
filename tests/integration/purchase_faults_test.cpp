#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <mutex>
#include <set>

#include "common/uuid.hpp"
#include "config/config.hpp"
#include "support/amqp_queue.hpp"
#include "support/api_helpers.hpp"
#include "support/process.hpp"

using namespace orders::testing;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

pid_t rabbitmq_pid() {
  std::ifstream in(required_env("ORDERS_TEST_STACK_DIR") + "/rabbitmq/rabbitmq.pid");
  pid_t pid = 0;
  in >> pid;
  return pid;
}

void restart_stack() {
  auto r = run({required_env("ORDERS_SOURCE_DIR") + "/scripts/stack.sh", "start", "--dir",
                required_env("ORDERS_TEST_STACK_DIR")},
               {}, std::chrono::seconds(120));
  ASSERT_EQ(r.code, 0) << r.output;
}

std::string body_for(const std::string& user, const std::string& product) {
  return R"({"userId":")" + user + R"(","items":[{"productId":")" + product + R"(","quantity":1}]})";
}

// The order ids of the order.created events in `messages`.
std::set<std::string> order_ids(const std::vector<ReceivedMessage>& messages) {
  std::set<std::string> ids;
  for (const auto& m : messages)
    ids.insert(std::string(json::parse(m.body).at("data").at("order").at("id").as_string()));
  return ids;
}

// Fires `n` concurrent purchases of one unit each; every answer must come within 3 s and be
// 202 or 503 with Retry-After. Returns the accepted order ids.
std::set<std::string> purchases_within_3s(std::uint16_t port, const std::string& product, int n, const std::string& tag,
                                          int* unavailable) {
  std::mutex mutex;
  std::set<std::string> accepted;
  int other = 0;
  Clock::duration slowest{};
  concurrently(n, [&](int i) {
    const auto start = Clock::now();
    auto r = http_request(port, "POST", "/api/orders", body_for(tag + std::to_string(i), product));
    const auto took = Clock::now() - start;
    std::lock_guard lock(mutex);
    slowest = std::max(slowest, took);
    if (r.status == 202) accepted.insert(std::string(json_of(r).at("data").at("id").as_string()));
    else if (r.status == 503 && !r.header("retry-after").empty()) ++*unavailable;
    else ++other;
  });
  EXPECT_LT(slowest, std::chrono::seconds(3));
  EXPECT_EQ(other, 0);
  EXPECT_EQ(static_cast<int>(accepted.size()) + *unavailable, n);
  return accepted;
}

void expect_all_delivered(TestQueue& queue, const std::set<std::string>& accepted) {
  std::set<std::string> delivered;
  const auto deadline = Clock::now() + std::chrono::seconds(40);
  while (Clock::now() < deadline &&
         !std::includes(delivered.begin(), delivered.end(), accepted.begin(), accepted.end())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    for (const auto& id : order_ids(queue.drain(200))) delivered.insert(id);
  }
  for (const auto& id : accepted)
    EXPECT_TRUE(delivered.count(id)) << "accepted order " << id << " never reached the queue";
}

HttpResult wait_ready(std::uint16_t port) {
  HttpResult r;
  for (int i = 0; i < 300; ++i) {
    r = http_get(port, "/ready");
    if (r.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return r;
}

}  // namespace

TEST(PurchaseFaults, SlowBrokerAnswersWithin3sFromTheOutboxAndEveryOrderArrives) {
  ApiProcess api;
  std::string product = create_product(api.port(), R"({"name":"slow","price":5,"stock":1000})");
  TestQueue queue("order.created", /*durable=*/true);
  pid_t broker = rabbitmq_pid();
  ASSERT_GT(broker, 0);
  ASSERT_EQ(::kill(broker, SIGSTOP), 0);  // alive but not answering: no confirms
  int unavailable = 0;
  auto accepted = purchases_within_3s(api.port(), product, 30, "slow", &unavailable);
  ::kill(broker, SIGCONT);
  EXPECT_EQ(accepted.size(), 30u) << "sent but unconfirmed orders are safe in the outbox: 202";
  EXPECT_EQ(redis_cli({"GET", "{p:" + product + "}:stock"}), std::to_string(1000 - accepted.size()));
  expect_all_delivered(queue, accepted);
}

TEST(PurchaseFaults, BrokerDownAnswersWithin3sKeepsAccountingExactAndDeliversAfterRestart) {
  ApiProcess api;
  std::string product = create_product(api.port(), R"({"name":"fault","price":5,"stock":1000})");
  TestQueue queue("order.created", /*durable=*/true);

  pid_t broker = rabbitmq_pid();
  ASSERT_GT(broker, 0);
  ASSERT_EQ(::kill(broker, SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int unavailable = 0;
  auto accepted = purchases_within_3s(api.port(), product, 40, "down", &unavailable);
  EXPECT_GT(unavailable, 0) << "with the broker gone, purchases are released and refused";
  EXPECT_EQ(redis_cli({"GET", "{p:" + product + "}:stock"}), std::to_string(1000 - accepted.size()))
      << "counter + accepted units = initial stock";

  restart_stack();
  auto ready = wait_ready(api.port());
  EXPECT_EQ(ready.status, 200) << ready.body;
  expect_all_delivered(queue, accepted);
  // And purchases flow again.
  auto after = http_request(api.port(), "POST", "/api/orders", body_for("after", product));
  EXPECT_EQ(after.status, 202) << after.body;
}

TEST(PurchaseFaults, KilledApiProcessLeavesNothingBehindTheRelayPublishes) {
  ApiProcess survivor;  // its relay picks up what the killed process held
  std::string product = create_product(survivor.port(), R"({"name":"crash","price":5,"stock":100000})");
  TestQueue queue("order.created", /*durable=*/true);
  auto victim = std::make_unique<ApiProcess>();

  std::mutex mutex;
  std::set<std::string> accepted;
  std::atomic<bool> stop{false};
  std::vector<std::thread> buyers;
  for (int t = 0; t < 16; ++t) {
    buyers.emplace_back([&, t] {
      for (int i = 0; i < 2000 && !stop; ++i) {
        try {
          auto r = http_request(victim->port(), "POST", "/api/orders",
                                body_for("k" + std::to_string(t) + "x" + std::to_string(i), product), {},
                                std::chrono::seconds(5));
          if (r.status == 202) {
            std::lock_guard lock(mutex);
            accepted.insert(std::string(json_of(r).at("data").at("id").as_string()));
          }
        } catch (const std::exception&) {
          return;  // the process is gone
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  victim->process().signal(SIGKILL);
  stop = true;
  for (auto& b : buyers) b.join();
  ASSERT_GT(accepted.size(), 10u);

  std::set<std::string> delivered;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline &&
         !std::includes(delivered.begin(), delivered.end(), accepted.begin(), accepted.end())) {
    for (const auto& id : order_ids(queue.drain(300))) delivered.insert(id);
  }
  std::size_t missing = 0;
  for (const auto& id : accepted) missing += delivered.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "of " << accepted.size() << " accepted orders";
}
