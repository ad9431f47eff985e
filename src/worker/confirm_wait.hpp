#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/rabbitmq/publisher.hpp"

namespace orders::worker {

// Counts the broker's confirms of a set of published messages, waited for with a bound. The
// count lives in a state that the waiter and every completion own together (shared_ptr): the
// publisher's thread may run a completion after the waiter gave up and is gone (a confirm later
// than the bound, a publisher blocked on a paused broker), and it then counts into a state
// nobody reads any more instead of into freed memory.
class ConfirmWait {
 public:
  // One completion per message, for Publisher::enqueue. Take it before enqueueing: enqueue may
  // run it at once (not connected, overloaded).
  std::unique_ptr<rabbitmq::Publisher::Completion> completion() {
    std::size_t index = 0;
    {
      std::lock_guard lock(state_->mutex);
      index = static_cast<std::size_t>(state_->expected++);
      state_->confirmed_at.push_back(false);
    }
    return std::make_unique<One>(state_, index);
  }

  // Waits until every completion handed out has run, or `limit` passed; returns how many of
  // them the broker confirmed so far.
  int wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(state_->mutex);
    state_->cv.wait_for(lock, limit, [&] { return state_->finished >= state_->expected; });
    return state_->confirmed;
  }

  // Which of the completions handed out (in the order they were taken) the broker confirmed.
  std::vector<bool> confirmed() const {
    std::lock_guard lock(state_->mutex);
    return state_->confirmed_at;
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    int expected = 0, finished = 0, confirmed = 0;
    std::vector<bool> confirmed_at;
  };
  struct One : rabbitmq::Publisher::Completion {
    One(std::shared_ptr<State> s, std::size_t i) : state(std::move(s)), index(i) {}
    void complete(rabbitmq::PublishOutcome outcome) override {
      std::lock_guard lock(state->mutex);
      ++state->finished;
      const bool ok = outcome == rabbitmq::PublishOutcome::kConfirmed;
      state->confirmed += ok;
      state->confirmed_at[index] = ok;
      state->cv.notify_all();
    }
    std::shared_ptr<State> state;
    std::size_t index;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace orders::worker
