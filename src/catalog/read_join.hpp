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
// read sent before it arrived (SPEC: `stock` is never served stale). A round gathers its callers
// until its read is sent: the first caller yields once to the thread's queue, so the requests
// the same wake-up brought in (a burst of connections refreshing one page) join it. Callers
// arriving while the read is out gather for the next round, which the first of them sends when
// the read comes back, and so on while callers keep coming. A caller waits for at most the read
// in flight and its own round's read.
//
// A hot product during a sale costs Redis one MGET per round instead of one per request.
// Single-threaded: every caller runs on the executor of the thread that owns the join (a
// shard's); not for use across threads.
template <typename T>
class ReadJoin {
 public:
  using Reader = std::function<boost::asio::awaitable<T>()>;

  // GCC 12 destroys a temporary std::function argument of a coroutine twice: callers pass a
  // named Reader that outlives the call.
  boost::asio::awaitable<T> run(const std::string& key, const Reader& read) {
    namespace asio = boost::asio;
    auto [slot, first] = keys_.try_emplace(key);
    if (first) {
      // Let the callers already queued on this thread join the read before it goes.
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      co_return co_await lead(key, read);
    }
    auto executor = co_await asio::this_coro::executor;
    // (References into an unordered_map survive rehashing; the key stays until its last round.)
    Key& state = slot->second;
    Waiters& gathering = state.sent ? state.next : state.round;
    Turn turn = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Turn)>(
        [&](auto handler) {
          gathering.push_back(std::make_unique<Waiter<decltype(handler)>>(std::move(handler), executor));
        },
        asio::use_awaitable);
    if (turn.lead) co_return co_await lead(key, read);
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
  // next round.
  struct Turn {
    bool lead = false;
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
  // A key with a round under way: the callers gathered for the read its leader sends, and once
  // that read is out, the callers gathering for the next one.
  struct Key {
    Waiters round;
    Waiters next;
    bool sent = false;
  };

  // Sends the round's read for its leader and the callers gathered, then hands the next round
  // to the first of those who came while it was out.
  boost::asio::awaitable<T> lead(const std::string& key, const Reader& read) {
    Key& state = keys_.find(key)->second;
    Waiters followers = std::move(state.round);
    state.round.clear();
    state.sent = true;
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
    if (state.next.empty()) {
      keys_.erase(key);
    } else {
      state.round = std::move(state.next);
      state.next.clear();
      state.sent = false;
      auto leader = std::move(state.round.front());
      state.round.erase(state.round.begin());
      leader->resume(Turn{.lead = true});  // posted: callers arriving before it runs still join
    }
    if (failure) std::rethrow_exception(failure);
    co_return *result;
  }

  std::unordered_map<std::string, Key> keys_;
  std::uint64_t reads_ = 0;
  std::uint64_t joined_ = 0;
};

}  // namespace orders::catalog
