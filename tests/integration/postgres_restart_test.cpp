// Pooled PostgreSQL connections that the server ended (a restart, a terminated backend) are
// replaced without failing a request: an idle one is checked when taken from the pool, and a
// statement the server refused because its connection was ending runs once more.
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <mutex>
#include <optional>
#include <thread>

#include "common/dependency_error.hpp"
#include "common/uuid.hpp"
#include "storage/postgres/pool.hpp"
#include "support/api_helpers.hpp"
#include "support/process.hpp"

using namespace orders;
using namespace orders::testing;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

// Runs a coroutine on a private io_context until it finishes. Bounded: 60 s.
template <typename T>
T run_coro(asio::io_context& io, asio::awaitable<T> coro) {
  auto future = asio::co_spawn(io, std::move(coro), asio::use_future);
  io.restart();
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready && Clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(50));
  }
  if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    throw std::runtime_error("coroutine did not finish within 60 s");
  }
  return future.get();
}

// Waits (on the coroutine's io_context) until every future is ready.
template <typename T>
asio::awaitable<void> all_ready(asio::io_context& io, std::vector<std::future<T>>& futures) {
  asio::steady_timer t(io);
  while (std::any_of(futures.begin(), futures.end(),
                     [](auto& f) { return f.wait_for(std::chrono::seconds(0)) != std::future_status::ready; })) {
    t.expires_after(std::chrono::milliseconds(5));
    co_await t.async_wait(asio::use_awaitable);
  }
}

// The test stack's URL with an application_name, so a test can find (and end) the backends
// of its own pool in pg_stat_activity without touching anybody else's.
std::string url_named(const std::string& name) { return required_env("DATABASE_URL") + "?application_name=" + name; }

int backends_of(const std::string& name, const std::string& extra = "") {
  return std::stoi(psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + name + "'" + extra));
}

// Ends every backend of `name` the way a server shutdown does (FATAL 57P01 "terminating
// connection due to administrator command") and waits until they are gone.
void terminate_backends(const std::string& name) {
  psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" + name + "'");
  for (int i = 0; i < 100 && backends_of(name) > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(backends_of(name), 0);
}

// Opens `n` connections in `pool` by running n overlapping statements.
void warm(asio::io_context& io, postgres::Pool& pool, int n) {
  int ok = run_coro(io, [&]() -> asio::awaitable<int> {
    std::vector<std::future<bool>> parts;
    for (int i = 0; i < n; ++i) {
      parts.push_back(asio::co_spawn(
          io, [&]() -> asio::awaitable<bool> { co_return (co_await pool.query("SELECT pg_sleep(0.2)")).ok(); }(),
          asio::use_future));
    }
    co_await all_ready(io, parts);
    int good = 0;
    for (auto& f : parts) good += f.get();
    co_return good;
  }());
  ASSERT_EQ(ok, n);
}

}  // namespace

TEST(PostgresPoolRecovery, IdleConnectionsEndedByTheServerAreReplacedBeforeUse) {
  const std::string name = "pool-idle-" + uuid::make_v7().substr(24);
  asio::io_context io;
  postgres::Pool pool(io.get_executor(), url_named(name), {.size = 4});
  warm(io, pool, 4);
  ASSERT_EQ(backends_of(name), 4);
  terminate_backends(name);

  // Four leases at once take every pooled connection; a transaction on each must work (a
  // lease is never retried, so this is the check on taking a connection from the pool).
  int committed = run_coro(io, [&]() -> asio::awaitable<int> {
    // (optional + emplace: GCC 12 mishandles a co_await inside push_back's argument)
    std::array<std::optional<postgres::Lease>, 4> leases;
    int n = 0;
    for (auto& lease : leases) lease.emplace(co_await pool.acquire());
    for (auto& lease : leases) {
      auto timeout = pool.statement_timeout();
      auto begin = co_await (*lease)->execute("BEGIN", timeout);
      auto select = co_await (*lease)->execute("SELECT 1", timeout);
      auto commit = co_await (*lease)->execute("COMMIT", timeout);
      n += begin.ok() && select.ok() && commit.ok();
    }
    co_return n;
  }());
  EXPECT_EQ(committed, 4);
  EXPECT_EQ(backends_of(name), 4) << "four fresh connections replaced the ended ones";
}

