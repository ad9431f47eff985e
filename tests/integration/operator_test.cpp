// What an operator relies on: the admin token, the request log, the OpenAPI document.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <functional>
#include <regex>
#include <set>
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

TEST(AdminToken, UnsetClosesAdminRoutesWith403NamingTheSetting) {
  ApiProcess api({}, {{"ADMIN_TOKEN", ""}});
  auto refused = http_request(api.port(), "POST", "/api/products", kProduct);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(json_of(refused).at("code"), "FORBIDDEN");
  EXPECT_NE(refused.body.find("ADMIN_TOKEN"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("--insecure-admin"), std::string::npos) << refused.body;
  // A status change (marking an order PAID) is as closed as a catalog write; reads stay open.
  auto paid = http_request(api.port(), "PUT", "/api/orders/0190a000-0000-7000-8000-000000000001/status",
                           R"({"status":"PAID"})");
  EXPECT_EQ(paid.status, 403) << paid.body;
  EXPECT_EQ(http_get(api.port(), "/api/products").status, 200);
  EXPECT_NE(api.process().output().find("ADMIN_TOKEN is not set"), std::string::npos);
}

TEST(AdminToken, InsecureAdminOpensThemWithOneWarning) {
  ApiProcess api({"--insecure-admin"}, {{"ADMIN_TOKEN", ""}});
  EXPECT_EQ(http_request(api.port(), "POST", "/api/products", kProduct).status, 201);
  const std::string out = api.process().output();
  const auto first = out.find("--insecure-admin without ADMIN_TOKEN");
  ASSERT_NE(first, std::string::npos) << out;
  EXPECT_EQ(out.find("--insecure-admin without ADMIN_TOKEN", first + 1), std::string::npos);
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

std::string lower_case(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The members of `real` (recursively, arrays through their items) that `example` lacks, as
// "$.data.items[].unitPrice": an example shows every member the service really sends.
void uncovered(const json::value& real, const json::value& example, const std::string& at,
               std::vector<std::string>& out) {
  if (real.is_object() && example.is_object()) {
    for (const auto& [key, value] : real.as_object()) {
      const std::string where = at + "." + std::string(key);
      if (const json::value* e = example.as_object().if_contains(key)) uncovered(value, *e, where, out);
      else out.push_back(where);
    }
  } else if (real.is_array() && example.is_array() && !example.as_array().empty()) {
    for (const json::value& item : real.as_array()) uncovered(item, example.as_array()[0], at + "[]", out);
  }
}

// An answer read off a raw exchange (HEAD, oversized headers): status, headers, body.
HttpResult parse_raw(const std::string& answer) {
  HttpResult r;
  const auto head_end = answer.find("\r\n\r\n");
  if (answer.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) {
    ADD_FAILURE() << "not an HTTP answer: " << answer.substr(0, 200);
    return r;
  }
  r.status = std::stoi(answer.substr(9, 3));
  std::istringstream lines(answer.substr(0, head_end));
  std::string line;
  std::getline(lines, line);  // the status line
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[lower_case(line.substr(0, colon))] = value;
  }
  r.body = answer.substr(head_end + 4);
  return r;
}

// Checks one real answer against the document: its status must be documented for the route,
// its body must match that status's schema, it must carry the headers that always come with
// it (X-Request-Id where the document lists it), and a success must show no member that the
// document's example for it lacks.
class ContractCheck {
 public:
  explicit ContractCheck(std::uint16_t port) : port_(port) {
    auto doc = http_get(port, "/api-docs?format=json");
    if (doc.status != 200) throw std::runtime_error("GET /api-docs?format=json: " + std::to_string(doc.status));
    document_ = json_of(doc);
  }

  const json::value& document() const { return document_; }

  HttpResult call(const std::string& method, const std::string& pattern, const std::string& target,
                  const std::string& body = {}, const Headers& headers = {}) {
    return record(method, pattern, target, http_request(port_, method, target, body, headers));
  }

  // Holds an answer obtained some other way to the document, as call() does.
  HttpResult record(const std::string& method, const std::string& pattern, const std::string& target, HttpResult r) {
    const std::string op = lower_case(method);
    const std::string where = method + ' ' + target + " (" + std::to_string(r.status) + ")";
    const json::value* response = response_object(document_, pattern, op, r.status);
    const json::value* schema = response_schema(document_, pattern, op, r.status);
    if (!response || !schema) {
      ADD_FAILURE() << method << ' ' << pattern << " answered " << r.status << ", which the document does not list";
      return r;
    }
    const json::value body = json_of(r);
    for (const std::string& problem : validate(document_, *schema, body)) {
      ADD_FAILURE() << where << ": " << problem << "\n" << r.body;
    }
    const json::object* documented_headers = nullptr;
    if (const json::value* h = response->as_object().if_contains("headers")) documented_headers = h->if_object();
    if (documented_headers && documented_headers->contains("X-Request-Id")) {
      static const std::regex token("^[A-Za-z0-9._:-]{1,128}$");
      EXPECT_TRUE(std::regex_match(r.header("x-request-id"), token))
          << where << ": X-Request-Id is \"" << r.header("x-request-id") << '"';
    }
    if (r.status / 100 == 2) {
      const json::value* example = nullptr;
      if (const json::value* content = response->as_object().if_contains("content")) {
        if (const json::value* media = content->as_object().if_contains("application/json")) {
          example = media->as_object().if_contains("example");
        }
      }
      if (!example) {
        ADD_FAILURE() << where << ": the document has no example for it";
      } else {
        std::vector<std::string> missing;
        uncovered(body, *example, "$", missing);
        for (const std::string& m : missing) ADD_FAILURE() << where << ": the example has no " << m << "\n" << r.body;
      }
    }
    ++checked_;
    return r;
  }

  // The document's example body for an operation, changed by `edit` (unique names, real ids).
  std::string example_body(const std::string& pattern, const std::string& method,
                           const std::function<void(json::object&)>& edit = {}) const {
    json::value example = document_.at("paths")
                              .at(pattern)
                              .at(lower_case(method))
                              .at("requestBody")
                              .at("content")
                              .at("application/json")
                              .at("example");
    if (edit) edit(example.as_object());
    return json::serialize(example);
  }

  // A path with its parameters replaced by the document's examples of them.
  std::string example_path(const std::string& pattern, const std::string& method) const {
    std::vector<const json::value*> parameters;
    const json::object& item = document_.at("paths").at(pattern).as_object();
    for (const json::value* list :
         {item.if_contains("parameters"), item.at(lower_case(method)).as_object().if_contains("parameters")}) {
      if (!list) continue;
      for (const json::value& p : list->as_array()) parameters.push_back(&p);
    }
    std::string path = pattern;
    for (const json::value* p : parameters) {
      const json::value* parameter = p;
      if (p->as_object().contains("$ref")) {
        const std::string ref(p->at("$ref").as_string());  // #/components/parameters/Name
        parameter = &document_.at("components").at("parameters").at(ref.substr(ref.rfind('/') + 1));
      }
      if (parameter->at("in") != "path") continue;
      const std::string name = "{" + std::string(parameter->at("name").as_string()) + "}";
      path.replace(path.find(name), name.size(), std::string(parameter->at("example").as_string()));
    }
    return path;
  }

  int checked() const { return checked_; }

 private:
  std::uint16_t port_;
  json::value document_;
  int checked_ = 0;
};

std::string data_id(const HttpResult& r) { return std::string(json_of(r).at("data").at("id").as_string()); }

std::string first_field(const HttpResult& r) {
  const json::value body = json_of(r);
  const auto& details = body.at("details").as_array();
  return details.empty() ? std::string() : std::string(details[0].at("field").as_string());
}

}  // namespace

TEST(ApiContract, RealResponsesOfEveryRouteMatchTheDocument) {
  ApiProcess api;
  Process worker({required_env("ORDERS_BINARY"), "worker"});
  ContractCheck check(api.port());
  const std::string suffix = std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr));

  check.call("GET", "/health", "/health");
  check.call("GET", "/ready", "/ready");

  // The document's request examples are the requests, with unique names and the test's own ids.
  auto category = check.call(
      "POST", "/api/categories", "/api/categories",
      check.example_body("/api/categories", "post", [&](json::object& o) { o["name"] = "Contract " + suffix; }));
  ASSERT_EQ(category.status, 201) << category.body;
  const std::string category_id = data_id(category);
  check.call("GET", "/api/categories", "/api/categories");
  check.call("GET", "/api/categories/{id}", "/api/categories/" + category_id);
  check.call("PUT", "/api/categories/{id}", "/api/categories/" + category_id,
             check.example_body("/api/categories/{id}", "put"));
  check.call("POST", "/api/categories", "/api/categories", R"({"name":"Contract )" + suffix + R"("})");  // 409

  // The example's sale window is a fixed day, maybe over by now: this product is always on sale.
  auto product = check.call("POST", "/api/products", "/api/products",
                            check.example_body("/api/products", "post", [&](json::object& o) {
                              o["name"] = "Contract item";
                              o["price"] = 12.5;
                              o["stock"] = 5;
                              o["sku"] = "C-" + suffix;
                              o["categoryId"] = category_id;
                              o["maxPerUser"] = 4;
                              o.erase("saleStartsAt");
                              o.erase("saleEndsAt");
                            }));
  ASSERT_EQ(product.status, 201) << product.body;
  const std::string product_id = data_id(product);
  check.call("GET", "/api/products", "/api/products?limit=5&categoryId=" + category_id);
  check.call("GET", "/api/products/{id}", "/api/products/" + product_id);  // MISS
  check.call("GET", "/api/products/{id}", "/api/products/" + product_id);  // HIT
  check.call("PUT", "/api/products/{id}", "/api/products/" + product_id, R"({"price":11.00})");
  check.call("GET", "/api/products/{id}", "/api/products/00000000-0000-7000-8000-000000000000");  // 404
  check.call("GET", "/api/products", "/api/products?limit=500");                                  // 400

  const std::string buyer = "contract-" + suffix;
  const std::string purchase = check.example_body("/api/orders", "post", [&](json::object& o) {
    o["userId"] = buyer;
    o["items"].as_array()[0].as_object()["productId"] = product_id;
  });
  auto bought = check.call("POST", "/api/orders", "/api/orders", purchase, {{"Idempotency-Key", "k1-" + suffix}});
  ASSERT_EQ(bought.status, 202) << bought.body;
  const std::string order_id = data_id(bought);
  auto replay = check.call("POST", "/api/orders", "/api/orders", purchase, {{"Idempotency-Key", "k1-" + suffix}});
  EXPECT_EQ(replay.header("idempotent-replayed"), "true");
  EXPECT_EQ(replay.header("location"), "/api/orders/" + order_id);
  check.call("POST", "/api/orders", "/api/orders", R"({"userId":"x","items":[]})");  // 400
  // Refused (3 left, 4 wanted: OUT_OF_STOCK), twice with one key: a refusal is not stored, so not replayed.
  const std::string too_many = R"({"userId":"other-)" + suffix + R"(","items":[{"productId":")" + product_id +
                               R"(","quantity":4}]})";
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto refused = check.call("POST", "/api/orders", "/api/orders", too_many, {{"Idempotency-Key", "k2-" + suffix}});
    EXPECT_EQ(refused.status, 409) << refused.body;
    EXPECT_EQ(refused.header("idempotent-replayed"), "") << "attempt " << attempt;
  }
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
  check.call("PUT", "/api/orders/{id}/status", "/api/orders/" + order_id + "/status",
             check.example_body("/api/orders/{id}/status", "put"));  // COMPLETED

  // Restocked by the document's example change: the refused key is decided afresh, and accepted.
  check.call("PUT", "/api/products/{id}", "/api/products/" + product_id,
             check.example_body("/api/products/{id}", "put"));
  auto afresh = check.call("POST", "/api/orders", "/api/orders", too_many, {{"Idempotency-Key", "k2-" + suffix}});
  EXPECT_EQ(afresh.status, 202) << afresh.body;
  EXPECT_EQ(afresh.header("idempotent-replayed"), "");

  auto second = check.call(
      "POST", "/api/orders", "/api/orders",
      R"({"userId":")" + buyer + R"(","items":[{"productId":")" + product_id + R"(","quantity":1}]})");
  ASSERT_EQ(second.status, 202) << second.body;
  check.call("DELETE", "/api/orders/{id}", "/api/orders/" + data_id(second));
  check.call("DELETE", "/api/orders/{id}", "/api/orders/" + data_id(second));  // 409 ALREADY_CANCELLED

  // Every operation with path parameters, called with the document's examples of them (and of
  // its body): they are well-formed, so the answer is never a 400 (404 for the example ids).
  static const std::set<std::string> kMethods{"get", "put", "post", "delete"};
  int replayed = 0;
  for (const auto& [pattern, item] : check.document().at("paths").as_object()) {
    if (std::string_view(pattern).find('{') == std::string_view::npos) continue;
    for (const auto& [method_key, operation] : item.as_object()) {
      if (!kMethods.contains(method_key)) continue;
      std::string method(method_key);
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const std::string body = operation.as_object().contains("requestBody") ? check.example_body(pattern, method) : "";
      auto r = check.call(method, std::string(pattern), check.example_path(pattern, method), body);
      EXPECT_NE(r.status, 400) << method << ' ' << pattern << ": " << r.body;
      ++replayed;
    }
  }
  EXPECT_GE(replayed, 10);

  check.call("DELETE", "/api/products/{id}", "/api/products/" + product_id);
  check.call("DELETE", "/api/categories/{id}", "/api/categories/" + category_id);
  EXPECT_GE(check.checked(), 40);
  worker.signal(SIGTERM);
  worker.wait(std::chrono::seconds(10));
}

