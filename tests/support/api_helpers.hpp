#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace orders::testing {

// The value of one Prometheus series (exact name with labels) from /metrics, 0 when absent.
double metric_value(std::uint16_t port, const std::string& series);

// Parses a response body as JSON.
boost::json::value json_of(const HttpResult& r);

// {"userId": user, "items": [{productId, quantity}...]}, the body of POST /api/orders.
std::string order_body(const std::string& user, const std::vector<std::pair<std::string, int>>& items);

// POST /api/orders of one item, with an Idempotency-Key when `key` is not empty.
HttpResult buy(std::uint16_t port, const std::string& user, const std::string& product, int quantity = 1,
               const std::string& key = "");

// The error envelope's `code`, empty when the body has none.
std::string error_code_of(const HttpResult& r);
// GETs `target` every 100 ms until it answers `status` or `timeout` passes; the last answer.
HttpResult wait_for_status(std::uint16_t port, const std::string& target, int status,
                           std::chrono::seconds timeout = std::chrono::seconds(15));

// Creates a product through the API and returns its id (fails the test on anything but 201).
std::string create_product(std::uint16_t port, const std::string& body);

// A command's combined output (redis-cli, psql, ...).
std::string shell(const std::vector<std::string>& argv);

// `orders ARGS...` with LOG_FORMAT=json: the exit code, stdout (the summary) and stderr apart.
struct JsonCommand {
  int code = -1;
  std::string out, err;
};
JsonCommand run_orders_json(const std::vector<std::string>& args);
// The one JSON object of a summary on stdout (fails the test on anything else).
boost::json::object summary_of(const std::string& out);

// Whether the tests run against the cluster stack (REDIS_CLUSTER_NODES set): the cluster run of
// the acceptance suite, where every process started is in cluster mode.
bool cluster_mode();

// redis-cli against the test stack's Redis (on the cluster stack: the cluster, following MOVED),
// output without the trailing newline.
std::string redis_cli(const std::vector<std::string>& args);
inline std::string redis_get(const std::string& key) { return redis_cli({"GET", key}); }
// psql -tA against the test stack's database, output without the trailing newline.
std::string psql(const std::string& sql);

// Runs `f(i)` for i in [0, n) on n threads released together: real concurrent requests. What a
// thread throws (a connection the API dropped) fails the test instead of ending the binary.
template <typename F>
void concurrently(int n, F f) {
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      try {
        f(i);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "thread " << i << " of " << n << " threw: " << e.what();
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
}

// Polls `condition` every 100 ms until it holds or `limit` passed; its last answer.
template <typename F>
bool eventually(F condition, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

// A fixture whose tests share one `orders api` process, started once per suite.
class SharedApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { api_ = std::make_unique<ApiProcess>(); }
  static void TearDownTestSuite() { api_.reset(); }
  std::uint16_t port() const { return api_->port(); }

 private:
  static inline std::unique_ptr<ApiProcess> api_;
};

}  // namespace orders::testing
