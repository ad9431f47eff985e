// What an operator relies on: the admin token, the request log, the OpenAPI document.
#include <gtest/gtest.h>

#include <sstream>

#include "support/api_helpers.hpp"
#include "support/process.hpp"
#include "support/schema_check.hpp"
#include "support/test_env.hpp"

using namespace orders::testing;
namespace json = boost::json;

namespace {

constexpr const char* kToken = "op-test-token-7f3a";
const std::string kProduct = R"({"name":"Admin Drop","price":5.00,"stock":10})";

Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

std::string code_of(const HttpResult& r) { return std::string(json_of(r).at("code").as_string()); }

// The JSON lines of a process's output (others skipped).
std::vector<json::object> json_lines(const std::string& output) {
  std::vector<json::object> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (!ec && v.is_object()) lines.push_back(v.as_object());
  }
  return lines;
}

}  // namespace

TEST(AdminToken, CatalogWritesAndStatusChangesNeedTheToken) {
  ApiProcess api({}, {{"ADMIN_TOKEN", kToken}});
  const auto port = api.port();

  auto anonymous = http_request(port, "POST", "/api/products", kProduct);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(code_of(anonymous), "UNAUTHORIZED");
  auto wrong = http_request(port, "POST", "/api/products", kProduct, bearer("op-test-token-7f3b"));
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(code_of(wrong), "FORBIDDEN");
  EXPECT_EQ(http_request(port, "POST", "/api/categories", R"({"name":"x"})").status, 401);

  auto created = http_request(port, "POST", "/api/products", kProduct, bearer(kToken));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id(json_of(created).at("data").at("id").as_string());
  EXPECT_EQ(http_request(port, "PUT", "/api/products/" + id, R"({"stock":20})").status, 401);
  EXPECT_EQ(http_request(port, "PUT", "/api/products/" + id, R"({"stock":20})", bearer(kToken)).status, 200);
  EXPECT_EQ(http_request(port, "DELETE", "/api/products/" + id, "").status, 401);

  // Reads, purchases and cancels stay open.
  EXPECT_EQ(http_get(port, "/api/products/" + id).status, 200);
  auto bought = http_request(port, "POST", "/api/orders",
                             R"({"userId":"op-buyer","items":[{"productId":")" + id + R"(","quantity":1}]})");
  ASSERT_EQ(bought.status, 202) << bought.body;
  const std::string order(json_of(bought).at("data").at("id").as_string());
  EXPECT_EQ(http_get(port, "/api/orders/" + order).status, 200);
  auto status = http_request(port, "PUT", "/api/orders/" + order + "/status", R"({"status":"COMPLETED"})");
  EXPECT_EQ(status.status, 401);
  EXPECT_EQ(http_request(port, "DELETE", "/api/orders/" + order, "").status, 200);

  EXPECT_EQ(api.process().output().find("ADMIN_TOKEN is not set"), std::string::npos);
}

TEST(AdminToken, UnsetLeavesAdminRoutesOpenWithOneWarning) {
  ApiProcess api;
  EXPECT_EQ(http_request(api.port(), "POST", "/api/products", kProduct).status, 201);
  const std::string out = api.process().output();
  const auto first = out.find("ADMIN_TOKEN is not set");
  ASSERT_NE(first, std::string::npos) << out;
  EXPECT_EQ(out.find("ADMIN_TOKEN is not set", first + 1), std::string::npos);
}

