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
               config::RedisEndpoint{.host = "127.0.0.1", .port = 1}, postgres::PoolOptions{}, loads_, publisher_) {
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
