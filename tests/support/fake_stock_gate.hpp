#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/dependency_error.hpp"
#include "ordering/stock_gate.hpp"

// Fakes of the purchase's two seams (ordering/stock_gate.hpp) for the domain's unit tests: they
// answer what the test scripted and record what the domain asked, never speaking Redis or AMQP.
namespace orders::test {

class FakeStockGate final : public ordering::StockGate {
 public:
  bool is_connected = true;
  // reserve() answers these in turn; an empty optional means "the reply was lost".
  std::deque<std::optional<ordering::ReserveReply>> reserve_replies;
  // abandon() answers these in turn; "lost" throws DependencyUnavailable (Redis still down).
  struct AbandonAnswer {
    bool lost = false;
    std::optional<std::string> pending;
  };
  std::deque<AbandonAnswer> abandon_answers;
  bool release_undoes = true;
  std::vector<std::pair<std::string, std::string>> due;  // claim_due() hands these out once
  long long depth = 0;

  std::vector<ordering::Reservation> reserved;
  std::vector<std::string> confirmed;
  std::vector<std::string> released;  // order ids
  std::vector<std::string> abandoned;
  std::vector<ordering::OrderUnits> returned;
  std::optional<std::string> pending;  // pending_order() answers this for any id
  bool return_fails = false;           // return_units() throws DependencyUnavailable (Redis down)

  bool connected() const override { return is_connected; }

  // known_refusal() answers this (nothing by default); `known_fails`: it throws DependencyUnavailable.
  std::optional<ordering::ReserveReply> known;
  bool known_fails = false;
  int known_asked = 0;
  boost::asio::awaitable<std::optional<ordering::ReserveReply>> known_refusal(const ordering::OrderRequest&) override {
    ++known_asked;
    if (known_fails) throw DependencyUnavailable("Redis", "connection lost with the reading in flight");
    co_return known;
  }
  boost::asio::awaitable<ordering::ReserveReply> reserve(const ordering::Reservation& r) override {
    reserved.push_back(r);
    if (reserve_replies.empty()) throw std::logic_error("FakeStockGate: no reserve reply scripted");
    auto next = std::move(reserve_replies.front());
    reserve_replies.pop_front();
    if (!next) throw DependencyUnavailable("Redis", "connection lost with the script in flight");
    co_return std::move(*next);
  }
  boost::asio::awaitable<void> confirm(const std::string& order_id) override {
    confirmed.push_back(order_id);
    co_return;
  }
  boost::asio::awaitable<bool> release(const ordering::Reservation& r, const std::string&) override {
    released.push_back(r.order_id);
    co_return release_undoes;
  }
  boost::asio::awaitable<std::optional<std::string>> abandon(const std::string& order_id) override {
    abandoned.push_back(order_id);
    AbandonAnswer answer{.lost = true};
    if (!abandon_answers.empty()) {
      answer = std::move(abandon_answers.front());
      abandon_answers.pop_front();
    }
    if (answer.lost) throw DependencyUnavailable("Redis", "still down");
    co_return answer.pending;
  }
  boost::asio::awaitable<std::optional<std::string>> pending_order(const std::string&) override { co_return pending; }
  boost::asio::awaitable<void> return_units(const ordering::OrderUnits& units) override {
    if (return_fails) throw DependencyUnavailable("Redis", "down");
    returned.push_back(units);
    co_return;
  }
  boost::asio::awaitable<std::vector<std::pair<std::string, std::string>>> claim_due(long long, int) override {
    co_return std::exchange(due, {});
  }
  boost::asio::awaitable<long long> outbox_depth() override { co_return depth; }
};

class FakeEventBus final : public ordering::EventBus {
 public:
  bool is_connected = true;
  rabbitmq::PublishOutcome outcome = rabbitmq::PublishOutcome::kConfirmed;
  std::vector<rabbitmq::Message> published;

  bool connected() const override { return is_connected; }
  boost::asio::awaitable<rabbitmq::PublishOutcome> publish(rabbitmq::Message message) override {
    published.push_back(std::move(message));
    co_return outcome;
  }
};

}  // namespace orders::test
