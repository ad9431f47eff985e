#include "storage/postgres/pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/dependency_error.hpp"

namespace orders::postgres {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

Lease::~Lease() {
  if (pool_ && conn_) pool_->release(std::move(conn_));
}

Pool::Pool(asio::any_io_executor executor, std::string conninfo, PoolOptions options)
    : executor_(std::move(executor)),
      conninfo_(std::move(conninfo)),
      options_(options),
      backoff_(options.min_backoff, options.max_backoff) {}

Pool::~Pool() {
  for (auto& w : waiters_) w->timer.cancel();
}

void Pool::release(std::unique_ptr<Connection> conn) {
  // A connection left inside a transaction (an exception between BEGIN and COMMIT) or broken
  // is closed rather than handed to the next caller.
  if (conn->broken() || conn->in_transaction()) {
    --open_;
    conn.reset();
  }
  if (!waiters_.empty()) {
    auto waiter = std::move(waiters_.front());
    waiters_.pop_front();
    if (conn) waiter->conn = std::move(conn);
    waiter->timer.cancel();  // wakes it; without a connection it will try to open one
    return;
  }
  if (conn) idle_.push_back(std::move(conn));
}

asio::awaitable<Lease> Pool::acquire() {
  const auto deadline = Clock::now() + options_.acquire_timeout;
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->usable_after_idle()) co_return Lease(this, std::move(conn));
      --open_;  // ended while idle (server restart, terminated backend): open a fresh one
      continue;
    }
    if (open_ < options_.size) {
      if (Clock::now() < retry_after_) throw DependencyUnavailable("PostgreSQL", last_error_);
      ++open_;
      try {
        auto conn = co_await Connection::connect(executor_, conninfo_, options_.connect_timeout);
        backoff_.reset();
        co_return Lease(this, std::move(conn));
      } catch (const DependencyUnavailable& e) {
        --open_;
        retry_after_ = Clock::now() + backoff_.next();
        last_error_ = e.what();
        throw;
      }
    }
    if (Clock::now() >= deadline) throw DependencyUnavailable("PostgreSQL", "no pooled connection free in time");
    auto waiter = std::make_shared<Waiter>(executor_);
    waiter->timer.expires_at(deadline);
    waiters_.push_back(waiter);
    co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (waiter->conn) co_return Lease(this, std::move(waiter->conn));
    std::erase(waiters_, waiter);  // timed out (or woken to open a connection itself)
  }
}

namespace {

bool may_repeat(Failure failure, Retry retry) {
  switch (failure) {
    case Failure::kNotSent:
    case Failure::kRejected: return true;
    case Failure::kUnknown: return retry == Retry::kIdempotent;
    case Failure::kNone:
    case Failure::kTimedOut: return false;
  }
  return false;
}

}  // namespace

asio::awaitable<Result> Pool::query(std::string_view sql, const Params& params, Retry retry) {
  for (int attempt = 1;; ++attempt) {
    Lease lease = co_await acquire();
    try {
      co_return co_await lease->execute(sql, params, options_.statement_timeout);
    } catch (const DependencyUnavailable&) {
      // One more go, on another connection: the lease drops this broken one when it goes.
      // If PostgreSQL is really down, that attempt fails to connect and its error goes up.
      if (attempt > 1 || !lease->broken() || !may_repeat(lease->failure(), retry)) throw;
    }
  }
}

}  // namespace orders::postgres
