#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ordering/order_event.hpp"
#include "worker/batch_record.hpp"

namespace orders::postgres {
class BlockingConnection;
}

namespace orders::worker {

enum class PersistResult {
  kPersisted,  // new, CONFIRMED, stock taken in PostgreSQL
  kDuplicate,  // already there (a republished or redelivered event): nothing changed
  kFailed,     // new, FAILED, no stock moved: PostgreSQL's stock could not cover it (Redis had
               // lost writes), its idempotency key belongs to another order (Redis lost the
               // key's record; DUPLICATE_IDEMPOTENCY_KEY), or the record refuses its row as it is
               // (REFUSED_BY_RECORD: a check constraint, a value out of range)
  kRejected,   // nothing can be stored (a product PostgreSQL does not have): dead-letter it
};

struct OrderOutcome {
  PersistResult result;
  std::string reason;             // for kFailed and kRejected
  bool failed_in_record = false;  // the order is FAILED in PostgreSQL (new or from before)
  bool return_units = false;      // kRejected: its Redis reservation goes back all the same
  // Its reserved units go back to the Redis counters (return_units.lua: once per order).
  bool gives_units_back() const { return failed_in_record || return_units; }
};

// Persists order.created events into PostgreSQL exactly once, with their items, ledger rows
// (reason ORDER) and audit events (CREATED, CONFIRMED). A batch goes in one transaction with
// products.stock decremented by the summed deltas under the guard stock >= qty; when the guard
// or a row refuses, the batch is redone one order per transaction so only the culprits fail.
// An order whose idempotency key already has an order (in the record, within 24 h, or earlier
// in the batch) is stored FAILED (DUPLICATE_IDEMPOTENCY_KEY); an order the record refuses is
// stored FAILED (REFUSED_BY_RECORD), without its items if need be. Neither is ever retried.
// Decides through the record (worker/batch_record.hpp); throws DependencyUnavailable when the
// record does (nothing is acknowledged then; the worker holds the batch and tries it again).
std::vector<OrderOutcome> persist_batch(BatchRecord& record, const std::vector<const ordering::Order*>& orders);

// The same on PostgreSQL (PostgresBatchRecord): blocking, on the worker's own thread; throws
// DependencyUnavailable when the connection is lost or a statement failed in a way another
// attempt can clear.
std::vector<OrderOutcome> persist_batch(postgres::BlockingConnection& conn,
                                        const std::vector<const ordering::Order*>& orders);

}  // namespace orders::worker
