#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

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

}  // namespace orders::ordering
