#pragma once

#include "ordering/order_log.hpp"
#include "ordering/order_reader.hpp"
#include "storage/postgres/pool.hpp"

namespace orders::ordering {

// The lifecycle's record in PostgreSQL: every change one transaction (AsyncTransaction) that
// locks the order row first and, for a CONFIRMED order's cancel, its products in id order (as
// the worker's batches do), so racing cancels and workers wait instead of deadlocking.
class PostgresOrderLog final : public OrderLog {
 public:
  PostgresOrderLog(postgres::Pool& pool, OrderReader& reader) : pool_(pool), reader_(reader) {}

  boost::asio::awaitable<CancelRecord> cancel(const std::string& order_id) override;
  boost::asio::awaitable<bool> store_cancelled(const Order& order) override;
  boost::asio::awaitable<void> mark_units_returned(const std::string& order_id) override;
  boost::asio::awaitable<StatusRecord> change_status(const std::string& order_id, OrderStatus to) override;
  boost::asio::awaitable<PaidStore> store_paid(const Order& order) override;
  boost::asio::awaitable<std::optional<std::string>> find(const std::string& order_id) override {
    return reader_.find(order_id);
  }

 private:
  postgres::Pool& pool_;
  OrderReader& reader_;
};

}  // namespace orders::ordering
