#include "storage/postgres/async_transaction.hpp"

namespace orders::postgres {
namespace asio = boost::asio;

asio::awaitable<AsyncTransaction> AsyncTransaction::begin(Pool& pool, std::chrono::milliseconds timeout) {
  Lease lease = co_await pool.acquire();
  Result begun = co_await lease->execute("BEGIN", timeout);
  begun.expect_ok("begin");
  co_return AsyncTransaction(std::move(lease), timeout);
}

asio::awaitable<Result> AsyncTransaction::execute(std::string_view sql, const Params& params) {
  Result r = co_await lease_->execute(sql, params, timeout_);
  co_return r;
}

asio::awaitable<Result> AsyncTransaction::execute(std::string_view sql) {
  Result r = co_await lease_->execute(sql, timeout_);
  co_return r;
}

asio::awaitable<Result> AsyncTransaction::commit() {
  open_ = false;
  Result r = co_await lease_->execute("COMMIT", timeout_);
  co_return r;
}

asio::awaitable<void> AsyncTransaction::rollback() {
  open_ = false;
  co_await lease_->execute("ROLLBACK", timeout_);
}

}  // namespace orders::postgres
