#include <gtest/gtest.h>

#include "http/router.hpp"

using namespace orders::http;

namespace {

Handler noop() {
  return [](Request&) -> boost::asio::awaitable<Response> { co_return Response{}; };
}

Router sample() {
  Router r;
  r.add(Method::kGet, "/health", noop());
  r.add(Method::kGet, "/api/products", noop());
  r.add(Method::kPost, "/api/products", noop());
  r.add(Method::kGet, "/api/products/{id}", noop());
  r.add(Method::kPut, "/api/products/{id}", noop());
  r.add(Method::kGet, "/api/orders/user/{userId}", noop());
  r.add(Method::kGet, "/api/orders/{id}/logs", noop());
  return r;
}

}  // namespace

TEST(Router, MatchesLiteralRoute) {
  Router r = sample();
  auto m = r.match(Method::kGet, "/health");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/health");
  EXPECT_EQ(m.param_count, 0u);
}

TEST(Router, CapturesPathParameters) {
  Router r = sample();
  auto m = r.match(Method::kPut, "/api/products/abc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/products/{id}");
  ASSERT_EQ(m.param_count, 1u);
  EXPECT_EQ(m.params[0], "abc");
  auto logs = r.match(Method::kGet, "/api/orders/o1/logs");
  ASSERT_NE(logs.route, nullptr);
  EXPECT_EQ(logs.params[0], "o1");
}

TEST(Router, LiteralSegmentWinsWhenRegisteredFirst) {
  Router r = sample();
  auto m = r.match(Method::kGet, "/api/orders/user/u1");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/orders/user/{userId}");
  EXPECT_EQ(m.params[0], "u1");
}

TEST(Router, UnknownPathIsNotFound) {
  Router r = sample();
  auto m = r.match(Method::kGet, "/api/nothing");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.allow.empty());
  EXPECT_EQ(r.match(Method::kGet, "/api/products/a/b").route, nullptr);
  EXPECT_EQ(r.match(Method::kGet, "").route, nullptr);
  EXPECT_EQ(r.match(Method::kGet, "relative").route, nullptr);
}

TEST(Router, KnownPathWithOtherMethodListsAllowedMethods) {
  Router r = sample();
  auto m = r.match(Method::kDelete, "/api/products/x");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.allow, "GET, HEAD, PUT");
  auto list = r.match(Method::kPatch, "/api/products");
  EXPECT_EQ(list.allow, "GET, HEAD, POST");
  auto head = r.match(Method::kHead, "/api/products/x");
  ASSERT_NE(head.route, nullptr) << "HEAD is answered by the GET route";
  EXPECT_EQ(head.route->method, Method::kGet);
}

TEST(Router, TrailingSlashIsTheSameResource) {
  Router r = sample();
  auto m = r.match(Method::kGet, "/api/products/");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/products");
}

TEST(Router, EmptyParameterDoesNotMatch) {
  Router r = sample();
  EXPECT_EQ(r.match(Method::kGet, "/api/orders//logs").route, nullptr);
}

TEST(Router, VeryDeepPathsAreRejectedCheaply) {
  Router r = sample();
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "/a";
  EXPECT_EQ(r.match(Method::kGet, deep).route, nullptr);
}

TEST(Router, RejectsBadPatterns) {
  Router r;
  EXPECT_THROW(r.add(Method::kGet, "no-slash", noop()), std::invalid_argument);
  EXPECT_THROW(r.add(Method::kGet, "/{a}/{b}/{c}/{d}/{e}", noop()), std::invalid_argument);
}
