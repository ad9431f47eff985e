#pragma once

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "worker/order_event.hpp"

namespace orders::worker {

enum class PersistResult {
  kPersisted,  // new, CONFIRMED, stock taken in PostgreSQL
  kDuplicate,  // already there (a republished or redelivered event): nothing changed
  kFailed,     // new, FAILED: PostgreSQL's stock could not cover it (Redis had lost writes)
  kRejected,   // the record refuses it (e.g. an unknown product): dead-letter it
};

struct OrderOutcome {
  PersistResult result;
  std::string reason;             // for kFailed and kRejected
  bool failed_in_record = false;  // the order is FAILED in PostgreSQL (new or from before)
};

// Persists order.created events into PostgreSQL exactly once, with their items, ledger rows
// (reason ORDER) and audit events (CREATED, CONFIRMED). A batch goes in one transaction with
// products.stock decremented by the summed deltas under the guard stock >= qty; when the guard
// or a row refuses, the batch is redone one order per transaction so only the culprits fail.
// Blocking libpq on the worker's own thread. Throws DependencyUnavailable when the connection
// is lost (nothing is acknowledged then; the broker redelivers).
std::vector<OrderOutcome> persist_batch(PGconn* conn, const std::vector<const PersistOrder*>& orders);

// "{a,b}" with every element quoted and escaped; a missing element is NULL.
std::string pg_array(const std::vector<std::optional<std::string>>& values);

}  // namespace orders::worker
