#include <amqp.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <set>

#include "common/dependency_error.hpp"
#include "common/uuid.hpp"
#include "storage/postgres/pool.hpp"
#include "storage/rabbitmq/connection.hpp"
#include "storage/rabbitmq/node_list.hpp"
#include "storage/rabbitmq/publisher.hpp"
#include "storage/redis/client.hpp"
#include "support/process.hpp"
#include "support/run_coroutine.hpp"

using namespace orders;
using orders::testing::required_env;
namespace asio = boost::asio;

namespace {}  // namespace

TEST(PostgresPool, ManyConcurrentQueriesShareABoundedPool) {
  asio::io_context io;
  postgres::Pool pool(io.get_executor(), required_env("DATABASE_URL"), {.size = 4});
  int done = orders::test::run_bounded(io, [&]() -> asio::awaitable<int> {
    std::vector<std::future<int>> parts;
    int ok = 0;
    auto one = [&](int i) -> asio::awaitable<int> {
      postgres::Params params;
      params.add(i);
      auto r = co_await pool.query("SELECT $1::int * 2, pg_sleep(0.01)", params);
      co_return r.ok() && r.get_int(0, 0) == i * 2 ? 1 : 0;
    };
    for (int i = 0; i < 100; ++i) parts.push_back(asio::co_spawn(io, one(i), asio::use_future));
    // The spawned coroutines run on this io_context; let them finish.
    asio::steady_timer t(io);
    while (std::any_of(parts.begin(), parts.end(),
                       [](auto& f) { return f.wait_for(std::chrono::seconds(0)) != std::future_status::ready; })) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(asio::use_awaitable);
    }
    for (auto& f : parts) ok += f.get();
    co_return ok;
  }());
  EXPECT_EQ(done, 100);
}

TEST(PostgresPool, SqlErrorIsAValueWithSqlstate) {
  asio::io_context io;
  postgres::Pool pool(io.get_executor(), required_env("DATABASE_URL"), {.size = 1});
  auto r = orders::test::run_bounded(io, pool.query("SELECT * FROM no_such_table"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.sqlstate(), "42P01");
  auto ok = orders::test::run_bounded(io, pool.query("SELECT 1"));
  EXPECT_TRUE(ok.ok()) << "the connection is usable after an error";
}

TEST(PostgresPool, StatementTimeoutThrowsAndThePoolRecovers) {
  asio::io_context io;
  postgres::Pool pool(io.get_executor(), required_env("DATABASE_URL"),
                      {.size = 1, .statement_timeout = std::chrono::milliseconds(200)});
  EXPECT_THROW(orders::test::run_bounded(io, pool.query("SELECT pg_sleep(2)")), DependencyUnavailable);
  auto ok = orders::test::run_bounded(io, pool.query("SELECT 1"));
  EXPECT_TRUE(ok.ok());
}

TEST(PostgresPool, UnreachableServerThrowsDependencyUnavailable) {
  asio::io_context io;
  postgres::Pool pool(io.get_executor(), "postgresql://orders:orders@127.0.0.1:1/orders", {.size = 1});
  try {
    orders::test::run_bounded(io, pool.query("SELECT 1"));
    FAIL() << "expected an exception";
  } catch (const DependencyUnavailable& e) {
    EXPECT_EQ(e.dependency(), "PostgreSQL");
  }
}

TEST(RedisClient, ConcurrentCommandsArePipelinedAndAllAnswered) {
  asio::io_context io;
  redis::Client client(io.get_executor(), config::parse_redis_url(required_env("REDIS_URL")));
  client.start();
  std::string key = "test:pipeline:" + uuid::make_v7();
  long long last = orders::test::run_bounded(io, [&]() -> asio::awaitable<long long> {
    asio::steady_timer t(io);
    for (int i = 0; i < 200 && !client.connected(); ++i) {
      t.expires_after(std::chrono::milliseconds(10));
      co_await t.async_wait(asio::use_awaitable);
    }
    std::vector<std::future<long long>> replies;
    for (int i = 0; i < 1000; ++i) {
      replies.push_back(asio::co_spawn(
          io,
          [&]() -> asio::awaitable<long long> {
            std::array<std::string_view, 2> incr{"INCR", key};
            co_return (co_await client.command(incr)).integer;
          }(),
          asio::use_future));
    }
    while (std::any_of(replies.begin(), replies.end(),
                       [](auto& f) { return f.wait_for(std::chrono::seconds(0)) != std::future_status::ready; })) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(asio::use_awaitable);
    }
    std::set<long long> seen;
    for (auto& f : replies) seen.insert(f.get());
    EXPECT_EQ(seen.size(), 1000u);
    std::array<std::string_view, 2> get{"GET", key};
    auto value = co_await client.command(get);
    std::array<std::string_view, 2> del{"DEL", key};
    co_await client.command(del);
    co_return std::stoll(value.str);
  }());
  EXPECT_EQ(last, 1000);
  client.stop();
}

