#pragma once

#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ordering/order_log.hpp"

// A fake of the lifecycle's record (ordering/order_log.hpp): answers what the test scripted and
// records what the lifecycle asked, without PostgreSQL.
namespace orders::test {

class FakeOrderLog final : public ordering::OrderLog {
 public:
  std::deque<ordering::CancelRecord> cancel_answers;  // answered in turn; kNotInRecord once empty
  std::deque<bool> store_answers;                     // store_cancelled(); true once empty
  std::deque<ordering::StatusRecord> status_answers;  // change_status(); kNotInRecord once empty
  std::deque<ordering::PaidStore> paid_answers;       // store_paid(); kStored once empty
  std::optional<std::string> order_json = std::string(R"({"id":"x","status":"CANCELLED"})");

  int cancels = 0;
  std::vector<ordering::Order> stored;
  std::vector<ordering::Order> paid;
  std::vector<std::string> marked;
  std::vector<ordering::OrderStatus> changes;

  boost::asio::awaitable<ordering::CancelRecord> cancel(const std::string& order_id) override {
    ++cancels;
    ordering::CancelRecord answer;
    if (!cancel_answers.empty()) {
      answer = cancel_answers.front();
      cancel_answers.pop_front();
    }
    answer.units.order_id = order_id;
    co_return answer;
  }
  boost::asio::awaitable<bool> store_cancelled(const ordering::Order& order) override {
    stored.push_back(order);
    bool answer = true;
    if (!store_answers.empty()) {
      answer = store_answers.front();
      store_answers.pop_front();
    }
    co_return answer;
  }
  boost::asio::awaitable<void> mark_units_returned(const std::string& order_id) override {
    marked.push_back(order_id);
    co_return;
  }
  boost::asio::awaitable<ordering::StatusRecord> change_status(const std::string&, ordering::OrderStatus to) override {
    changes.push_back(to);
    ordering::StatusRecord answer;
    if (!status_answers.empty()) {
      answer = status_answers.front();
      status_answers.pop_front();
    }
    co_return answer;
  }
  boost::asio::awaitable<ordering::PaidStore> store_paid(const ordering::Order& order) override {
    paid.push_back(order);
    ordering::PaidStore answer = ordering::PaidStore::kStored;
    if (!paid_answers.empty()) {
      answer = paid_answers.front();
      paid_answers.pop_front();
    }
    co_return answer;
  }
  boost::asio::awaitable<std::optional<std::string>> find(const std::string&) override { co_return order_json; }
};

}  // namespace orders::test
