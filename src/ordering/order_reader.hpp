#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "ordering/order_event.hpp"
#include "storage/postgres/pool.hpp"

namespace orders::ordering {

// Orders as PostgreSQL holds them once a worker has persisted them.
class OrderReader {
 public:
  explicit OrderReader(postgres::Pool& pool) : pool_(pool) {}
  // The order with its items as the API's JSON, or nothing.
  boost::asio::awaitable<std::optional<std::string>> find(const std::string& order_id);
  // A page of orders, newest first, as a JSON array, and the total that match.
  boost::asio::awaitable<std::pair<std::string, std::int64_t>> list(std::int64_t page, std::int64_t limit,
                                                                    const std::optional<std::string>& status,
                                                                    const std::optional<std::string>& user_id);
  // The audit trail, oldest first, as a JSON array; nothing when the order is not in the record.
  boost::asio::awaitable<std::optional<std::string>> logs(const std::string& order_id);

 private:
  postgres::Pool& pool_;
};

// The audit trail of an order still pending in Redis: its CREATED entry, as the record will
// hold it once a worker persists the order (the entry has no record id yet: null).
std::string pending_order_logs(const Order& order);

}  // namespace orders::ordering