TEST(RequestLog, JsonFormatWritesOneObjectPerRequestWithTheOrderId) {
  ApiProcess api({}, {{"LOG_FORMAT", "json"}, {"LOG_LEVEL", "info"}});
  const std::string id = create_product(api.port(), kProduct);
  auto bought = http_request(api.port(), "POST", "/api/orders",
                             R"({"userId":"log-buyer","items":[{"productId":")" + id + R"(","quantity":1}]})");
  ASSERT_EQ(bought.status, 202);
  const std::string order(json_of(bought).at("data").at("id").as_string());
  EXPECT_EQ(http_get(api.port(), "/api/products/" + id).status, 200);
  EXPECT_EQ(http_get(api.port(), "/no/such/r\xc3\xa9\xff").status, 404);  // bytes a client may send

  std::vector<json::object> requests;
  // The log is written as the answer goes out; give the pipe a moment.
  for (int i = 0; i < 50 && requests.size() < 4; ++i) {
    requests.clear();
    for (auto& line : json_lines(api.process().output())) {
      if (line.contains("msg") && line.at("msg") == "request") requests.push_back(line);
    }
    if (requests.size() < 4) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The health probe of the test harness may add lines; ours are the last four.
  ASSERT_GE(requests.size(), 4u);
  const auto& purchase = requests[requests.size() - 3];
  EXPECT_EQ(purchase.at("method"), "POST");
  EXPECT_EQ(purchase.at("route"), "/api/orders");
  EXPECT_EQ(purchase.at("status"), 202);
  EXPECT_EQ(purchase.at("orderId").as_string(), order);
  EXPECT_TRUE(purchase.at("latencyMs").is_number());
  EXPECT_EQ(purchase.at("level"), "info");
  EXPECT_TRUE(purchase.contains("time"));
  const auto& read = requests[requests.size() - 2];
  EXPECT_EQ(read.at("route"), "/api/products/{id}");
  EXPECT_FALSE(read.contains("orderId"));
  const auto& unmatched = requests.back();
  EXPECT_EQ(unmatched.at("route"), "unmatched");
  EXPECT_EQ(unmatched.at("path"), "/no/such/r%C3%A9%FF");
  EXPECT_EQ(unmatched.at("status"), 404);

  // Every line of the process is JSON, start-up messages included.
  std::istringstream in(api.process().output());
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::parse(line, ec);
    EXPECT_FALSE(ec) << line;
  }
}

TEST(RequestLog, WarnLevelWritesNoRequestLines) {
  ApiProcess api({}, {{"LOG_LEVEL", "warn"}});
  EXPECT_EQ(http_get(api.port(), "/health").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(api.process().output().find("route=/health"), std::string::npos) << api.process().output();
}

TEST(ApiDocs, ServesTheDocumentAsYamlAndJson) {
  ApiProcess api;
  auto yaml = http_get(api.port(), "/api-docs");
  ASSERT_EQ(yaml.status, 200);
  EXPECT_EQ(yaml.header("content-type"), "application/yaml");
  EXPECT_EQ(yaml.body.rfind("openapi: ", 0), 0u) << yaml.body.substr(0, 80);

  auto as_json = http_get(api.port(), "/api-docs?format=json");
  ASSERT_EQ(as_json.status, 200);
  EXPECT_EQ(as_json.header("content-type"), "application/json");
  auto doc = json_of(as_json);
  EXPECT_EQ(std::string(doc.at("openapi").as_string()).rfind("3.0", 0), 0u);
  EXPECT_TRUE(doc.at("paths").as_object().contains("/api/orders"));

  auto bad = http_get(api.port(), "/api-docs?format=xml");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json_of(bad).at("details").at(0).at("field"), "format");
}

namespace {

// Checks one real answer against the document: its status must be documented for the route
// and its body must match that status's schema.
class ContractCheck {
 public:
  explicit ContractCheck(std::uint16_t port) : port_(port) {
    auto doc = http_get(port, "/api-docs?format=json");
    if (doc.status != 200) throw std::runtime_error("GET /api-docs?format=json: " + std::to_string(doc.status));
    document_ = json_of(doc);
  }

  HttpResult call(const std::string& method, const std::string& pattern, const std::string& target,
                  const std::string& body = {}, const Headers& headers = {}) {
    HttpResult r = http_request(port_, method, target, body, headers);
    std::string lower = method;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const json::value* schema = response_schema(document_, pattern, lower, r.status);
    if (!schema) {
      ADD_FAILURE() << method << ' ' << pattern << " answered " << r.status << ", which the document does not list";
      return r;
    }
    for (const std::string& problem : validate(document_, *schema, json_of(r))) {
      ADD_FAILURE() << method << ' ' << target << " (" << r.status << "): " << problem << "\n" << r.body;
    }
    ++checked_;
    return r;
  }

  int checked() const { return checked_; }

 private:
  std::uint16_t port_;
  json::value document_;
  int checked_ = 0;
};

std::string data_id(const HttpResult& r) { return std::string(json_of(r).at("data").at("id").as_string()); }

}  // namespace

