#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "app/io_threads.hpp"
#include "common/dependency_error.hpp"
#include "http/envelope.hpp"
#include "http/server.hpp"
#include "support/http_client.hpp"

using namespace orders;
using namespace orders::http;
using orders::testing::http_request;
namespace json = boost::json;

namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add(Method::kGet, "/ok", [](Request& req) -> boost::asio::awaitable<Response> {
      co_return ok(json::object{{"path", req.path}, {"query", req.query}});
    });
    router_.add(Method::kPost, "/echo", [](Request& req) -> boost::asio::awaitable<Response> {
      co_return ok(json::object{{"bytes", req.body.size()}, {"key", req.header("Idempotency-Key")}});
    });
    router_.add(Method::kGet, "/boom", [](Request&) -> boost::asio::awaitable<Response> {
      throw std::runtime_error("bug");
      co_return Response{};
    });
    router_.add(Method::kGet, "/down", [](Request&) -> boost::asio::awaitable<Response> {
      throw DependencyUnavailable("Redis", "connection refused");
      co_return Response{};
    });
    router_.add(Method::kGet, "/slow", [](Request&) -> boost::asio::awaitable<Response> {
      boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, std::chrono::milliseconds(300));
      co_await t.async_wait(boost::asio::use_awaitable);
      co_return ok(json::object{{"slow", true}});
    });
    router_.add(
        Method::kPost, "/admin",
        [](Request&) -> boost::asio::awaitable<Response> {
          co_return ok(json::object{{"admin", true}});
        },
        Access::kAdmin);
    server_ = std::make_unique<Server>(ServerOptions{.host = "127.0.0.1", .port = 0, .admin_token = "s3cret-token"},
                                       std::vector<Shard>{{&io_.at(0), &router_}, {&io_.at(1), &router_}});
    server_->start();
    io_.start();
    port_ = server_->port();
  }
  void TearDown() override {
    server_->shutdown(std::chrono::seconds(2));
    io_.finish(std::chrono::seconds(2));
  }

  Router router_;
  app::IoThreads io_{2};
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

json::object body_of(const orders::testing::HttpResult& r) { return json::parse(r.body).as_object(); }

}  // namespace

