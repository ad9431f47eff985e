#pragma once

#include <boost/asio/awaitable.hpp>
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

 private:
  postgres::Pool& pool_;
};

}  // namespace orders::ordering
