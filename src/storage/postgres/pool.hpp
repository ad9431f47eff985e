#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/backoff.hpp"
#include "storage/postgres/connection.hpp"

namespace orders::postgres {

struct PoolOptions {
  std::size_t size = 4;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds acquire_timeout{2000};
  std::chrono::milliseconds statement_timeout{5000};
  // After a failed connect, callers fail fast until this backoff has passed (capped, doubling).
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{1000};
};

// Whether Pool::query may run a statement a second time after its connection was lost.
enum class Retry {
  // Only when it certainly had no effect: the connection was found dead before it was sent,
  // or the server refused it (e.g. "terminating connection") before the connection went.
  // Right for every statement, writes included.
  kIfNotApplied,
  // Also when the connection went after it was sent and its outcome is unknown: only for
  // statements that may run twice (reads).
  kIdempotent,
};

class Pool;

// A connection borrowed from the pool; goes back on destruction (or is dropped if broken).
class Lease {
 public:
  Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease();

  Connection& operator*() const { return *conn_; }
  Connection* operator->() const { return conn_.get(); }

 private:
  Pool* pool_;
  std::unique_ptr<Connection> conn_;
};

// A bounded pool of libpq connections for one I/O thread (not thread-safe by design: every
// I/O thread owns its pool, so nothing is locked). Waiting for a connection has a timeout;
// reconnecting after failures backs off exponentially up to a cap.
class Pool {
 public:
  Pool(boost::asio::any_io_executor executor, std::string conninfo, PoolOptions options = {});
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Throws DependencyUnavailable("PostgreSQL", ...) when no connection can be had in time.
  // An idle connection is checked first (Connection::usable_after_idle) and replaced if dead,
  // so a transaction does not start on a connection a server restart has already ended.
  boost::asio::awaitable<Lease> acquire();

  // One statement on a pooled connection, with the statement timeout. A connection found
  // broken is dropped and the statement runs once more on a fresh one when `retry` allows
  // it (never after a timeout); DependencyUnavailable only when that fails too.
  boost::asio::awaitable<Result> query(std::string_view sql, const Params& params = {},
                                       Retry retry = Retry::kIfNotApplied);
  // A read: query() that may also repeat it after a connection lost mid-statement.
  boost::asio::awaitable<Result> read(std::string_view sql, const Params& params = {}) {
    return query(sql, params, Retry::kIdempotent);
  }

  std::chrono::milliseconds statement_timeout() const { return options_.statement_timeout; }

 private:
  friend class Lease;
  struct Waiter {
    explicit Waiter(boost::asio::any_io_executor ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    std::unique_ptr<Connection> conn;
  };
  void release(std::unique_ptr<Connection> conn);

  boost::asio::any_io_executor executor_;
  std::string conninfo_;
  PoolOptions options_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // idle + leased + connecting
  std::deque<std::shared_ptr<Waiter>> waiters_;
  std::chrono::steady_clock::time_point retry_after_{};
  Backoff backoff_;
  std::string last_error_;
};

}  // namespace orders::postgres
