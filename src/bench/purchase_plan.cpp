#include "bench/purchase_plan.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace orders::bench {
namespace {

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::kNone: return "none";
    case Outcome::kAccepted: return "202";
    case Outcome::kSoldOut: return "409 OUT_OF_STOCK";
    case Outcome::kInProgress: return "409 REQUEST_IN_PROGRESS";
    case Outcome::kRefused: return "refused";
    case Outcome::kServerError: return "5xx";
    case Outcome::kNoAnswer: return "no answer";
  }
  return "?";
}

}  // namespace

void RetryFigures::merge(const RetryFigures& other) {
  keys_concurrent += other.keys_concurrent;
  keys_after_answer += other.keys_after_answer;
  retries_fired += other.retries_fired;
  replayed += other.replayed;
  in_progress += other.in_progress;
  same_order += other.same_order;
  conflicts += other.conflicts;
  if (conflict_example.empty()) conflict_example = other.conflict_example;
}

PurchasePlan::PurchasePlan(PurchasePlanOptions options) : options_(std::move(options)) {
  if (options_.product_ids.empty()) throw std::invalid_argument("a purchase plan needs products");
  if (options_.stride == 0) options_.stride = 1;
  const std::uint64_t count = options_.buyers > options_.first
                                  ? (options_.buyers - options_.first + options_.stride - 1) / options_.stride
                                  : 0;
  if (count > UINT32_MAX) throw std::invalid_argument("too many buyers for one plan");
  states_.resize(count);
  retry_.resize(count, Retry::kNone);
  accepted_per_product_.resize(options_.product_ids.size(), 0);
  // Key i is retried when the running share crosses an integer there: exactly
  // floor(B * share) keys, spread evenly; the k-th of them concurrently when k is even.
  const double share = options_.retry_share;
  for (std::uint64_t local = 0; local < count; ++local) {
    const std::uint64_t i = global_index(local);
    const auto before = static_cast<std::uint64_t>(std::floor(static_cast<double>(i) * share));
    const auto after = static_cast<std::uint64_t>(std::floor(static_cast<double>(i + 1) * share));
    if (after > before) {
      retry_[local] = (before % 2 == 0) ? Retry::kConcurrent : Retry::kAfterAnswer;
      if (retry_[local] == Retry::kConcurrent) ++figures_.keys_concurrent;
      else ++figures_.keys_after_answer;
    }
  }
  ready_.reserve(figures_.keys_concurrent + figures_.keys_after_answer);
  body_.reserve(256);
}

std::uint64_t PurchasePlan::demand_of(std::uint64_t buyers, std::size_t products, std::size_t product) {
  return buyers / products + (product < buyers % products ? 1 : 0);
}

std::string_view PurchasePlan::order_id_of(std::string_view body) {
  constexpr std::string_view kKey = "\"id\":\"";
  auto at = body.find(kKey);
  if (at == std::string_view::npos) return {};
  at += kKey.size();
  if (body.size() < at + kIdLength || body[at + kIdLength] != '"') return {};
  return body.substr(at, kIdLength);
}

std::uint64_t PurchasePlan::accepted() const {
  std::uint64_t n = 0;
  for (auto a : accepted_per_product_) n += a;
  return n;
}

// POST /api/orders for one unit of the key's product, from the key's own user.
void PurchasePlan::format_purchase(std::uint64_t local, const HttpTarget& target, std::string& out) {
  const std::uint64_t i = global_index(local);
  const std::string& product = options_.product_ids[i % options_.product_ids.size()];
  body_.clear();
  body_ += R"({"userId":"u)";
  body_ += options_.run_id;
  body_ += '-';
  append_number(body_, i);
  body_ += R"(","items":[{"productId":")";
  body_ += product;
  body_ += R"(","quantity":1}]})";

  out += "POST /api/orders HTTP/1.1\r\nHost: ";
  out += target.host_header;
  out += "\r\nContent-Type: application/json\r\nIdempotency-Key: k";
  out += options_.run_id;
  out += '-';
  append_number(out, i);
  out += "\r\nContent-Length: ";
  append_number(out, body_.size());
  out += "\r\n\r\n";
  out += body_;
}