TEST(ApiContract, TodaysHttpRulesMatchTheDocument) {
  ApiProcess api;
  ContractCheck check(api.port());
  const auto port = api.port();
  const std::string suffix = std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr));
  const std::string product_id = create_product(port, R"({"name":"Rules item","price":1.00,"stock":10})");
  const std::string line = R"({"productId":")" + product_id + R"(","quantity":1})";

  // X-Request-Id: the caller's token is echoed, anything else replaced by a UUID.
  auto traced = check.call("GET", "/health", "/health", {}, {{"X-Request-Id", "trace-" + suffix + ".a:b_c"}});
  EXPECT_EQ(traced.header("x-request-id"), "trace-" + suffix + ".a:b_c");
  auto untraced = check.call("GET", "/health", "/health", {}, {{"X-Request-Id", "has space"}});
  EXPECT_EQ(untraced.header("x-request-id").size(), 36u) << untraced.header("x-request-id");

  // HEAD on GET routes: the GET's status and headers, no body.
  for (const std::string& target : {std::string("/health"), "/api/products/" + product_id}) {
    const auto get = http_get(port, target);
    const auto head = parse_raw(
        raw_exchange(port, "HEAD " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    EXPECT_EQ(head.status, get.status) << target;
    EXPECT_EQ(head.body, "") << target;
    EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size())) << target;
    EXPECT_EQ(head.header("x-request-id").size(), 36u) << target;
  }

  // 415: a body that is not JSON, on any route with a body.
  auto form = check.call("POST", "/api/orders", "/api/orders", "userId=a", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(form.status, 415);
  EXPECT_EQ(first_field(form), "Content-Type");
  EXPECT_EQ(check
                .call("PUT", "/api/products/{id}", "/api/products/" + product_id, R"({"stock":1})",
                      {{"Content-Type", "application/x-www-form-urlencoded"}})
                .status,
            415);

  // 431: headers over 16 KiB (the answer comes before routing, then the connection closes).
  auto big = parse_raw(
      raw_exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n"));
  EXPECT_EQ(check.record("GET", "/health", "/health", big).status, 431);

  // A member named twice is a 400 naming it, whatever the route.
  auto twice = check.call("POST", "/api/orders", "/api/orders",
                          R"({"userId":"a","userId":"b","items":[)" + line + "]}");
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(first_field(twice), "userId");
  auto twice_inside = check.call(
      "POST", "/api/orders", "/api/orders",
      R"({"userId":"a","items":[)" + line + R"(,{"productId":")" + product_id + R"(","quantity":1,"quantity":2}]})");
  EXPECT_EQ(twice_inside.status, 400);
  EXPECT_EQ(first_field(twice_inside), "items[1].quantity");
  auto twice_put = check.call("PUT", "/api/products/{id}", "/api/products/" + product_id,
                              R"({"price":1.00,"price":2.00})");
  EXPECT_EQ(twice_put.status, 400);
  EXPECT_EQ(first_field(twice_put), "price");

  // An empty Idempotency-Key is a 400 naming it, not "no key".
  auto empty_key = check.call("POST", "/api/orders", "/api/orders", R"({"userId":"a","items":[)" + line + "]}",
                              {{"Idempotency-Key", ""}});
  EXPECT_EQ(empty_key.status, 400);
  EXPECT_EQ(first_field(empty_key), "Idempotency-Key");

  // A total the record cannot hold (numeric(14,2)): two lines at the highest price and
  // quantity, each within it, together above it; nothing is reserved.
  const std::string dear = R"({"name":"Dear item","price":999999999.99,"stock":1000})";
  const std::string a = create_product(port, dear);
  const std::string b = create_product(port, dear);
  auto too_dear = check.call("POST", "/api/orders", "/api/orders",
                             R"({"userId":"rich-)" + suffix + R"(","items":[{"productId":")" + a +
                                 R"(","quantity":1000},{"productId":")" + b + R"(","quantity":1000}]})");
  EXPECT_EQ(too_dear.status, 400) << too_dear.body;
  EXPECT_EQ(first_field(too_dear), "items");
  EXPECT_EQ(json_of(http_get(port, "/api/products/" + a)).at("data").at("stock"), 1000);
  EXPECT_EQ(check.checked(), 10);
}
