// The router of `orders api` and docs/openapi.yaml describe the same routes: a route missing
// from either side fails here.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <set>

#include "app/api_shard.hpp"
#include "common/embedded.hpp"

using namespace orders;
namespace json = boost::json;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

json::value openapi_document() {
  auto text = embedded::find("docs/openapi.json");
  if (!text) throw std::runtime_error("docs/openapi.json is not embedded");
  return json::parse(*text);
}

// The routes table of a real API shard; its clients never start, so nothing connects.
class ApiRoutesTest : public ::testing::Test {
 protected:
  ApiRoutesTest()
      : publisher_(config::AmqpEndpoint{.host = "127.0.0.1", .port = 1}),
        shard_(io_,
               config::PostgresEndpoint{.host = "127.0.0.1", .port = 1, .conninfo = "postgresql://x@127.0.0.1:1/x"},
               config::RedisEndpoint{.host = "127.0.0.1", .port = 1}, std::vector<redis::ClusterNode>{},
               postgres::PoolOptions{}, loads_, publisher_, ordering::IntakeSettings{}) {
    app::add_api_routes(shard_, publisher_);
  }

  boost::asio::io_context io_;
  catalog::SingleFlight<catalog::LoadedProduct> loads_;
  rabbitmq::Publisher publisher_;
  app::ApiShard shard_;
};

}  // namespace

TEST_F(ApiRoutesTest, EveryRouteIsDocumented) {
  const json::value doc = openapi_document();
  const auto& paths = doc.at("paths").as_object();
  for (const http::Route& route : shard_.router.routes()) {
    const std::string method = lower(http::to_string(route.method));
    auto path = paths.find(route.pattern);
    ASSERT_NE(path, paths.end()) << route.pattern << " is not in docs/openapi.yaml";
    EXPECT_TRUE(path->value().as_object().contains(method))
        << http::to_string(route.method) << ' ' << route.pattern << " is not in docs/openapi.yaml";
  }
}

TEST_F(ApiRoutesTest, EveryDocumentedOperationIsRouted) {
  std::set<std::pair<std::string, std::string>> routed;
  for (const http::Route& route : shard_.router.routes()) {
    routed.emplace(lower(http::to_string(route.method)), route.pattern);
  }
  const json::value doc = openapi_document();
  static const std::set<std::string> kMethods{"get", "put", "post", "delete", "patch", "head", "options"};
  std::size_t operations = 0;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      if (!kMethods.contains(method)) continue;  // "parameters", "summary" ...
      ++operations;
      EXPECT_TRUE(routed.contains({std::string(method), std::string(path)}))
          << method << ' ' << path << " is documented but the router has no such route";
    }
  }
  EXPECT_EQ(operations, shard_.router.routes().size());
}

TEST_F(ApiRoutesTest, AdminRoutesAndOnlyThoseDeclareBearerAuth) {
  const json::value doc = openapi_document();
  for (const http::Route& route : shard_.router.routes()) {
    const auto& operation = doc.at("paths").at(route.pattern).at(lower(http::to_string(route.method))).as_object();
    const bool documented_admin = operation.contains("security") && !operation.at("security").as_array().empty();
    EXPECT_EQ(documented_admin, route.access == http::Access::kAdmin)
        << http::to_string(route.method) << ' ' << route.pattern;
    if (route.access == http::Access::kAdmin) {
      const auto& responses = operation.at("responses").as_object();
      EXPECT_TRUE(responses.contains("401")) << route.pattern;
      EXPECT_TRUE(responses.contains("403")) << route.pattern;
    }
  }
}

TEST_F(ApiRoutesTest, PurchasesReadsAndCancelsStayOpen) {
  for (const http::Route& route : shard_.router.routes()) {
    if (route.method == http::Method::kGet || route.pattern == "/api/orders" ||
        (route.method == http::Method::kDelete && route.pattern == "/api/orders/{id}")) {
      EXPECT_EQ(route.access, http::Access::kOpen) << http::to_string(route.method) << ' ' << route.pattern;
    }
  }
}

TEST_F(ApiRoutesTest, EveryOperationDeclaresItsSecurity) {
  // Tools (and the lint's security-defined rule) need it said on each operation: the bearer
  // scheme on admin routes, an explicit empty list on public ones.
  const json::value doc = openapi_document();
  const json::value admin = json::parse(R"([{"bearerAuth": []}])");
  for (const http::Route& route : shard_.router.routes()) {
    const auto& operation = doc.at("paths").at(route.pattern).at(lower(http::to_string(route.method))).as_object();
    const std::string name = std::string(http::to_string(route.method)) + ' ' + route.pattern;
    ASSERT_TRUE(operation.contains("security")) << name;
    if (route.access == http::Access::kAdmin) EXPECT_EQ(operation.at("security"), admin) << name;
    else EXPECT_EQ(operation.at("security"), json::array{}) << name;
  }
  EXPECT_TRUE(doc.at("components").at("securitySchemes").as_object().contains("bearerAuth"));
}

TEST_F(ApiRoutesTest, EveryDocumentedGetAlsoAnswersHead) {
  // The document says so once, for every GET; the router must hand HEAD to the GET route.
  std::size_t gets = 0;
  for (const http::Route& route : shard_.router.routes()) {
    if (route.method != http::Method::kGet) continue;
    ++gets;
    std::string path;
    for (const std::string& segment : route.segments) {
      path += '/';
      path += segment.front() == '{' ? "0193a7e2-5c4d-7b1e-9f00-1234567890ab" : segment;
    }
    const auto match = shard_.router.match(http::Method::kHead, path);
    ASSERT_NE(match.route, nullptr) << "HEAD " << path;
    EXPECT_EQ(match.route, &route) << "HEAD " << path << " went to " << match.route->pattern;
  }
  EXPECT_GE(gets, 12u);
  EXPECT_NE(std::string(openapi_document().at("info").at("description").as_string()).find("also answers `HEAD`"),
            std::string::npos);
}
