#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "storage/postgres/handles.hpp"
#include "storage/postgres/result.hpp"

namespace orders::postgres {

// How a failed execute() left its statement; the pool decides from it whether running the
// statement again on another connection is safe.
enum class Failure {
  kNone,
  kNotSent,   // the connection was already lost: the statement never left
  kRejected,  // the server answered it with an error, then the connection went: it had no effect
  kUnknown,   // lost after it was sent, without an answer: it may or may not have taken effect
  kTimedOut,  // no answer within the statement timeout (the server may be slow, not gone)
};

// One libpq connection driven by Asio: non-blocking libpq calls, and the coroutine waits on
// the connection's socket, so no thread ever blocks on a query.
class Connection {
 public:
  // Throws DependencyUnavailable("PostgreSQL", ...) when the server cannot be reached in time.
  static boost::asio::awaitable<std::unique_ptr<Connection>> connect(boost::asio::any_io_executor executor,
                                                                     std::string conninfo,
                                                                     std::chrono::milliseconds timeout);

  // Runs one parameterised statement. SQL errors come back as a Result that is not ok();
  // a lost connection or a timeout throws DependencyUnavailable and leaves broken() true.
  boost::asio::awaitable<Result> execute(std::string_view sql, const Params& params, std::chrono::milliseconds timeout);
  boost::asio::awaitable<Result> execute(std::string_view sql, std::chrono::milliseconds timeout) {
    // A coroutine itself: the statement starts when awaited, so the empty Params must live in
    // this frame (a temporary of a plain wrapper would be gone by then).
    const Params none;
    Result r = co_await execute(sql, none, timeout);
    co_return r;
  }

  bool broken() const;
  // Why the last execute() threw (kNone if it did not).
  Failure failure() const { return failure_; }
  // For a connection that sat idle: reads, without blocking, whatever the server sent in the
  // meantime (a backend ended by a server restart sends FATAL and closes the socket), and says
  // whether the connection can still take a statement. A dead one is broken() afterwards.
  bool usable_after_idle();
  // Inside a transaction block (or a failed one) it must not go back to a pool as is.
  bool in_transaction() const;
  PGconn* native() const { return conn_.get(); }

  Connection(boost::asio::any_io_executor executor, ConnPtr conn);

 private:
  [[noreturn]] void fail(std::string_view what, Failure kind);

  ConnPtr conn_;
  boost::asio::posix::stream_descriptor socket_;  // watches a dup of PQsocket()
  bool broken_ = false;
  Failure failure_ = Failure::kNone;
};

}  // namespace orders::postgres
