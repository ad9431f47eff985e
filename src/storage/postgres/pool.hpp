#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "storage/postgres/connection.hpp"

namespace orders::postgres {

struct PoolOptions {
  std::size_t size = 4;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds acquire_timeout{2000};
  std::chrono::milliseconds statement_timeout{5000};
  // After a failed connect, callers fail fast until this backoff has passed (capped, doubling).
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
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
  boost::asio::awaitable<Lease> acquire();

  // One statement on a pooled connection, with the statement timeout.
  boost::asio::awaitable<Result> query(std::string_view sql, const Params& params = {});

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
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
};

}  // namespace orders::postgres
