#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/load_client.hpp"

// The flash sale as the bench plays it: B purchases of one unit, each from a user of its own
// with an Idempotency-Key of its own, products taken round robin; a share of the keys sent
// twice, half of those at once on another connection, half after the first answer. It keeps
// every key's answers to judge them (G2) and the ids of the accepted orders (G3).
namespace orders::bench {

struct PurchasePlanOptions {
  std::vector<std::string> product_ids;
  std::uint64_t buyers = 0;
  double retry_share = 0.1;
  std::string run_id;  // [A-Za-z0-9]: users and keys are unique to the run
  // This plan fires the purchases first, first + stride, … of the B (one plan per thread).
  std::uint64_t first = 0;
  std::uint64_t stride = 1;
};

// How one answer to a purchase ended.
enum class Outcome : std::uint8_t {
  kNone,         // not answered (yet)
  kAccepted,     // 202
  kSoldOut,      // 409 OUT_OF_STOCK
  kInProgress,   // 409 REQUEST_IN_PROGRESS: the same key is still being decided
  kRefused,      // any other 4xx
  kServerError,  // 5xx
  kNoAnswer,     // transport error or timeout
};

struct RetryFigures {
  std::uint64_t keys_concurrent = 0;    // retried keys fired alongside the original
  std::uint64_t keys_after_answer = 0;  // retried keys fired after the original's answer
  std::uint64_t retries_fired = 0;
  std::uint64_t replayed = 0;     // answers with Idempotent-Replayed: true
  std::uint64_t in_progress = 0;  // 409 REQUEST_IN_PROGRESS answers
  std::uint64_t same_order = 0;   // retried keys whose two answers named the same order
  // Keys whose answers named two different orders, or accepted once and sold out once.
  std::uint64_t conflicts = 0;
  std::string conflict_example;

  void merge(const RetryFigures& other);
};

// An order answered 202, and when the client saw the answer (a payment window runs from there).
struct AcceptedOrder {
  std::string id;
  std::chrono::steady_clock::time_point accepted_at;
};

class PurchasePlan final : public Workload {
 public:
  explicit PurchasePlan(PurchasePlanOptions options);

  Next next(const ConnectionSlot& slot, std::string& out, std::uint64_t& tag) override;
  void on_answer(std::uint64_t tag, const Answer& answer) override;

  // Purchases (keys) this plan holds, and how many have been fired.
  std::uint64_t purchases() const { return states_.size(); }
  std::uint64_t fired() const { return next_; }
  // Answers that decided a sale: 202 or 409 OUT_OF_STOCK (replays included).
  std::uint64_t decisions() const { return decisions_; }
  // Distinct orders accepted (a retried key counts once), per product index.
  const std::vector<std::uint64_t>& accepted_per_product() const { return accepted_per_product_; }
  std::uint64_t accepted() const;
  std::uint64_t accepted_without_id() const { return accepted_without_id_; }
  const RelaxedCounter& live_accepted() const { return live_accepted_; }
  void append_order_ids(std::vector<std::string>& out) const;
  void append_accepted(std::vector<AcceptedOrder>& out) const;
  RetryFigures retry_figures() const;

  // Units each product is asked for: buyers round robin over the products.
  static std::uint64_t demand_of(std::uint64_t buyers, std::size_t products, std::size_t product);
  // The id of the order in a 202 body ({"success":true,"data":{"id":"…"), or empty.
  static std::string_view order_id_of(std::string_view body);

 private:
  static constexpr std::size_t kIdLength = 36;
  struct KeyState {
    Outcome first = Outcome::kNone;
    Outcome retry = Outcome::kNone;
    bool has_order = false;
    std::array<char, kIdLength> order_id{};
  };
  enum class Retry : std::uint8_t { kNone, kConcurrent, kAfterAnswer };

  std::uint64_t global_index(std::uint64_t local) const { return options_.first + local * options_.stride; }
  void format_purchase(std::uint64_t local, const HttpTarget& target, std::string& out);
  static Outcome classify(const Answer& answer);

  PurchasePlanOptions options_;
  std::vector<KeyState> states_;
  std::vector<Retry> retry_;
  std::vector<std::uint32_t> ready_;  // keys whose retry may go now, in order
  std::size_t ready_head_ = 0;
  std::uint64_t next_ = 0;
  std::uint64_t awaiting_answers_ = 0;  // originals in flight whose retry waits for their answer
  std::uint64_t decisions_ = 0;
  std::uint64_t accepted_without_id_ = 0;
  std::vector<std::uint64_t> accepted_per_product_;
  // Keys whose first 202 named an order, with when it came, in the order they came.
  std::vector<std::pair<std::uint32_t, std::chrono::steady_clock::time_point>> accepted_at_;
  RetryFigures figures_;
  RelaxedCounter live_accepted_;
  std::string body_;  // scratch for the request body, reused
};

}  // namespace orders::bench
