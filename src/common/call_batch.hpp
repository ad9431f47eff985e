#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace orders {

// Many callers' requests of one kind gathered into one call. Each caller adds its input and
// waits for its own output; the inputs that gathered while the previous call was out leave
// together as the next: one call in flight, no timer, so a lone caller goes at once (after
// one turn of its thread's queue, which lets the callers of the same wake-up join it) and a
// crowd goes in groups as large as one round trip gathers: at most `max_group` inputs per
// call and, with a `weight`, at most `max_weight` of it (an input heavier than that goes
// alone). The call answers a group with one output per input, in order.
//
// One thread: every add() runs on the executor of the connection behind the call (its I/O
// thread). A failed call fails every add() of its group with the same error; a cancelled
// add() ends with operation_aborted while its group still holds its input (so an input must
// own what it refers to). A wait is as long as the call's: the call must time out.
template <typename In, typename Out>
class CallBatch {
 public:
  using Call = std::function<boost::asio::awaitable<std::vector<Out>>(const std::vector<In>& inputs)>;
  using Weight = std::function<std::size_t(const In& input)>;

  explicit CallBatch(Call call, std::size_t max_group = 256, Weight weight = {}, std::size_t max_weight = 0)
      : call_(std::move(call)), max_group_(max_group), weight_(std::move(weight)), max_weight_(max_weight) {}
  CallBatch(const CallBatch&) = delete;
  CallBatch& operator=(const CallBatch&) = delete;

  // Returns this input's output once a call that held it has returned; rethrows its error.
  boost::asio::awaitable<Out> add(In input) {
    auto executor = co_await boost::asio::this_coro::executor;
    const std::size_t weight = weight_ ? weight_(input) : 0;
    if (waiting_.empty() || !fits(*waiting_.back(), weight)) waiting_.push_back(std::make_shared<Group>(executor));
    std::shared_ptr<Group> group = waiting_.back();
    const std::size_t at = group->inputs.size();
    group->inputs.push_back(std::move(input));
    group->weight += weight;
    if (!draining_) {
      draining_ = true;
      boost::asio::co_spawn(executor, drain(), boost::asio::detached);
    }
    if (!group->finished) co_await group->done.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (!group->finished) throw boost::system::system_error(boost::asio::error::operation_aborted);  // cancelled
    if (group->error) std::rethrow_exception(group->error);
    co_return std::move(group->outputs[at]);
  }

  std::size_t calls() const { return calls_; }  // calls made so far

 private:
  struct Group {
    explicit Group(const boost::asio::any_io_executor& executor) : done(executor) {
      done.expires_at(boost::asio::steady_timer::time_point::max());
    }
    std::vector<In> inputs;
    std::vector<Out> outputs;
    boost::asio::steady_timer done;  // cancelled when the call returned: wakes every waiter
    std::size_t weight = 0;
    std::exception_ptr error;
    bool finished = false;
  };

  bool fits(const Group& group, std::size_t weight) const {
    if (group.inputs.size() >= max_group_) return false;
    return !weight_ || group.inputs.empty() || group.weight + weight <= max_weight_;
  }

  boost::asio::awaitable<void> drain() {
    // co_spawn runs it at once on this thread: one turn of the executor first lets the adds
    // already queued (the callers woken together) join the first group.
    auto executor = co_await boost::asio::this_coro::executor;
    co_await boost::asio::post(executor, boost::asio::use_awaitable);
    while (!waiting_.empty()) {
      std::shared_ptr<Group> group = std::move(waiting_.front());
      waiting_.pop_front();
      ++calls_;
      try {
        group->outputs = co_await call_(group->inputs);
        if (group->outputs.size() != group->inputs.size()) {
          throw std::logic_error("CallBatch: the call answered a group with a different number of outputs");
        }
      } catch (...) {
        group->error = std::current_exception();
      }
      group->finished = true;
      group->done.cancel();  // a timer's cancel does not fail (Asio sets no error)
    }
    draining_ = false;
  }

  Call call_;
  std::size_t max_group_;
  Weight weight_;
  std::size_t max_weight_;
  std::deque<std::shared_ptr<Group>> waiting_;  // groups not sent yet, oldest first
  bool draining_ = false;
  std::size_t calls_ = 0;
};

}  // namespace orders
