#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/dependency_error.hpp"
#include "ordering/order_event.hpp"
#include "worker/batch_record.hpp"

// A fake of the batch persister's seam (worker/batch_record.hpp) for the decisions' unit tests: a
// small record in memory (orders, products' stock) that answers as PostgreSQL would, refuses what
// the test scripts, and logs every operation the persister asked for, never speaking SQL.
namespace orders::test {

class FakeBatchRecord final : public worker::BatchRecord {
 public:
  struct Row {
    std::string user_id;
    std::optional<std::string> idempotency_key;  // none when stored bare, or the key was another's
    bool failed = false;
    std::string reason;
    bool with_items = true;
  };
  std::map<std::string, Row> rows;         // the record's orders, by id
  std::map<std::string, int> stock;        // by product id; a product not here does not exist
  std::set<std::string> refuse_confirmed;  // order ids whose CONFIRMED rows the record refuses
  std::set<std::string> refuse_items;      // ... whose FAILED row with items it refuses too
  std::set<std::string> refuse_bare;       // ... whose bare FAILED row it refuses as well
  // The operation ("keys_owned_in_record", "insert_together", "insert_failed", "products_exist",
  // "is_failed_in_record") that throws DependencyUnavailable, as a lost connection does.
  std::string unavailable_on;
  // Runs before each operation, with its name and order id (another worker writing meanwhile).
  std::function<void(const std::string& op, const std::string& order_id)> before;

  // What the persister asked, in order: "insert_together a b", "insert_failed a REASON bare", ...
  std::vector<std::string> calls;

  std::set<std::size_t> keys_owned_in_record(const std::vector<const ordering::Order*>& orders) override {
    enter("keys_owned_in_record", orders);
    std::set<std::size_t> owned;
    for (std::size_t i = 0; i < orders.size(); ++i) {
      if (!rows.count(orders[i]->id) && key_owner(*orders[i])) owned.insert(i);
    }
    return owned;
  }

  worker::TogetherOutcome insert_together(const std::vector<const ordering::Order*>& orders) override {
    enter("insert_together", orders);
    using Kind = worker::TogetherOutcome::Kind;
    std::vector<const ordering::Order*> fresh;
    std::set<std::string> fresh_ids;
    for (const ordering::Order* o : orders) {
      if (rows.count(o->id)) continue;
      if (!fresh_ids.insert(o->id).second || refuse_confirmed.count(o->id)) {
        // One order twice in the set meets order_items' primary key; a scripted refusal, a check.
        return {.kind = Kind::kRowRefused, .fresh = {}, .refusal = "the record refuses order " + o->id};
      }
      fresh.push_back(o);
    }
    std::map<std::string, int> wanted;
    for (const ordering::Order* o : fresh) {
      for (const auto& line : o->items) wanted[line.product_id] += line.quantity;
    }
    for (const auto& [product, quantity] : wanted) {
      auto it = stock.find(product);
      if (it == stock.end() || it->second < quantity) return {.kind = Kind::kGuardFailed, .fresh = {}, .refusal = {}};
    }
    for (const auto& [product, quantity] : wanted) stock[product] -= quantity;
    for (const ordering::Order* o : fresh) store(*o, false, "", true);
    return {.kind = Kind::kCommitted, .fresh = fresh_ids, .refusal = {}};
  }

  worker::FailedOutcome insert_failed(const ordering::Order& order, const std::string& reason,
                                      worker::FailedRow row) override {
    const bool bare = row == worker::FailedRow::kBare;
    enter("insert_failed", {&order}, " " + reason + (bare ? " bare" : " with_items"));
    using Kind = worker::FailedOutcome::Kind;
    if (rows.count(order.id)) return {Kind::kExists, ""};
    // With its items, an order of a product the record does not have is refused too.
    const bool refused = bare ? refuse_bare.count(order.id) > 0
                              : refuse_items.count(order.id) > 0 || !products_known(order);
    if (refused) {
      return {Kind::kRefused, "the record refuses FAILED order " + order.id};
    }
    store(order, true, reason, !bare);
    return {Kind::kStored, ""};
  }

  bool products_exist(const ordering::Order& order) override {
    enter("products_exist", {&order});
    return products_known(order);
  }

  bool is_failed_in_record(const std::string& order_id) override {
    if (before) before("is_failed_in_record", order_id);
    calls.push_back("is_failed_in_record " + order_id);
    if (unavailable_on == "is_failed_in_record") throw DependencyUnavailable("PostgreSQL", "connection lost");
    auto it = rows.find(order_id);
    return it != rows.end() && it->second.failed;
  }

  // How many times the persister asked for `op`.
  std::size_t count(const std::string& op) const {
    std::size_t n = 0;
    for (const auto& c : calls) n += c.rfind(op + " ", 0) == 0 || c == op;
    return n;
  }

 private:
  void enter(const std::string& op, const std::vector<const ordering::Order*>& orders, const std::string& tail = "") {
    std::string call = op;
    for (const ordering::Order* o : orders) {
      if (before) before(op, o->id);
      call += " " + o->id;
    }
    calls.push_back(call + tail);
    if (unavailable_on == op) throw DependencyUnavailable("PostgreSQL", "connection lost");
  }

  // Another order in the record with this order's (user, idempotency key).
  bool key_owner(const ordering::Order& o) const {
    if (!o.idempotency_key) return false;
    for (const auto& [id, row] : rows) {
      if (id != o.id && row.user_id == o.user_id && row.idempotency_key == o.idempotency_key) return true;
    }
    return false;
  }

  bool products_known(const ordering::Order& o) const {
    for (const auto& line : o.items) {
      if (!stock.count(line.product_id)) return false;
    }
    return true;
  }

  void store(const ordering::Order& o, bool failed, const std::string& reason, bool with_items) {
    // As kInsertOrders: a key another order holds is not stored with this one.
    std::optional<std::string> key = with_items && !key_owner(o) ? o.idempotency_key : std::nullopt;
    rows[o.id] = Row{
        .user_id = o.user_id, .idempotency_key = key, .failed = failed, .reason = reason, .with_items = with_items};
  }
};

}  // namespace orders::test