Next PurchasePlan::next(const ConnectionSlot& slot, std::string& out, std::uint64_t& tag) {
  // Retries first: a concurrent one must leave while its original is still in flight.
  if (ready_head_ < ready_.size()) {
    const std::uint32_t local = ready_[ready_head_++];
    format_purchase(local, *slot.target, out);
    tag = (static_cast<std::uint64_t>(local) << 1) | 1;
    ++figures_.retries_fired;
    return Next::kSend;
  }
  if (next_ < states_.size()) {
    const std::uint64_t local = next_++;
    format_purchase(local, *slot.target, out);
    tag = local << 1;
    if (retry_[local] == Retry::kConcurrent) ready_.push_back(static_cast<std::uint32_t>(local));
    else if (retry_[local] == Retry::kAfterAnswer) ++awaiting_answers_;
    return Next::kSend;
  }
  return awaiting_answers_ > 0 ? Next::kWait : Next::kDone;
}

Outcome PurchasePlan::classify(const Answer& answer) {
  if (answer.status == 0) return Outcome::kNoAnswer;
  if (answer.status == 202) return Outcome::kAccepted;
  if (answer.status >= 500) return Outcome::kServerError;
  if (answer.status == 409) {
    const auto code = error_code_of(answer.body);
    if (code == "OUT_OF_STOCK") return Outcome::kSoldOut;
    if (code == "REQUEST_IN_PROGRESS") return Outcome::kInProgress;
  }
  return Outcome::kRefused;
}

void PurchasePlan::on_answer(std::uint64_t tag, const Answer& answer) {
  const std::uint64_t local = tag >> 1;
  const bool is_retry = (tag & 1) != 0;
  KeyState& key = states_[local];
  const Outcome outcome = classify(answer);
  (is_retry ? key.retry : key.first) = outcome;
  if (answer.replayed) ++figures_.replayed;
  if (outcome == Outcome::kInProgress) ++figures_.in_progress;
  if (outcome == Outcome::kAccepted || outcome == Outcome::kSoldOut) ++decisions_;

  if (outcome == Outcome::kAccepted) {
    const auto id = order_id_of(answer.body);
    if (id.empty()) {
      ++accepted_without_id_;
    } else if (!key.has_order) {
      std::memcpy(key.order_id.data(), id.data(), kIdLength);
      key.has_order = true;
      accepted_at_.emplace_back(static_cast<std::uint32_t>(local), std::chrono::steady_clock::now());
      ++accepted_per_product_[global_index(local) % accepted_per_product_.size()];
      live_accepted_.add();
    } else if (std::memcmp(key.order_id.data(), id.data(), kIdLength) != 0) {
      ++figures_.conflicts;
      if (figures_.conflict_example.empty()) {
        figures_.conflict_example = "key k" + options_.run_id + "-" + std::to_string(global_index(local)) +
                                    " answered orders " + std::string(key.order_id.data(), kIdLength) + " and " +
                                    std::string(id);
      }
    }
  }
  if (!is_retry && retry_[local] == Retry::kAfterAnswer) {
    ready_.push_back(static_cast<std::uint32_t>(local));
    --awaiting_answers_;
  }
}

void PurchasePlan::append_order_ids(std::vector<std::string>& out) const {
  for (const auto& key : states_) {
    if (key.has_order) out.emplace_back(key.order_id.data(), kIdLength);
  }
}

void PurchasePlan::append_accepted(std::vector<AcceptedOrder>& out) const {
  for (const auto& [local, at] : accepted_at_)
    out.push_back({std::string(states_[local].order_id.data(), kIdLength), at});
}

RetryFigures PurchasePlan::retry_figures() const {
  RetryFigures f = figures_;
  for (std::uint64_t local = 0; local < states_.size(); ++local) {
    if (retry_[local] == Retry::kNone) continue;
    const KeyState& key = states_[local];
    const bool accepted = key.first == Outcome::kAccepted || key.retry == Outcome::kAccepted;
    const bool sold_out = key.first == Outcome::kSoldOut || key.retry == Outcome::kSoldOut;
    if (key.first == Outcome::kAccepted && key.retry == Outcome::kAccepted) ++f.same_order;
    // The same key, once accepted and once refused for stock: decided twice.
    if (accepted && sold_out) {
      ++f.conflicts;
      if (f.conflict_example.empty()) {
        f.conflict_example = "key k" + options_.run_id + "-" + std::to_string(global_index(local)) + " answered " +
                             std::string(to_string(key.first)) + " and " + std::string(to_string(key.retry));
      }
    }
  }
  // Two 202s naming different orders were counted as they came; same_order excludes them.
  f.same_order -= std::min(f.same_order, figures_.conflicts);
  return f;
}

}  // namespace orders::bench
