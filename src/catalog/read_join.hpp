#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace orders::catalog {

// One I/O thread's concurrent reads of one key share round trips, and none is answered from a
// read sent before it arrived (SPEC: `stock` is never served stale). The first caller reads.
// Callers arriving while that read is out wait for the next round; when the read comes back,
// the first of them sends one read for all of them, and so on while callers keep coming. A
// caller waits for at most the read in flight and its own round's read.
//
// A hot product during a sale (everyone refreshing one page) costs Redis one MGET per round
// instead of one per request. Single-threaded: every caller runs on the executor of the thread
// that owns the join (a shard's); not for use across threads.
template <typename T>
class ReadJoin {
 public:
  using Reader = std::function<boost::asio::awaitable<T>()>;

  // GCC 12 destroys a temporary std::function argument of a coroutine twice: callers pass a
  // named Reader that outlives the call.
  boost::asio::awaitable<T> run(const std::string& key, const Reader& read) {
    namespace asio = boost::asio;
    auto [slot, first] = keys_.try_emplace(key);
    if (first) co_return co_await lead(key, read, {});
    auto executor = co_await asio::this_coro::executor;
    // (References into an unordered_map survive rehashing; the key stays until its last round.)
    auto& waiting = slot->second;
    Turn turn = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Turn)>(
        [&](auto handler) {
          waiting.push_back(std::make_unique<Waiter<decltype(handler)>>(std::move(handler), executor));
        },
        asio::use_awaitable);
    if (turn.lead) co_return co_await lead(key, read, std::move(turn.followers));
    if (turn.failure) std::rethrow_exception(turn.failure);
    co_return *turn.result;
  }

  // Reads sent and callers served since the join was made (for tests and metrics).
  std::uint64_t reads() const { return reads_; }
  std::uint64_t joined() const { return joined_; }

 private:
  struct WaiterBase;
  using Waiters = std::vector<std::unique_ptr<WaiterBase>>;
  // What a waiting caller is resumed with: its round's reply (or failure), or the lead of the
  // next round with the callers that wait for it.
  struct Turn {
    bool lead = false;
    Waiters followers;
    std::exception_ptr failure;
    std::shared_ptr<const T> result;
  };
  struct WaiterBase {
    virtual ~WaiterBase() = default;
    virtual void resume(Turn turn) = 0;
  };
  template <typename Handler>
  struct Waiter : WaiterBase {
    Waiter(Handler h, boost::asio::any_io_executor ex) : handler(std::move(h)), executor(std::move(ex)) {}
    void resume(Turn turn) override {
      boost::asio::post(executor,
                        [h = std::move(handler), t = std::move(turn)]() mutable { std::move(h)(std::move(t)); });
    }
    Handler handler;
    boost::asio::any_io_executor executor;
  };

  // Reads for this caller and `followers`, then hands the next round to whoever came meanwhile.
  boost::asio::awaitable<T> lead(const std::string& key, const Reader& read, Waiters followers) {
    ++reads_;
    joined_ += 1 + followers.size();
    std::shared_ptr<const T> result;
    std::exception_ptr failure;
    try {
      result = std::make_shared<const T>(co_await read());
    } catch (...) {
      failure = std::current_exception();
    }
    for (auto& f : followers) f->resume(Turn{.failure = failure, .result = result});
    auto slot = keys_.find(key);
    if (slot->second.empty()) {
      keys_.erase(slot);
    } else {
      Waiters next = std::move(slot->second);
      slot->second.clear();
      auto leader = std::move(next.front());
      next.erase(next.begin());
      leader->resume(Turn{.lead = true, .followers = std::move(next)});
    }
    if (failure) std::rethrow_exception(failure);
    co_return *result;
  }

  // Per key with a read out: the callers that arrived since it was sent.
  std::unordered_map<std::string, Waiters> keys_;
  std::uint64_t reads_ = 0;
  std::uint64_t joined_ = 0;
};

}  // namespace orders::catalog
