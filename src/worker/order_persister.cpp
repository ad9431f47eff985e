#include "worker/order_persister.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "worker/postgres_batch_record.hpp"

namespace orders::worker {

namespace {

constexpr const char* kInsufficientStock = "insufficient stock in the record";
constexpr const char* kDuplicateIdempotencyKey = "DUPLICATE_IDEMPOTENCY_KEY";
constexpr const char* kRefusedByRecord = "REFUSED_BY_RECORD";

// The order as FAILED in the record, with its units to go back to Redis. With its items when the
// record takes them, else bare (an order row and its audit events: still one order in PostgreSQL
// for each 202, G3). Only when even the bare row is refused is it dead-lettered, and its units
// still go back.
OrderOutcome store_failed(BatchRecord& record, const ordering::Order& order, const std::string& reason) {
  std::string why;
  for (FailedRow row : {FailedRow::kWithItems, FailedRow::kBare}) {
    FailedOutcome stored = record.insert_failed(order, reason, row);
    switch (stored.kind) {
      case FailedOutcome::Kind::kStored: return {PersistResult::kFailed, reason, true};
      case FailedOutcome::Kind::kExists:
        // There already (a redelivery, or another worker was first): as it is in the record.
        return {PersistResult::kDuplicate, "", record.is_failed_in_record(order.id)};
      case FailedOutcome::Kind::kRefused: why = stored.refusal; break;
    }
  }
  OrderOutcome rejected{PersistResult::kRejected, "the record refuses even a FAILED row: " + why, false};
  rejected.return_units = true;
  return rejected;
}

// Persists the orders at `idx` (no two of them share an idempotency key): one transaction for
// all, or, when the guard or a row refuses, one per order so only the culprits fail.
void persist_set(BatchRecord& record, const std::vector<const ordering::Order*>& orders,
                 const std::vector<std::size_t>& idx, std::vector<OrderOutcome>& out) {
  if (idx.empty()) return;
  std::vector<const ordering::Order*> set;
  for (std::size_t i : idx) set.push_back(orders[i]);
  const TogetherOutcome together = record.insert_together(set);
  if (together.kind == TogetherOutcome::Kind::kCommitted) {
    for (std::size_t i : idx) {
      out[i].result = together.fresh.count(orders[i]->id) ? PersistResult::kPersisted : PersistResult::kDuplicate;
      if (out[i].result == PersistResult::kDuplicate) {
        out[i].failed_in_record = record.is_failed_in_record(orders[i]->id);
      }
    }
    return;
  }
  // An order the record refuses (a check constraint, a value out of range) cannot go in as it
  // is, and retrying cannot change that: it becomes FAILED and its units go back. Only an order
  // with a product PostgreSQL does not have is dead-lettered (its items cannot be stored), and
  // its units go back too.
  for (std::size_t i : idx) {
    const TogetherOutcome alone = record.insert_together({orders[i]});
    bool refused = false;
    switch (alone.kind) {
      case TogetherOutcome::Kind::kCommitted:
        out[i].result = alone.fresh.empty() ? PersistResult::kDuplicate : PersistResult::kPersisted;
        if (alone.fresh.empty()) out[i].failed_in_record = record.is_failed_in_record(orders[i]->id);
        break;
      case TogetherOutcome::Kind::kGuardFailed:
        if (!record.products_exist(*orders[i])) {
          refused = true;
          break;
        }
        // PostgreSQL's stock cannot cover it: possible only after Redis lost writes.
        out[i] = store_failed(record, *orders[i], kInsufficientStock);
        break;
      case TogetherOutcome::Kind::kRowRefused: refused = true; break;
    }
    if (!refused) continue;
    if (!record.products_exist(*orders[i])) {
      out[i] = {PersistResult::kRejected, "unknown product", false};
      out[i].return_units = true;
    } else {
      spdlog::error("worker: the record refuses order {} ({}): storing it as FAILED", orders[i]->id, alone.refusal);
      out[i] = store_failed(record, *orders[i], kRefusedByRecord);
    }
  }
}

}  // namespace

std::vector<OrderOutcome> persist_batch(BatchRecord& record, const std::vector<const ordering::Order*>& orders) {
  std::vector<OrderOutcome> out(orders.size());
  // G2 in the record: an order whose idempotency key belongs to another order (Redis lost the
  // key's record and a retry made a second order) becomes FAILED with its units given back. Two
  // orders of one key in this batch: the first goes in now, the others in the next round, where
  // they meet it in the record. Never a unique violation, so never a batch retried for ever.
  std::vector<std::size_t> todo(orders.size());
  for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  while (!todo.empty()) {
    std::vector<const ordering::Order*> asked;
    for (std::size_t i : todo) asked.push_back(orders[i]);
    std::set<std::size_t> owned;  // positions in `orders`
    for (std::size_t at : record.keys_owned_in_record(asked)) owned.insert(todo.at(at));
    std::vector<std::size_t> now, later;
    std::map<std::pair<std::string_view, std::string_view>, std::string_view> key_order;
    for (std::size_t i : todo) {
      const ordering::Order& o = *orders[i];
      if (owned.count(i)) {
        out[i] = store_failed(record, o, kDuplicateIdempotencyKey);
        continue;
      }
      if (o.idempotency_key) {
        auto [it, first] = key_order.try_emplace({o.user_id, *o.idempotency_key}, o.id);
        if (!first && it->second != o.id) {
          later.push_back(i);
          continue;
        }
      }
      now.push_back(i);
    }
    persist_set(record, orders, now, out);
    todo = std::move(later);
  }
  return out;
}

std::vector<OrderOutcome> persist_batch(postgres::BlockingConnection& conn,
                                        const std::vector<const ordering::Order*>& orders) {
  PostgresBatchRecord record(conn);
  return persist_batch(record, orders);
}

}  // namespace orders::worker
