#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string_view>

#include "storage/postgres/pool.hpp"
#include "storage/postgres/result.hpp"

namespace orders::postgres {

// A transaction block on a pooled connection: BEGIN in begin(), then statements, then commit()
// or rollback(). A destructor cannot co_await a ROLLBACK, so one that goes without either (an
// exception, an early co_return) hands its connection back still inside the block, and the
// pool closes it rather than lend it again (Pool::release): the server rolls back. Not for
// concurrent use (one coroutine at a time, like the Lease it holds).
class AsyncTransaction {
 public:
  // A connection from `pool` (Pool::acquire) and BEGIN on it; every statement of the
  // transaction gets `timeout`. Throws DependencyUnavailable as acquire() and execute() do, and
  // std::runtime_error("statement begin failed: ...") when BEGIN is refused.
  static boost::asio::awaitable<AsyncTransaction> begin(Pool& pool, std::chrono::milliseconds timeout);
  static boost::asio::awaitable<AsyncTransaction> begin(Pool& pool) { return begin(pool, pool.statement_timeout()); }

  AsyncTransaction(AsyncTransaction&&) noexcept = default;
  AsyncTransaction& operator=(AsyncTransaction&&) = delete;
  ~AsyncTransaction() = default;

  // One statement inside the block, as Connection::execute (a SQL error is a Result that is not
  // ok(); a lost connection throws DependencyUnavailable).
  boost::asio::awaitable<Result> execute(std::string_view sql, const Params& params);
  boost::asio::awaitable<Result> execute(std::string_view sql);

  // COMMIT. Its Result is the caller's to judge (a serialization failure may be worth a retry,
  // anything else not ok() is an error); the block is over either way.
  boost::asio::awaitable<Result> commit();
  // ROLLBACK now, its result not looked at: the connection goes back to the pool clean.
  boost::asio::awaitable<void> rollback();

  // Still inside the block: neither commit() nor rollback() has run.
  bool open() const { return open_; }
  Connection& connection() const { return *lease_; }

 private:
  AsyncTransaction(Lease lease, std::chrono::milliseconds timeout) : lease_(std::move(lease)), timeout_(timeout) {}

  Lease lease_;
  std::chrono::milliseconds timeout_;
  bool open_ = true;
};

}  // namespace orders::postgres