TEST(RedisClient, EvalShaReloadsTheScriptAfterFlush) {
  asio::io_context io;
  redis::Client client(io.get_executor(), config::parse_redis_url(required_env("REDIS_URL")));
  client.start();
  redis::Script script{"add", "return tonumber(ARGV[1]) + tonumber(ARGV[2])"};
  auto results = orders::test::run_bounded(io, [&]() -> asio::awaitable<std::pair<long long, long long>> {
    asio::steady_timer t(io);
    for (int i = 0; i < 200 && !client.connected(); ++i) {
      t.expires_after(std::chrono::milliseconds(10));
      co_await t.async_wait(asio::use_awaitable);
    }
    std::array<std::string_view, 2> args{"2", "3"};
    auto first = co_await client.eval(script, {}, args);
    std::array<std::string_view, 2> flush{"SCRIPT", "FLUSH"};
    co_await client.command(flush);
    auto second = co_await client.eval(script, {}, args);  // NOSCRIPT, then loaded again
    co_return std::pair{first.integer, second.integer};
  }());
  EXPECT_EQ(results.first, 5);
  EXPECT_EQ(results.second, 5);
  client.stop();
}

TEST(RedisClient, CommandsFailFastWhenNotConnected) {
  asio::io_context io;
  redis::Client client(io.get_executor(), config::RedisEndpoint{.host = "127.0.0.1", .port = 1});
  client.start();
  std::array<std::string_view, 1> ping{"PING"};
  EXPECT_THROW(orders::test::run_bounded(io, client.command(ping)), DependencyUnavailable);
  client.stop();
}

TEST(RabbitmqPublisher, ConfirmsAWindowOfPersistentMessagesThatReachTheQueue) {
  auto endpoint = config::parse_amqp_url(required_env("RABBITMQ_URL"));
  // A private queue bound to the exchange counts what was published.
  rabbitmq::Connection observer(endpoint, std::chrono::seconds(5));
  rabbitmq::declare_topology(observer);
  const std::string routing_key = "test.publish." + uuid::make_v7();
  amqp_queue_declare_ok_t* q = amqp_queue_declare(observer.native(), rabbitmq::kChannel, amqp_empty_bytes, 0, 0, 1, 1,
                                                  amqp_empty_table);
  observer.check_rpc("declare test queue");
  std::string queue(static_cast<char*>(q->queue.bytes), q->queue.len);
  amqp_queue_bind(observer.native(), rabbitmq::kChannel, rabbitmq::bytes(queue), rabbitmq::bytes(rabbitmq::kExchange),
                  rabbitmq::bytes(routing_key), amqp_empty_table);
  observer.check_rpc("bind test queue");

  rabbitmq::Publisher publisher(endpoint);
  publisher.start();
  asio::io_context io;
  constexpr int kMessages = 2000;
  auto confirmed = orders::test::run_bounded(io, [&]() -> asio::awaitable<int> {
    std::vector<std::future<rabbitmq::PublishOutcome>> outcomes;
    for (int i = 0; i < kMessages; ++i) {
      rabbitmq::Message m{std::string(rabbitmq::kExchange), routing_key, uuid::make_v7(), "test",
                          "{\"n\":" + std::to_string(i) + "}"};
      outcomes.push_back(asio::co_spawn(io, publisher.publish(std::move(m)), asio::use_future));
    }
    asio::steady_timer t(io);
    while (std::any_of(outcomes.begin(), outcomes.end(),
                       [](auto& f) { return f.wait_for(std::chrono::seconds(0)) != std::future_status::ready; })) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(asio::use_awaitable);
    }
    int n = 0;
    for (auto& f : outcomes) n += f.get() == rabbitmq::PublishOutcome::kConfirmed;
    co_return n;
  }());
  EXPECT_EQ(confirmed, kMessages);
  publisher.stop();

  // Everything confirmed is in the queue, each message once.
  std::set<std::string> ids;
  for (int i = 0; i < kMessages + 10; ++i) {
    amqp_rpc_reply_t reply = amqp_basic_get(observer.native(), rabbitmq::kChannel, rabbitmq::bytes(queue), 1);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL || reply.reply.id != AMQP_BASIC_GET_OK_METHOD) break;
    amqp_message_t message;
    ASSERT_EQ(amqp_read_message(observer.native(), rabbitmq::kChannel, &message, 0).reply_type, AMQP_RESPONSE_NORMAL);
    ids.insert(std::string(static_cast<char*>(message.properties.message_id.bytes), message.properties.message_id.len));
    EXPECT_EQ(message.properties.delivery_mode, 2);
    amqp_destroy_message(&message);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kMessages));
}

