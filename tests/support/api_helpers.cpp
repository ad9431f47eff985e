#include "support/api_helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "common/uuid.hpp"
#include "config/config.hpp"
#include "support/process.hpp"

namespace orders::testing {

double metric_value(std::uint16_t port, const std::string& series) {
  auto r = http_get(port, "/metrics");
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return 0;
}

boost::json::value json_of(const HttpResult& r) { return boost::json::parse(r.body); }

std::string create_product(std::uint16_t port, const std::string& body) {
  auto r = http_request(port, "POST", "/api/products", body);
  if (r.status != 201) throw std::runtime_error("create product failed: " + std::to_string(r.status) + " " + r.body);
  return std::string(json_of(r).at("data").at("id").as_string());
}

std::string order_body(const std::string& user, const std::vector<std::pair<std::string, int>>& items) {
  boost::json::array array;
  for (const auto& [product, quantity] : items)
    array.push_back(boost::json::object{{"productId", product}, {"quantity", quantity}});
  return boost::json::serialize(boost::json::object{{"userId", user}, {"items", array}});
}

HttpResult buy(std::uint16_t port, const std::string& user, const std::string& product, int quantity,
               const std::string& key) {
  Headers headers;
  if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
  // Longer than any answer the API may take (a lost Redis reply is resolved within 4 s).
  return http_request(port, "POST", "/api/orders", order_body(user, {{product, quantity}}), headers,
                      std::chrono::seconds(15));
}

std::string error_code_of(const HttpResult& r) {
  auto v = json_of(r);
  return v.is_object() && v.as_object().contains("code") ? std::string(v.at("code").as_string()) : "";
}

std::string shell(const std::vector<std::string>& argv) { return run(argv).output; }

namespace {
std::string chomp(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}
}  // namespace

bool cluster_mode() {
  const char* nodes = std::getenv("REDIS_CLUSTER_NODES");
  return nodes != nullptr && *nodes != '\0';
}

std::string redis_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"redis-cli"};
  if (cluster_mode()) {
    // The first seed node; -c follows MOVED to the master of each key's slot.
    const std::string nodes = std::getenv("REDIS_CLUSTER_NODES");
    const std::string first = nodes.substr(0, nodes.find(','));
    argv.insert(argv.end(), {"-c", "-p", first.substr(first.rfind(':') + 1)});
  } else {
    argv.insert(argv.end(), {"-p", std::to_string(config::parse_redis_url(required_env("REDIS_URL")).port)});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return chomp(shell(argv));
}

std::string psql(const std::string& sql) { return chomp(shell({"psql", required_env("DATABASE_URL"), "-tAc", sql})); }

JsonCommand run_orders_json(const std::vector<std::string>& args) {
  const std::string err_file = "/tmp/orders-json-" + uuid::make_v7().substr(24) + ".err";
  std::vector<std::string> argv{"sh", "-c", "exec \"$@\" 2>\"" + err_file + "\"", "sh", required_env("ORDERS_BINARY")};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv, {{"LOG_FORMAT", "json"}});
  JsonCommand c{r.code, r.output, shell({"cat", err_file})};
  std::remove(err_file.c_str());
  return c;
}

boost::json::object summary_of(const std::string& out) {
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  boost::system::error_code ec;
  auto v = boost::json::parse(out, ec);
  EXPECT_FALSE(ec) << out;
  EXPECT_TRUE(v.is_object()) << out;
  return v.is_object() ? v.as_object() : boost::json::object{};
}

HttpResult wait_for_status(std::uint16_t port, const std::string& target, int status, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  HttpResult last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = http_get(port, target);
    if (last.status == status) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return last;
}

}  // namespace orders::testing
