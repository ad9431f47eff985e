#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace orders::catalog {

// Process-wide: concurrent callers asking for the same key share one load, whichever I/O
// thread they run on. The first caller loads; the others wait and get its result (or its
// exception), resumed on their own executors.
template <typename T>
class SingleFlight {
 public:
  using Loader = std::function<boost::asio::awaitable<T>()>;

  // GCC 12 destroys a temporary std::function argument of a coroutine twice: callers pass a
  // named Loader that outlives the call.
  boost::asio::awaitable<T> run(const std::string& key, const Loader& loader) {
    namespace asio = boost::asio;
    auto executor = co_await asio::this_coro::executor;
    {
      std::unique_lock lock(mutex_);
      auto it = inflight_.find(key);
      if (it != inflight_.end()) {
        auto shared = co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                                    void(std::exception_ptr, std::shared_ptr<const T>)>(
            [&](auto handler) {
              it->second.push_back(std::make_unique<Waiter<decltype(handler)>>(std::move(handler), executor));
              lock.unlock();
            },
            asio::use_awaitable);
        co_return *shared;
      }
      inflight_.emplace(key, std::vector<std::unique_ptr<WaiterBase>>{});
    }
    std::shared_ptr<const T> result;
    std::exception_ptr failure;
    try {
      result = std::make_shared<const T>(co_await loader());
    } catch (...) {
      failure = std::current_exception();
    }
    std::vector<std::unique_ptr<WaiterBase>> waiters;
    {
      std::lock_guard lock(mutex_);
      auto node = inflight_.extract(key);
      waiters = std::move(node.mapped());
    }
    for (auto& w : waiters) w->complete(failure, result);
    if (failure) std::rethrow_exception(failure);
    co_return *result;
  }

 private:
  struct WaiterBase {
    virtual ~WaiterBase() = default;
    virtual void complete(std::exception_ptr failure, std::shared_ptr<const T> result) = 0;
  };
  template <typename Handler>
  struct Waiter : WaiterBase {
    Waiter(Handler h, boost::asio::any_io_executor ex) : handler(std::move(h)), executor(std::move(ex)) {}
    void complete(std::exception_ptr failure, std::shared_ptr<const T> result) override {
      boost::asio::post(
          executor, [h = std::move(handler), failure, result]() mutable { std::move(h)(failure, std::move(result)); });
    }
    Handler handler;
    boost::asio::any_io_executor executor;
  };

  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<WaiterBase>>> inflight_;
};

}  // namespace orders::catalog