TEST(ApiContract, RealResponsesOfEveryRouteMatchTheDocument) {
  ApiProcess api;
  Process worker({required_env("ORDERS_BINARY"), "worker"});
  ContractCheck check(api.port());
  const std::string suffix = std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr));

  check.call("GET", "/health", "/health");
  check.call("GET", "/ready", "/ready");

  auto category = check.call("POST", "/api/categories", "/api/categories",
                             R"({"name":"Contract )" + suffix + R"(","description":"for the contract test"})");
  ASSERT_EQ(category.status, 201) << category.body;
  const std::string category_id = data_id(category);
  check.call("GET", "/api/categories", "/api/categories");
  check.call("GET", "/api/categories/{id}", "/api/categories/" + category_id);
  check.call("PUT", "/api/categories/{id}", "/api/categories/" + category_id, R"({"description":"changed"})");
  check.call("POST", "/api/categories", "/api/categories", R"({"name":"Contract )" + suffix + R"("})");  // 409

  auto product = check.call("POST", "/api/products", "/api/products",
                            R"({"name":"Contract item","price":12.50,"stock":5,"sku":"C-)" + suffix +
                                R"(","categoryId":")" + category_id + R"(","maxPerUser":3})");
  ASSERT_EQ(product.status, 201) << product.body;
  const std::string product_id = data_id(product);
  check.call("GET", "/api/products", "/api/products?limit=5&categoryId=" + category_id);
  check.call("GET", "/api/products/{id}", "/api/products/" + product_id);  // MISS
  check.call("GET", "/api/products/{id}", "/api/products/" + product_id);  // HIT
  check.call("PUT", "/api/products/{id}", "/api/products/" + product_id, R"({"price":11.00})");
  check.call("GET", "/api/products/{id}", "/api/products/00000000-0000-7000-8000-000000000000");  // 404
  check.call("GET", "/api/products", "/api/products?limit=500");                                  // 400

  const std::string buyer = "contract-" + suffix;
  const std::string purchase = R"({"userId":")" + buyer + R"(","items":[{"productId":")" + product_id +
                               R"(","quantity":2}]})";
  auto bought = check.call("POST", "/api/orders", "/api/orders", purchase, {{"Idempotency-Key", "k1-" + suffix}});
  ASSERT_EQ(bought.status, 202) << bought.body;
  const std::string order_id = data_id(bought);
  auto replay = check.call("POST", "/api/orders", "/api/orders", purchase, {{"Idempotency-Key", "k1-" + suffix}});
  EXPECT_EQ(replay.header("idempotent-replayed"), "true");
  EXPECT_EQ(replay.header("location"), "/api/orders/" + order_id);
  check.call("POST", "/api/orders", "/api/orders", R"({"userId":"x","items":[]})");  // 400
  check.call(
      "POST", "/api/orders", "/api/orders",
      R"({"userId":"other-)" + suffix + R"(","items":[{"productId":")" + product_id + R"(","quantity":4}]})");  // 409
  check.call("GET", "/api/orders/{id}", "/api/orders/" + order_id);  // PENDING or already CONFIRMED

  // The worker persists it; then the PostgreSQL-backed reads have it.
  bool confirmed = false;
  for (int i = 0; i < 100 && !confirmed; ++i) {
    auto r = http_get(api.port(), "/api/orders/" + order_id);
    confirmed = r.status == 200 && json_of(r).at("data").at("status") == "CONFIRMED";
    if (!confirmed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(confirmed) << worker.output();
  check.call("GET", "/api/orders/{id}", "/api/orders/" + order_id);
  check.call("GET", "/api/orders", "/api/orders?limit=2&userId=" + buyer);
  check.call("GET", "/api/orders/user/{userId}", "/api/orders/user/" + buyer);
  check.call("GET", "/api/orders/{id}/logs", "/api/orders/" + order_id + "/logs");
  check.call("PUT", "/api/orders/{id}/status", "/api/orders/" + order_id + "/status",
             R"({"status":"PENDING"})");  // 409
  check.call("PUT", "/api/orders/{id}/status", "/api/orders/" + order_id + "/status", R"({"status":"COMPLETED"})");

  auto second = check.call(
      "POST", "/api/orders", "/api/orders",
      R"({"userId":")" + buyer + R"(","items":[{"productId":")" + product_id + R"(","quantity":1}]})");
  ASSERT_EQ(second.status, 202) << second.body;
  check.call("DELETE", "/api/orders/{id}", "/api/orders/" + data_id(second));
  check.call("DELETE", "/api/orders/{id}", "/api/orders/" + data_id(second));  // 409 ALREADY_CANCELLED

  check.call("DELETE", "/api/products/{id}", "/api/products/" + product_id);
  check.call("DELETE", "/api/categories/{id}", "/api/categories/" + category_id);
  EXPECT_GE(check.checked(), 30);
  worker.signal(SIGTERM);
  worker.wait(std::chrono::seconds(10));
}