TEST(PostgresPoolRecovery, StatementRefusedByAnEndingConnectionRunsAgainOnAFreshOne) {
  const std::string name = "pool-busy-" + uuid::make_v7().substr(24);
  asio::io_context io;
  postgres::Pool pool(io.get_executor(), url_named(name), {.size = 1});
  // While the statement runs, its backend is ended: the server answers FATAL 57P01 and closes.
  // The statement failed as a whole, so running it again is safe even for a write.
  std::thread terminator([&] {
    for (int i = 0; i < 200 && backends_of(name, " AND state = 'active' AND query LIKE '%pg_sleep%'") == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '" + name +
         "' AND query LIKE '%pg_sleep%'");
  });
  std::optional<postgres::Result> r;
  std::string error;
  try {
    r = run_coro(io, pool.query("SELECT 7, pg_sleep(1), pg_backend_pid()"));
  } catch (const std::exception& e) {
    error = e.what();
  }
  terminator.join();
  ASSERT_TRUE(r) << error;
  ASSERT_TRUE(r->ok()) << r->error_message();
  EXPECT_EQ(r->get_int(0, 0), 7);
}

TEST(PostgresPoolRecovery, TimedOutStatementIsNotRunAgain) {
  asio::io_context io;
  postgres::Pool pool(io.get_executor(), required_env("DATABASE_URL"),
                      {.size = 1, .statement_timeout = std::chrono::milliseconds(300)});
  const std::string marker = "timeout-" + uuid::make_v7().substr(24);
  // A read may be repeated after a lost connection, never after a timeout (the server may be
  // slow, not gone): the second run would only double the wait.
  EXPECT_THROW(run_coro(io, pool.read("SELECT pg_sleep(1), '" + marker + "'")), DependencyUnavailable);
  auto started = run_coro(io, pool.query("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%" + marker +
                                         "%' AND pid <> pg_backend_pid()"));
  ASSERT_TRUE(started.ok());
  EXPECT_LE(started.get_int(0, 0), 1) << "at most the first, abandoned run is still there";
}

// The reported case: after a restart of the real PostgreSQL, product reads by id (cache miss)
// and the list answered 503 once per pooled connection. Restarts the shared test stack's
// PostgreSQL (tests run one at a time) and leaves it running.
TEST(PostgresRestart, ProductReadsAnswer200AsSoonAsPostgresIsBack) {
  ApiProcess api;
  std::vector<std::string> products;
  for (int i = 0; i < 4; ++i) {
    products.push_back(
        create_product(api.port(), R"({"name":"restart )" + std::to_string(i) + R"(","price":3,"stock":5})"));
  }
  std::vector<std::string> del{"DEL"};
  for (const auto& id : products) del.push_back("{p:" + id + "}:cache");

  // Reads that use every pooled connection (2 I/O threads x 4 by default), by id with the
  // cache cleared first, and the list (always PostgreSQL).
  std::mutex mutex;
  std::vector<std::string> failures;
  auto round = [&] {
    redis_cli(del);
    concurrently(16, [&](int i) {
      std::string target = i % 2 ? "/api/products" : "/api/products/" + products[(i / 2) % products.size()];
      auto r = http_get(api.port(), target);
      if (r.status != 200) {
        std::lock_guard lock(mutex);
        failures.push_back(target + " -> " + std::to_string(r.status) + " " + r.body);
      }
    });
  };
  for (int i = 0; i < 3; ++i) round();
  ASSERT_TRUE(failures.empty()) << failures.front();

  const std::string stack = required_env("ORDERS_SOURCE_DIR") + "/scripts/stack.sh";
  const std::string dir = required_env("ORDERS_TEST_STACK_DIR");
  auto killed = run({stack, "kill", "postgres", "--dir", dir}, {}, std::chrono::seconds(120));
  ASSERT_EQ(killed.code, 0) << killed.output;
  auto started = run({stack, "start", "--dir", dir}, {}, std::chrono::seconds(200));
  ASSERT_EQ(started.code, 0) << started.output;
  std::string answer;
  for (int i = 0; i < 100 && (answer = psql("SELECT 1")) != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(answer, "1") << "PostgreSQL accepts connections again";

  for (int i = 0; i < 3; ++i) round();
  EXPECT_TRUE(failures.empty()) << failures.size() << " reads failed after the restart, first: " << failures.front();
}
