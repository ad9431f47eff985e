#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <string>
#include <vector>

#include "common/dependency_error.hpp"
#include "common/uuid.hpp"
#include "config/config.hpp"
#include "storage/postgres/async_transaction.hpp"
#include "storage/postgres/blocking.hpp"
#include "storage/postgres/pool.hpp"
#include "storage/redis/blocking.hpp"
#include "support/process.hpp"

using namespace orders;
using orders::testing::required_env;
namespace asio = boost::asio;

namespace {

postgres::BlockingConnection connect_postgres() {
  return postgres::BlockingConnection::connect(required_env("DATABASE_URL"));
}

redis::BlockingConnection connect_redis() {
  return redis::BlockingConnection::connect(config::parse_redis_url(required_env("REDIS_URL")),
                                            std::chrono::seconds(2));
}

// A table of the test's own, gone when its session ends.
void make_scratch_table(postgres::BlockingConnection& db) {
  ASSERT_TRUE(db.exec("CREATE TEMP TABLE scratch (n int PRIMARY KEY)").ok());
}

long long count_scratch(postgres::BlockingConnection& db) {
  return db.exec("SELECT count(*) FROM scratch").expect_ok("count").get_int(0, 0);
}

template <typename T>
T run_coro(asio::io_context& io, asio::awaitable<T> coro) {
  auto future = asio::co_spawn(io, std::move(coro), asio::use_future);
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(50));
  }
  if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    throw std::runtime_error("coroutine did not finish within 30 s");
  }
  return future.get();
}

}  // namespace

TEST(BlockingPostgres, UnreachableServerIsDependencyUnavailableNamingIt) {
  postgres::ConnectOptions options;
  options.timeout = std::chrono::seconds(2);
  options.display = "127.0.0.1:1/orders";
  try {
    postgres::BlockingConnection::connect("postgresql://orders@127.0.0.1:1/orders", options);
    FAIL() << "connected to port 1";
  } catch (const DependencyUnavailable& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.dependency(), "PostgreSQL");
    EXPECT_NE(what.find("cannot connect to 127.0.0.1:1/orders: "), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(BlockingPostgres, ParametersAndSqlErrorsAreValues) {
  auto db = connect_postgres();
  postgres::Params p;
  p.add(20).add(std::nullopt);
  auto r = db.exec("SELECT $1::int + 1, $2::text IS NULL", p);
  ASSERT_TRUE(r.ok()) << r.error_message();
  EXPECT_EQ(r.get_int(0, 0), 21);
  EXPECT_TRUE(r.get_bool(0, 1));
  auto bad = db.exec("SELECT 1/0");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.sqlstate(), "22012");
  EXPECT_FALSE(db.broken());
  EXPECT_TRUE(db.exec_script("SELECT 1; SELECT 2").ok());
}

TEST(BlockingPostgres, TransactionLeftWithoutCommitIsRolledBack) {
  auto db = connect_postgres();
  make_scratch_table(db);
  {
    postgres::Transaction tx(db);
    ASSERT_TRUE(db.exec("INSERT INTO scratch VALUES (1)").ok());
  }
  EXPECT_EQ(count_scratch(db), 0);
  {
    postgres::Transaction tx(db);
    ASSERT_TRUE(db.exec("INSERT INTO scratch VALUES (2)").ok());
    tx.commit();
  }
  EXPECT_EQ(count_scratch(db), 1);
  // A failed statement aborts the block; leaving it rolls back and the connection takes more.
  {
    postgres::Transaction tx(db);
    EXPECT_FALSE(db.exec("INSERT INTO scratch VALUES (2)").ok());
  }
  EXPECT_EQ(count_scratch(db), 1);
}

TEST(BlockingRedis, EvalReloadsTheScriptAfterFlush) {
  auto r = connect_redis();
  redis::Script script{"add_blocking", "return tonumber(ARGV[1]) + tonumber(ARGV[2])"};
  EXPECT_EQ(r.eval(script, {}, {"2", "3"}).integer, 5);
  ASSERT_FALSE(r.command({"SCRIPT", "FLUSH"}).is_error());
  EXPECT_EQ(r.eval(script, {}, {"4", "5"}).integer, 9);  // NOSCRIPT, then loaded again
}

TEST(BlockingRedis, PipelineAnswersInOrderAndRunsAForgottenScriptAgain) {
  auto r = connect_redis();
  redis::Script script{"incr_by_blocking", "return redis.call('INCRBY', KEYS[1], ARGV[1])"};
  const std::string key = "test:pipeline:" + uuid::make_v7();
  r.load(script);
  ASSERT_FALSE(r.command({"SCRIPT", "FLUSH"}).is_error());  // the connection's SHA is now stale
  std::vector<redis::Command> commands{redis::Command::of({"SET", key, "10"}),
                                       redis::Command::eval(script, {key}, {"5"}), redis::Command::of({"GET", key})};
  auto replies = r.pipeline(commands);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_EQ(replies[1].integer, 15);
  // GET ran before the script was run again: it saw the value before it.
  EXPECT_EQ(replies[2].str, "10");
  EXPECT_EQ(r.command({"GET", key}).str, "15");
  r.command({"DEL", key});
}

TEST(AsyncTransaction, CommittedRowsStayAndAnAbandonedBlockIsNotLentAgain) {
  asio::io_context io;
  postgres::Pool pool(io.get_executor(), required_env("DATABASE_URL"), {.size = 1});
  const std::string table = "scratch_async_" + std::to_string(::getpid());
  auto db = connect_postgres();
  ASSERT_TRUE(db.exec("CREATE TABLE " + table + " (n int PRIMARY KEY)").ok());
  auto counts = run_coro(io, [&]() -> asio::awaitable<std::vector<long long>> {
    std::vector<long long> out;
    {
      auto tx = co_await postgres::AsyncTransaction::begin(pool);
      (co_await tx.execute("INSERT INTO " + table + " VALUES (1)")).expect_ok("insert");
      (co_await tx.commit()).expect_ok("commit");
    }
    {
      auto tx = co_await postgres::AsyncTransaction::begin(pool);
      (co_await tx.execute("INSERT INTO " + table + " VALUES (2)")).expect_ok("insert");
      co_await tx.rollback();
    }
    {
      auto tx = co_await postgres::AsyncTransaction::begin(pool);
      (co_await tx.execute("INSERT INTO " + table + " VALUES (3)")).expect_ok("insert");
      // Left open: the pool closes this connection, and the server rolls it back.
    }
    auto r = co_await pool.read("SELECT count(*), COALESCE(sum(n), 0) FROM " + table);
    out.push_back(r.get_int(0, 0));
    out.push_back(r.get_int(0, 1));
    co_return out;
  }());
  EXPECT_EQ(counts, (std::vector<long long>{1, 1}));
  db.exec("DROP TABLE " + table);
}
