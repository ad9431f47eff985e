#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace orders::ordering {

// Outbox confirms gathered into one Redis call. The broker confirms publishes in groups, so
// many purchases of one I/O thread reach their confirm at once; each adds its order id and
// waits, and the ids that gathered while the previous call was out leave together as the
// next: one call in flight, no timer, so a lone confirm goes at once and a crowd's go in
// groups as large as one round trip gathers (at most `max_group` per call).
//
// One thread: every add() runs on the executor of the gate's connection (its I/O thread).
// A failed call fails every add() of its group with the same error.
class ConfirmBatch {
 public:
  using Flush = std::function<boost::asio::awaitable<void>(const std::vector<std::string>& ids)>;

  explicit ConfirmBatch(Flush flush, std::size_t max_group = 256) : flush_(std::move(flush)), max_group_(max_group) {}
  ConfirmBatch(const ConfirmBatch&) = delete;
  ConfirmBatch& operator=(const ConfirmBatch&) = delete;

  // Returns once a call that held this id has returned; rethrows its error.
  boost::asio::awaitable<void> add(std::string id) {
    auto executor = co_await boost::asio::this_coro::executor;
    if (waiting_.empty() || waiting_.back()->ids.size() >= max_group_) {
      waiting_.push_back(std::make_shared<Group>(executor));
    }
    std::shared_ptr<Group> group = waiting_.back();
    group->ids.push_back(std::move(id));
    if (!draining_) {
      draining_ = true;
      boost::asio::co_spawn(executor, drain(), boost::asio::detached);
    }
    if (!group->finished) co_await group->done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (group->error) std::rethrow_exception(group->error);
  }

  std::size_t calls() const { return calls_; }  // calls made so far

 private:
  struct Group {
    explicit Group(const boost::asio::any_io_executor& executor) : done(executor) {
      done.expires_at(boost::asio::steady_timer::time_point::max());
    }
    std::vector<std::string> ids;
    boost::asio::steady_timer done;  // cancelled when the call returned: wakes every waiter
    std::exception_ptr error;
    bool finished = false;
  };

  boost::asio::awaitable<void> drain() {
    // co_spawn runs it at once on this thread: one turn of the executor first lets the adds
    // already queued (the confirms the broker sent together) join the first group.
    auto executor = co_await boost::asio::this_coro::executor;
    co_await boost::asio::post(executor, boost::asio::use_awaitable);
    while (!waiting_.empty()) {
      std::shared_ptr<Group> group = std::move(waiting_.front());
      waiting_.erase(waiting_.begin());
      ++calls_;
      try {
        co_await flush_(group->ids);
      } catch (...) {
        group->error = std::current_exception();
      }
      group->finished = true;
      group->done.cancel();
    }
    draining_ = false;
  }

  Flush flush_;
  std::size_t max_group_;
  std::vector<std::shared_ptr<Group>> waiting_;  // groups not sent yet, oldest first
  bool draining_ = false;
  std::size_t calls_ = 0;
};

}  // namespace orders::ordering
