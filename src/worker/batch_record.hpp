#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "ordering/order_event.hpp"

// The seam of the worker's batch persister: the record (PostgreSQL in production,
// PostgresBatchRecord) as the operations persist_batch decides with. persist_batch decides which
// orders go together, which fail and why; the record only carries that out. The decisions' unit
// tests use a fake (tests/support/fake_batch_record.hpp).
namespace orders::worker {

// What one transaction for a set of orders came to.
struct TogetherOutcome {
  enum class Kind {
    kCommitted,    // in: the new ones CONFIRMED with their stock taken, the others already there
    kGuardFailed,  // rolled back: PostgreSQL's stock cannot cover the set (or a product is missing)
    kRowRefused,   // rolled back: the record refuses a row as it is (refusal says why)
  };
  Kind kind = Kind::kRowRefused;
  std::set<std::string> fresh;  // kCommitted: the ids that were new
  std::string refusal;          // kRowRefused
};

// How a FAILED order is stored: with its items and idempotency key, or bare (the order row and
// its audit events only), for an order whose full row the record refuses.
enum class FailedRow { kWithItems, kBare };

// What storing one order as FAILED came to.
struct FailedOutcome {
  enum class Kind {
    kStored,   // new, FAILED
    kExists,   // already there (a redelivery, or another worker was first): nothing changed
    kRefused,  // the record refuses even this row (refusal says why); nothing stored
  };
  Kind kind = Kind::kRefused;
  std::string refusal;
};

// Every operation throws DependencyUnavailable when the record is lost or failed in a way another
// attempt can clear: nothing of the batch is decided then (the worker holds it and tries again).
class BatchRecord {
 public:
  virtual ~BatchRecord() = default;
  // The positions in `orders` of those whose (user, idempotency key) already belongs to another
  // order in the record created less than 24 h before or after them. Orders in the record
  // themselves are left out (redeliveries), and so is a key the record cannot even look up.
  virtual std::set<std::size_t> keys_owned_in_record(const std::vector<const ordering::Order*>& orders) = 0;
  // One transaction for the set (no two of them share an idempotency key): the new orders
  // CONFIRMED with their items, stock taken under the guard stock >= quantity, ledger rows and
  // audit events; orders already there are left as they are.
  virtual TogetherOutcome insert_together(const std::vector<const ordering::Order*>& orders) = 0;
  // One transaction: the order FAILED for `reason`, stock untouched, unless it exists already.
  virtual FailedOutcome insert_failed(const ordering::Order& order, const std::string& reason, FailedRow row) = 0;
  // Every product of the order is in the record.
  virtual bool products_exist(const ordering::Order& order) = 0;
  // The order is in the record, FAILED.
  virtual bool is_failed_in_record(const std::string& order_id) = 0;
};

}  // namespace orders::worker
