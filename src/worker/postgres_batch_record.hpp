#pragma once

#include "worker/batch_record.hpp"

namespace orders::postgres {
class BlockingConnection;
}

namespace orders::worker {

// The batch record in PostgreSQL, on the worker's blocking connection: each operation's
// statements, in one Transaction where it writes. A transient failure (connection, deadlock,
// serialization, lock, cancel, resources, or a clash on (user_id, idempotency_key) with another
// worker's concurrent insert) throws DependencyUnavailable; a refused statement is an outcome.
class PostgresBatchRecord final : public BatchRecord {
 public:
  explicit PostgresBatchRecord(postgres::BlockingConnection& conn) : conn_(conn) {}

  std::set<std::size_t> keys_owned_in_record(const std::vector<const ordering::Order*>& orders) override;
  TogetherOutcome insert_together(const std::vector<const ordering::Order*>& orders) override;
  FailedOutcome insert_failed(const ordering::Order& order, const std::string& reason, FailedRow row) override;
  bool products_exist(const ordering::Order& order) override;
  bool is_failed_in_record(const std::string& order_id) override;

 private:
  postgres::BlockingConnection& conn_;
};

// Of `order_ids` (in the record already), those a worker confirmed (an audit row CONFIRMED): a
// redelivered order.created for them publishes order.confirmed again (the first may have been
// lost with the worker that committed it). Orders a payment or cancel stored straight from
// Redis were never CONFIRMED and get none.
std::set<std::string> confirmed_by_a_worker(postgres::BlockingConnection& conn,
                                            const std::vector<std::string>& order_ids);

}  // namespace orders::worker
