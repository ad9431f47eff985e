#pragma once

#include <algorithm>
#include <chrono>

namespace orders {

// Capped doubling backoff between retries: `min` after a reset (and at first), then twice the
// last wait, never more than `max`. A plain value: the caller sleeps, arms a timer or refuses
// calls until the wait has passed; reset() after a success.
class Backoff {
 public:
  constexpr Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max) {}

  // The wait before the next attempt, after one more failure.
  constexpr std::chrono::milliseconds next() {
    current_ = current_.count() == 0 ? min_ : std::min(current_ * 2, max_);
    return current_;
  }
  constexpr void reset() { current_ = std::chrono::milliseconds{0}; }
  // What the last next() returned; zero when reset (no failure since the last success).
  constexpr std::chrono::milliseconds current() const { return current_; }

  constexpr std::chrono::milliseconds min() const { return min_; }
  constexpr std::chrono::milliseconds max() const { return max_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_{0};
};

}  // namespace orders