// RABBITMQ_URL's list: a node that does not answer is passed over, and a reconnect starts with
// the node after the one of the last connection. Port 1 on loopback refuses at once.
TEST(RabbitmqNodeList, ConnectsToTheFirstNodeThatAnswersAndReconnectsStartingWithTheNext) {
  auto live = config::parse_amqp_url(required_env("RABBITMQ_URL"));
  config::AmqpEndpoint dead = live;
  dead.port = 1;
  rabbitmq::NodeList nodes({dead, live});
  EXPECT_EQ(nodes.attempt_order(), (std::vector<std::size_t>{0, 1}));
  auto first = nodes.connect(std::chrono::seconds(5));
  EXPECT_EQ(nodes.current().port, live.port);
  EXPECT_EQ(first->queue_message_count(rabbitmq::kPersistQueue).has_value(), true);
  // After a connection to node 2 (of 2), the next attempt begins with node 1.
  EXPECT_EQ(nodes.attempt_order(), (std::vector<std::size_t>{0, 1}));

  rabbitmq::NodeList live_first({live, dead});
  auto second = live_first.connect(std::chrono::seconds(5));
  EXPECT_EQ(live_first.current().port, live.port);
  EXPECT_EQ(live_first.attempt_order(), (std::vector<std::size_t>{1, 0}));
  // Node 2 refuses; node 1 is tried after it and answers.
  auto third = live_first.connect(std::chrono::seconds(5));
  EXPECT_EQ(live_first.current().port, live.port);
}

TEST(RabbitmqNodeList, NamesEveryNodeWhenNoneAnswers) {
  auto live = config::parse_amqp_url(required_env("RABBITMQ_URL"));
  config::AmqpEndpoint a = live, b = live;
  a.port = 1;
  b.port = 2;
  rabbitmq::NodeList nodes({a, b});
  try {
    nodes.connect(std::chrono::seconds(2));
    FAIL() << "connected to a port nobody listens on";
  } catch (const DependencyUnavailable& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no node of 2 answered"), std::string::npos) << what;
    EXPECT_NE(what.find(a.display()), std::string::npos) << what;
    EXPECT_NE(what.find(b.display()), std::string::npos) << what;
  }
}

TEST(RabbitmqPublisher, StartsOnTheFirstNodeThatAnswersOfItsList) {
  auto live = config::parse_amqp_url(required_env("RABBITMQ_URL"));
  config::AmqpEndpoint dead = live;
  dead.port = 1;
  rabbitmq::Publisher publisher(std::vector<config::AmqpEndpoint>{dead, live});
  publisher.start();
  asio::io_context io;
  auto outcome = orders::test::run_bounded(
      io, publisher.publish(
              rabbitmq::Message{std::string(rabbitmq::kExchange), "test.nodes", uuid::make_v7(), "test", "{}"}));
  EXPECT_EQ(outcome, rabbitmq::PublishOutcome::kConfirmed);
  publisher.stop();
}
