#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench/load_client.hpp"

// The payments of `orders bench flash-sale --pay-share S --payment-window W`: after the firing,
// a share S of the accepted orders is paid (PUT /api/orders/{id}/status PAID) at a random moment
// inside each one's window, counted from when its 202 came; the rest is left to expire.
namespace orders::bench {

// How many of `orders` a share pays, to the nearest order: 0.7 of 10 is 7.
inline std::size_t payers_of(std::size_t orders, double share) {
  const double clamped = std::clamp(share, 0.0, 1.0);
  return std::min(orders, static_cast<std::size_t>(std::llround(static_cast<double>(orders) * clamped)));
}

// payers_of(orders, share) distinct order numbers below `orders`, at random, ascending. The
// same seed chooses the same orders (a run can be repeated).
inline std::vector<std::size_t> choose_payers(std::size_t orders, double share, std::uint64_t seed) {
  const std::size_t count = payers_of(orders, share);
  std::vector<std::size_t> numbers(orders);
  std::iota(numbers.begin(), numbers.end(), std::size_t{0});
  std::mt19937_64 random(seed);
  // The first `count` steps of a Fisher-Yates shuffle: a uniform choice without repeats.
  for (std::size_t i = 0; i < count; ++i) {
    std::uniform_int_distribution<std::size_t> pick(i, orders - 1);
    std::swap(numbers[i], numbers[pick(random)]);
  }
  numbers.resize(count);
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

// A payment of accepted order number `order`, due `due_ms` after the epoch its acceptance is
// counted from.
struct PaymentMoment {
  std::size_t order = 0;
  std::int64_t due_ms = 0;
};

// For orders accepted `accepted_ms[i]` after an epoch: the chosen payers, each due at a moment
// drawn uniformly from [accepted, accepted + window), soonest first.
inline std::vector<PaymentMoment> schedule_payments(const std::vector<std::int64_t>& accepted_ms,
                                                    std::int64_t window_ms, double share, std::uint64_t seed) {
  std::vector<PaymentMoment> moments;
  if (window_ms < 1) return moments;
  std::mt19937_64 random(seed ^ 0x9e3779b97f4a7c15ULL);  // not the stream that chose the payers
  std::uniform_int_distribution<std::int64_t> inside(0, window_ms - 1);
  for (std::size_t order : choose_payers(accepted_ms.size(), share, seed)) {
    moments.push_back({order, accepted_ms[order] + inside(random)});
  }
  std::stable_sort(moments.begin(), moments.end(),
                   [](const PaymentMoment& a, const PaymentMoment& b) { return a.due_ms < b.due_ms; });
  return moments;
}

// How one payment ended.
enum class PayOutcome : std::uint8_t {
  kNotSent,  // its moment came after the time limit (or a 503 was the last word)
  kPaid,     // 200
  kExpired,  // 409 ORDER_EXPIRED: the deadline passed first, an outcome, not an error
  kOther,    // any other answer, or none
};

struct PaymentFigures {
  std::uint64_t scheduled = 0;
  std::uint64_t attempted = 0;  // payments sent at least once
  std::uint64_t requests = 0;   // PUTs sent, the retries after a 503 included
  std::uint64_t paid = 0;
  std::uint64_t expired = 0;
  std::uint64_t other = 0;
  std::uint64_t retried = 0;   // 503 answers asked again later
  std::uint64_t not_sent = 0;  // scheduled, never sent
};

// Sends each payment once its moment has come (at once when it has passed), one request per
// connection at a time; a 503 (the record cannot take a pending order's payment yet) is asked
// again after a backoff, at most kMaxAttempts times. Ends when every payment has its answer;
// the LoadClient's deadline bounds the rest.
class PaymentPlan final : public Workload {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;
  struct Payment {
    std::string order_id;
    Clock::time_point due;
  };
  static constexpr int kMaxAttempts = 8;

  PaymentPlan(std::vector<Payment> payments, std::string authorization, Now now = &Clock::now)
      : payments_(std::move(payments)),
        states_(payments_.size()),
        authorization_(std::move(authorization)),
        now_(std::move(now)) {
    for (std::size_t i = 0; i < payments_.size(); ++i) due_.emplace(payments_[i].due, static_cast<std::uint32_t>(i));
  }

  Next next(const ConnectionSlot& slot, std::string& out, std::uint64_t& tag) override {
    if (due_.empty()) return in_flight_ > 0 ? Next::kWait : Next::kDone;
    if (due_.top().first > now_()) return Next::kWait;
    const std::uint32_t i = due_.top().second;
    due_.pop();
    format_payment(payments_[i].order_id, *slot.target, out);
    tag = i;
    ++states_[i].attempts;
    ++requests_;
    ++in_flight_;
    return Next::kSend;
  }

  void on_answer(std::uint64_t tag, const Answer& answer) override {
    --in_flight_;
    State& state = states_[tag];
    if (answer.status == 503 && state.attempts < kMaxAttempts) {
      ++retried_;
      const auto backoff = std::chrono::milliseconds(std::min(2000, 250 << std::min(state.attempts - 1, 3)));
      due_.emplace(now_() + backoff, static_cast<std::uint32_t>(tag));
      return;
    }
    state.outcome = outcome_of(answer);
  }

  PaymentFigures figures() const {
    PaymentFigures f;
    f.scheduled = payments_.size();
    f.requests = requests_;
    f.retried = retried_;
    for (const State& s : states_) {
      if (s.attempts == 0) {
        ++f.not_sent;
        continue;
      }
      ++f.attempted;
      if (s.outcome == PayOutcome::kPaid) ++f.paid;
      else if (s.outcome == PayOutcome::kExpired) ++f.expired;
      else ++f.other;  // kOther, or a 503 whose retry the deadline stopped
    }
    return f;
  }

  // The orders whose payment ended so.
  std::vector<std::string> order_ids(PayOutcome outcome) const {
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < states_.size(); ++i) {
      if (states_[i].outcome == outcome) ids.push_back(payments_[i].order_id);
    }
    return ids;
  }

  static PayOutcome outcome_of(const Answer& answer) {
    if (answer.status == 200) return PayOutcome::kPaid;
    if (answer.status == 409 && error_code_of(answer.body) == "ORDER_EXPIRED") return PayOutcome::kExpired;
    return PayOutcome::kOther;
  }

 private:
  struct State {
    PayOutcome outcome = PayOutcome::kNotSent;
    int attempts = 0;
  };
  using Due = std::pair<Clock::time_point, std::uint32_t>;

  void format_payment(const std::string& order_id, const HttpTarget& target, std::string& out) const {
    static constexpr std::string_view kBody = R"({"status":"PAID"})";
    out += "PUT /api/orders/";
    out += order_id;
    out += "/status HTTP/1.1\r\nHost: ";
    out += target.host_header;
    out += "\r\nContent-Type: application/json\r\n";
    if (!authorization_.empty()) {
      out += "Authorization: ";
      out += authorization_;
      out += "\r\n";
    }
    out += "Content-Length: ";
    out += std::to_string(kBody.size());
    out += "\r\n\r\n";
    out += kBody;
  }

  std::vector<Payment> payments_;
  std::vector<State> states_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;  // soonest first
  std::string authorization_;
  Now now_;
  std::uint64_t in_flight_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t retried_ = 0;
};

}  // namespace orders::bench
