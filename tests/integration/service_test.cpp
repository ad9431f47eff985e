#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "support/api_helpers.hpp"
#include "support/http_client.hpp"
#include "support/own_stack.hpp"
#include "support/process.hpp"

using namespace orders::testing;
namespace json = boost::json;

TEST(ServiceEndpoints, HealthIs200) {
  ApiProcess api;
  auto r = http_get(api.port(), "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body).at("success"), true);
}

TEST(ServiceEndpoints, ReadyIs200WhenAllDependenciesAnswer) {
  ApiProcess api;
  auto r = wait_for_status(api.port(), "/ready", 200);
  ASSERT_EQ(r.status, 200) << r.body;
  auto deps = json::parse(r.body).at("data").at("dependencies");
  EXPECT_EQ(deps.at("PostgreSQL"), "ok");
  EXPECT_EQ(deps.at("Redis"), "ok");
  EXPECT_EQ(deps.at("RabbitMQ"), "ok");
}

TEST(ServiceEndpoints, ReadyIs503NamingRedisWhileItIsDownAnd200AfterItReturns) {
  StoppableRedis redis;  // on the clusters' run: every node of a private cluster
  ApiProcess api(redis.args());
  ASSERT_EQ(wait_for_status(api.port(), "/ready", 200).status, 200);

  redis.kill();
  auto down = wait_for_status(api.port(), "/ready", 503);
  ASSERT_EQ(down.status, 503) << down.body;
  auto body = json::parse(down.body);
  EXPECT_EQ(body.at("code"), "SERVICE_UNAVAILABLE");
  EXPECT_NE(std::string(body.at("error").as_string()).find("Redis"), std::string::npos) << down.body;
  EXPECT_EQ(body.at("details").at(0).at("dependency"), "Redis");
  EXPECT_EQ(http_get(api.port(), "/health").status, 200) << "the process must live on";

  redis.start();
  auto back = wait_for_status(api.port(), "/ready", 200);
  EXPECT_EQ(back.status, 200) << back.body;
  EXPECT_TRUE(api.process().running());
}

TEST(ServiceEndpoints, MetricsIsPrometheusTextWithRequestCountsAndLatency) {
  // A process of its own: ApiProcess polls /health until it answers, so count from here.
  ApiProcess api;
  const std::string health = "orders_http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"}";
  const double before = metric_value(api.port(), health);
  const std::string health_latency = "orders_http_request_duration_seconds_count{route=\"/health\"}";
  const double latency_before = metric_value(api.port(), health_latency);
  for (int i = 0; i < 3; ++i) http_get(api.port(), "/health");
  http_get(api.port(), "/no/such/route");
  auto r = http_get(api.port(), "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("content-type").find("text/plain; version=0.0.4"), std::string::npos);

  std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? ([-+]?[0-9.eE+-]+|[-+]Inf|NaN)$)");
  std::regex type_line(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  std::regex help_line(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  std::istringstream lines(r.body);
  std::string line;
  std::set<std::string> typed;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, type_line)) {
      typed.insert(m[1]);
    } else if (std::regex_match(line, m, sample)) {
      std::string name = m[1];
      EXPECT_TRUE(name.starts_with("orders_") || name.starts_with("process_")) << "not prefixed: " << line;
      std::string base = std::regex_replace(name, std::regex("_(bucket|sum|count)$"), "");
      EXPECT_TRUE(typed.count(name) || typed.count(base)) << "sample before its TYPE: " << line;
    } else {
      EXPECT_TRUE(std::regex_match(line, help_line)) << "not Prometheus text: " << line;
    }
  }
  EXPECT_EQ(metric_value(api.port(), health) - before, 3);
  EXPECT_NE(r.body.find("orders_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"),
            std::string::npos);
  EXPECT_EQ(metric_value(api.port(), health_latency) - latency_before, 3);
  EXPECT_NE(r.body.find("orders_http_request_duration_seconds_bucket{route=\"/health\",le=\"+Inf\"}"),
            std::string::npos);
}

TEST(ServiceEndpoints, UnknownRouteAndWrongMethodUseTheEnvelope) {
  ApiProcess api;
  auto missing = http_get(api.port(), "/api/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body).at("code"), "NOT_FOUND");
  auto wrong = http_request(api.port(), "POST", "/health", "{}");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.header("allow"), "GET, HEAD");
}

TEST(ServiceEndpoints, SigtermStopsGracefullyWithExitZero) {
  ApiProcess api;
  api.process().signal(SIGTERM);
  auto code = api.process().wait(std::chrono::seconds(15));
  ASSERT_TRUE(code.has_value()) << "did not exit";
  EXPECT_EQ(*code, 0) << api.process().output();
}