TEST_F(HttpServerTest, AnswersAMatchedRoute) {
  auto r = http_request(port_, "GET", "/ok?x=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto b = body_of(r);
  EXPECT_EQ(b.at("success"), true);
  EXPECT_EQ(b.at("data").at("path"), "/ok");
  EXPECT_EQ(b.at("data").at("query"), "x=1");
}

TEST_F(HttpServerTest, UnknownRouteIs404Envelope) {
  auto r = http_request(port_, "GET", "/nope");
  EXPECT_EQ(r.status, 404);
  auto b = body_of(r);
  EXPECT_EQ(b.at("success"), false);
  EXPECT_EQ(b.at("code"), "NOT_FOUND");
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  auto r = http_request(port_, "DELETE", "/ok");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
  EXPECT_EQ(body_of(r).at("code"), "METHOD_NOT_ALLOWED");
}

TEST_F(HttpServerTest, BodyUpTo64KiBIsAccepted) {
  auto r = http_request(port_, "POST", "/echo", std::string(64 * 1024, 'a'), {{"Idempotency-Key", "k1"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r).at("data").at("bytes"), 64 * 1024);
  EXPECT_EQ(body_of(r).at("data").at("key"), "k1");
}

TEST_F(HttpServerTest, BodyOver64KiBIs400NamingTheBody) {
  auto r = http_request(port_, "POST", "/echo", std::string(64 * 1024 + 1, 'a'));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(body_of(r).at("code"), "VALIDATION_FAILED");
  EXPECT_EQ(body_of(r).at("details").at(0).at("field"), "body");
}

TEST_F(HttpServerTest, HandlerExceptionIs500EnvelopeAndServerLives) {
  auto r = http_request(port_, "GET", "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(body_of(r).at("code"), "INTERNAL_ERROR");
  EXPECT_EQ(http_request(port_, "GET", "/ok").status, 200);
}

TEST_F(HttpServerTest, DependencyDownIs503NamingIt) {
  auto r = http_request(port_, "GET", "/down");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_NE(std::string(body_of(r).at("error").as_string()).find("Redis"), std::string::npos);
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  std::string answer = orders::testing::raw_exchange(port_, "GET /ok HTTP/1.1\r\nHost x\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  EXPECT_NE(answer.find("\"success\":false"), std::string::npos);
}

TEST_F(HttpServerTest, KeepAliveServesPipelinedRequestsOnOneConnection) {
  std::string two = "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string answer = orders::testing::raw_exchange(port_, two);
  std::size_t first = answer.find("HTTP/1.1 200");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(answer.find("HTTP/1.1 200", first + 1), std::string::npos) << answer;
}

// The answer is written by hand (one buffer): the wire form HTTP clients expect, per version.
TEST_F(HttpServerTest, AnswersOnTheWireCarryStatusLineHeadersLengthAndConnectionAsTheVersionNeeds) {
  const std::string closing = orders::testing::raw_exchange(port_,
                                                            "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(closing.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << closing;
  const std::string head = closing.substr(0, closing.find("\r\n\r\n") + 2);
  const std::string body = closing.substr(closing.find("\r\n\r\n") + 4);
  EXPECT_NE(head.find("\r\nServer: orders\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nContent-Type: application/json\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nConnection: close\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nX-Request-Id: "), std::string::npos) << head;
  EXPECT_FALSE(body.empty());
  // HTTP/1.0 closes by default: no Connection header unless the client asked to keep it.
  const std::string old = orders::testing::raw_exchange(port_, "GET /ok HTTP/1.0\r\nHost: x\r\n\r\n");
  ASSERT_EQ(old.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << old;
  EXPECT_EQ(old.find("Connection:"), std::string::npos) << old;
  // An error keeps its reason phrase and its route headers.
  const std::string missing = orders::testing::raw_exchange(
      port_, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(missing.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << missing;
}

TEST_F(HttpServerTest, ShutdownLetsInFlightRequestFinish) {
  std::thread client([&] {
    auto r = http_request(port_, "GET", "/slow");
    EXPECT_EQ(r.status, 200);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(server_->shutdown(std::chrono::seconds(5)));
  client.join();
  EXPECT_THROW(http_request(port_, "GET", "/ok", {}, {}, std::chrono::milliseconds(500)), std::exception);
}

TEST_F(HttpServerTest, AdminRouteWithoutBearerTokenIs401) {
  auto r = http_request(port_, "POST", "/admin", "{}");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(body_of(r).at("code"), "UNAUTHORIZED");
  EXPECT_EQ(r.header("www-authenticate"), "Bearer");
  auto basic = http_request(port_, "POST", "/admin", "{}", {{"Authorization", "Basic czNjcmV0LXRva2Vu"}});
  EXPECT_EQ(basic.status, 401);
}

TEST_F(HttpServerTest, AdminRouteWithWrongTokenIs403) {
  for (const char* wrong : {"Bearer s3cret-toke", "Bearer s3cret-token2", "Bearer S3CRET-TOKEN", "Bearer x"}) {
    auto r = http_request(port_, "POST", "/admin", "{}", {{"Authorization", wrong}});
    EXPECT_EQ(r.status, 403) << wrong;
    EXPECT_EQ(body_of(r).at("code"), "FORBIDDEN") << wrong;
  }
}

TEST_F(HttpServerTest, AdminRouteWithTheTokenRuns) {
  auto r = http_request(port_, "POST", "/admin", "{}", {{"Authorization", "Bearer s3cret-token"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r).at("data").at("admin"), true);
  auto lower = http_request(port_, "POST", "/admin", "{}", {{"Authorization", "bearer s3cret-token"}});
  EXPECT_EQ(lower.status, 200);
}

TEST_F(HttpServerTest, OpenRoutesNeedNoTokenWhenTheServerHasOne) {
  EXPECT_EQ(http_request(port_, "POST", "/echo", "{}").status, 200);
}

TEST_F(HttpServerTest, HeadAnswersAGetRouteWithItsHeadersAndNoBody) {
  std::string answer = orders::testing::raw_exchange(port_,
                                                     "HEAD /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  const std::string get_body = http_request(port_, "GET", "/ok").body;
  EXPECT_NE(answer.find("Content-Length: " + std::to_string(get_body.size())), std::string::npos) << answer;
  EXPECT_EQ(answer.substr(answer.find("\r\n\r\n") + 4), "") << "a HEAD answer has no body";
  // A path with only POST still says which methods exist.
  std::string wrong = orders::testing::raw_exchange(port_,
                                                    "HEAD /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(wrong.rfind("HTTP/1.1 405", 0), 0u) << wrong;
}

TEST_F(HttpServerTest, BodyThatIsNotJsonIs415NamingContentType) {
  auto form = http_request(port_, "POST", "/echo", "a=1", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(form.status, 415);
  EXPECT_EQ(body_of(form).at("code"), "UNSUPPORTED_MEDIA_TYPE");
  EXPECT_EQ(body_of(form).at("details").as_array()[0].at("field"), "Content-Type");
  auto json_with_charset = http_request(port_, "POST", "/echo", "{}",
                                        {{"Content-Type", "Application/JSON; charset=utf-8"}});
  EXPECT_EQ(json_with_charset.status, 200);
  EXPECT_EQ(http_request(port_, "POST", "/echo", "{}").status, 200);
}

TEST_F(HttpServerTest, OversizedHeadersAre431) {
  std::string answer = orders::testing::raw_exchange(
      port_, "GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find("REQUEST_HEADERS_TOO_LARGE"), std::string::npos);
}

// Answers given before a request could be read still carry a request id (the caller's when
// its headers were read), so a client can quote it.
TEST_F(HttpServerTest, AnswersBeforeReadingTheRequestCarryARequestId) {
  auto id_of = [](const std::string& answer) {
    auto at = answer.find("X-Request-Id: ");
    if (at == std::string::npos) return std::string();
    return answer.substr(at + 14, answer.find("\r\n", at) - at - 14);
  };
  std::string big = orders::testing::raw_exchange(
      port_, "GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n");
  EXPECT_EQ(big.rfind("HTTP/1.1 431", 0), 0u) << big.substr(0, 200);
  EXPECT_EQ(id_of(big).size(), 36u) << big.substr(0, 300);
  std::string malformed = orders::testing::raw_exchange(port_, "GET /ok HTTP/1.1\r\nHost x\r\n\r\n");
  EXPECT_EQ(malformed.rfind("HTTP/1.1 400", 0), 0u) << malformed.substr(0, 200);
  EXPECT_EQ(id_of(malformed).size(), 36u) << malformed.substr(0, 300);
  std::string too_long = orders::testing::raw_exchange(
      port_,
      "POST /echo HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-7\r\nContent-Type: application/json\r\n"
      "Content-Length: 99999999\r\n\r\n{}");
  EXPECT_EQ(too_long.rfind("HTTP/1.1 400", 0), 0u) << too_long.substr(0, 200);
  EXPECT_EQ(id_of(too_long), "trace-7") << too_long.substr(0, 300);
}

TEST_F(HttpServerTest, RequestIdIsEchoedOrGenerated) {
  auto given = http_request(port_, "GET", "/ok", {}, {{"X-Request-Id", "trace-42.a:b_c"}});
  EXPECT_EQ(given.header("x-request-id"), "trace-42.a:b_c");
  auto made = http_request(port_, "GET", "/ok");
  EXPECT_EQ(made.header("x-request-id").size(), 36u);
  auto hostile = http_request(port_, "GET", "/ok", {}, {{"X-Request-Id", "a b\"c"}});
  EXPECT_EQ(hostile.header("x-request-id").size(), 36u) << "an id that is not a plain token is replaced";
  EXPECT_EQ(http_request(port_, "GET", "/nope").header("x-request-id").size(), 36u);
}

TEST(HttpServerTimeouts, SilentNewConnectionIsClosedAfterTheReadTimeoutNotTheIdleOne) {
  orders::app::IoThreads io(1);
  Router router;
  Server server(ServerOptions{.host = "127.0.0.1",
                              .port = 0,
                              .idle_timeout = std::chrono::seconds(60),
                              .read_timeout = std::chrono::seconds(1)},
                std::vector<Shard>{{&io.at(0), &router}});
  server.start();
  io.start();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  // Well below the 60 s idle timeout: a connection that never sends a request must not hold a
  // descriptor that long (slowloris).
  timeval wait{.tv_sec = 20, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  char byte = 0;
  const ssize_t got = ::recv(fd, &byte, 1, 0);
  ::close(fd);
  EXPECT_EQ(got, 0) << "the server did not close a silent connection within 20 s";
  server.shutdown(std::chrono::seconds(2));
  io.finish(std::chrono::seconds(2));
}
