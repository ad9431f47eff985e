#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/call_batch.hpp"

namespace orders::ordering {

// Outbox confirms gathered into one Redis call (a CallBatch). The broker confirms publishes
// in groups, so many purchases of one I/O thread reach their confirm at once; each adds its
// order id and waits, and the ids that gathered while the previous call was out leave together
// as the next (at most `max_group` per call). A failed call fails every add() of its group.
class ConfirmBatch {
 public:
  using Flush = std::function<boost::asio::awaitable<void>(const std::vector<std::string>& ids)>;

  explicit ConfirmBatch(Flush flush, std::size_t max_group = 256)
      : flush_(std::move(flush)),
        batch_([this](const std::vector<std::string>& ids) { return call(ids); }, max_group) {}
  ConfirmBatch(const ConfirmBatch&) = delete;
  ConfirmBatch& operator=(const ConfirmBatch&) = delete;

  // Returns once a call that held this id has returned; rethrows its error.
  boost::asio::awaitable<void> add(std::string id) { co_await batch_.add(std::move(id)); }

  std::size_t calls() const { return batch_.calls(); }  // calls made so far

 private:
  struct Done {};
  boost::asio::awaitable<std::vector<Done>> call(const std::vector<std::string>& ids) {
    co_await flush_(ids);
    co_return std::vector<Done>(ids.size());
  }

  Flush flush_;
  CallBatch<std::string, Done> batch_;
};

}  // namespace orders::ordering
