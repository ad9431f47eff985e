#include "worker/order_persister.hpp"

#include <map>
#include <set>
#include <stdexcept>

#include "common/dependency_error.hpp"
#include "storage/postgres/result.hpp"

namespace orders::worker {
using postgres::Result;

namespace {

// Errors that another attempt can clear: deadlock and serialization (class 40), lock not
// available (55), cancel or shutdown (57), resources (53), connection (08), and a clash on
// (user_id, idempotency_key) with a concurrent insert (the retry then sees the other row).
bool is_transient(const Result& r) {
  std::string_view state = r.sqlstate();
  if (state.size() != 5) return true;  // no SQLSTATE: the connection failed
  std::string_view cls = state.substr(0, 2);
  if (cls == "40" || cls == "55" || cls == "57" || cls == "53" || cls == "08") return true;
  return state == postgres::kUniqueViolation && r.constraint() == "orders_user_idempotency_key";
}

// Runs one statement. A transient failure throws DependencyUnavailable: the worker holds the
// batch and tries it again. Other failures come back as a Result that is not ok().
Result exec(PGconn* c, const char* sql, const std::vector<std::string>& params = {}) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  Result r(PQexecParams(c, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
  if (!r.ok() && (PQstatus(c) != CONNECTION_OK || is_transient(r))) {
    throw DependencyUnavailable("PostgreSQL", "retryable failure: " + r.error_message());
  }
  return r;
}

void must(const Result& r, const char* what) {
  if (!r.ok()) throw std::runtime_error(std::string(what) + ": " + r.error_message());
}

// The columns of a set of orders, as arrays for unnest().
struct Columns {
  std::vector<std::optional<std::string>> id, reference, user, total, key, created;
  std::vector<std::optional<std::string>> item_order, item_product, item_qty, item_unit, item_total;
  explicit Columns(const std::vector<const PersistOrder*>& orders) {
    for (const PersistOrder* o : orders) {
      id.emplace_back(o->id);
      reference.emplace_back(o->reference_no);
      user.emplace_back(o->user_id);
      total.emplace_back(o->total_price.to_decimal());
      key.push_back(o->idempotency_key);
      created.emplace_back(o->created_at);
      for (const auto& i : o->items) {
        item_order.emplace_back(o->id);
        item_product.emplace_back(i.product_id);
        item_qty.emplace_back(std::to_string(i.quantity));
        item_unit.emplace_back(i.unit_price.to_decimal());
        item_total.emplace_back(i.total_price.to_decimal());
      }
    }
  }
};

constexpr const char* kInsertOrders =
    "INSERT INTO orders (id, reference_no, user_id, status, total_price, idempotency_key, created_at, failure_reason)"
    " SELECT t.id, t.reference_no, t.user_id, $7, t.total_price,"
    // Redis keeps a key 24 h; the record keeps it for ever. A key reused after a day is a new
    // request (SPEC): the newer order is stored without it rather than refused.
    "   CASE WHEN EXISTS (SELECT 1 FROM orders x WHERE x.user_id = t.user_id"
    "     AND x.idempotency_key = t.idempotency_key AND x.id <> t.id) THEN NULL ELSE t.idempotency_key END,"
    "   t.created_at, NULLIF($8, '')"
    " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[], $5::text[], $6::timestamptz[])"
    "   AS t(id, reference_no, user_id, total_price, idempotency_key, created_at)"
    // Only the order id makes a duplicate; any other clash must fail loudly, not drop an order.
    " ON CONFLICT (id) DO NOTHING RETURNING id";

constexpr const char* kInsertItems =
    "INSERT INTO order_items (order_id, product_id, quantity, unit_price, total_price)"
    " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::numeric[], $5::numeric[])"
    "   AS t(order_id, product_id, quantity, unit_price, total_price)"
    " WHERE t.order_id = ANY($6::uuid[])";

// Row locks in one order (by id) for every transaction, so two workers never deadlock.
constexpr const char* kLockProducts =
    "SELECT id FROM products WHERE id IN (SELECT t.product_id FROM unnest($1::uuid[], $2::uuid[]) AS t(order_id, "
    "product_id)"
    "   WHERE t.order_id = ANY($3::uuid[])) ORDER BY id FOR UPDATE";

constexpr const char* kTakeStock =
    "WITH d AS (SELECT product_id, sum(quantity) AS quantity"
    "   FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS t(order_id, product_id, quantity)"
    "   WHERE t.order_id = ANY($4::uuid[]) GROUP BY product_id)"
    " UPDATE products p SET stock = p.stock - d.quantity, updated_at = now() FROM d"
    " WHERE p.id = d.product_id AND p.stock >= d.quantity RETURNING p.id";

constexpr const char* kLedger =
    "INSERT INTO inventory_movements (product_id, order_id, delta, reason)"
    " SELECT t.product_id, t.order_id, -t.quantity, 'ORDER'"
    " FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS t(order_id, product_id, quantity)"
    " WHERE t.order_id = ANY($4::uuid[])";

constexpr const char* kConfirmedEvents =
    "INSERT INTO order_events (order_id, event_type, from_status, to_status)"
    " SELECT id, e.type, e.from_status, e.to_status FROM unnest($1::uuid[]) AS id"
    " CROSS JOIN (VALUES (1, 'CREATED', NULL, 'PENDING'), (2, 'CONFIRMED', 'PENDING', 'CONFIRMED'))"
    "   AS e(n, type, from_status, to_status) ORDER BY id, e.n";

constexpr const char* kFailedEvents =
    "INSERT INTO order_events (order_id, event_type, from_status, to_status, details)"
    " SELECT id, e.type, e.from_status, e.to_status, CASE WHEN e.n = 2 THEN jsonb_build_object('reason', $2::text) END"
    " FROM unnest($1::uuid[]) AS id"
    " CROSS JOIN (VALUES (1, 'CREATED', NULL, 'PENDING'), (2, 'FAILED', 'PENDING', 'FAILED'))"
    "   AS e(n, type, from_status, to_status) ORDER BY id, e.n";

// Inserts the orders (status given), returns the ids that were new.
std::set<std::string> insert_orders(PGconn* c, const Columns& col, const char* status, const std::string& reason) {
  Result r = exec(c, kInsertOrders,
                  {pg_array(col.id), pg_array(col.reference), pg_array(col.user), pg_array(col.total),
                   pg_array(col.key), pg_array(col.created), status, reason});
  must(r, "insert orders");
  std::set<std::string> fresh;
  for (int i = 0; i < r.rows(); ++i) fresh.emplace(r.get(i, 0));
  return fresh;
}

std::string array_of(const std::set<std::string>& ids) {
  std::vector<std::optional<std::string>> v(ids.begin(), ids.end());
  return pg_array(v);
}

enum class Attempt { kCommitted, kGuardFailed, kRowRefused };

// One transaction for the whole set. On kGuardFailed / kRowRefused it has rolled back.
Attempt persist_together(PGconn* c, const std::vector<const PersistOrder*>& orders, std::set<std::string>& fresh,
                         std::string& refusal) {
  Columns col(orders);
  must(exec(c, "BEGIN"), "begin");
  fresh = insert_orders(c, col, "CONFIRMED", "");
  if (fresh.empty()) {
    must(exec(c, "COMMIT"), "commit");
    return Attempt::kCommitted;
  }
  const std::string fresh_ids = array_of(fresh);
  std::set<std::string> products;
  for (const PersistOrder* o : orders) {
    if (!fresh.count(o->id)) continue;
    for (const auto& i : o->items) products.insert(i.product_id);
  }
  must(exec(c, kLockProducts, {pg_array(col.item_order), pg_array(col.item_product), fresh_ids}), "lock products");
  Result taken = exec(c, kTakeStock,
                      {pg_array(col.item_order), pg_array(col.item_product), pg_array(col.item_qty), fresh_ids});
  if (!taken.ok() || taken.rows() != static_cast<int>(products.size())) {
    refusal = taken.ok() ? "" : taken.error_message();
    exec(c, "ROLLBACK");
    return taken.ok() ? Attempt::kGuardFailed : Attempt::kRowRefused;
  }
  for (auto [sql, params] :
       {std::pair{kInsertItems,
                  std::vector<std::string>{pg_array(col.item_order), pg_array(col.item_product), pg_array(col.item_qty),
                                           pg_array(col.item_unit), pg_array(col.item_total), fresh_ids}},
        std::pair{kLedger, std::vector<std::string>{pg_array(col.item_order), pg_array(col.item_product),
                                                    pg_array(col.item_qty), fresh_ids}},
        std::pair{kConfirmedEvents, std::vector<std::string>{fresh_ids}}}) {
    Result r = exec(c, sql, params);
    if (!r.ok()) {
      refusal = r.error_message();
      exec(c, "ROLLBACK");
      return Attempt::kRowRefused;
    }
  }
  must(exec(c, "COMMIT"), "commit");
  return Attempt::kCommitted;
}

// Stores one order as FAILED (stock untouched), unless it exists already.
bool persist_failed(PGconn* c, const PersistOrder& order, const std::string& reason) {
  std::vector<const PersistOrder*> one{&order};
  Columns col(one);
  must(exec(c, "BEGIN"), "begin");
  auto fresh = insert_orders(c, col, "FAILED", reason);
  if (!fresh.empty()) {
    const std::string ids = array_of(fresh);
    must(exec(c, kInsertItems,
              {pg_array(col.item_order), pg_array(col.item_product), pg_array(col.item_qty), pg_array(col.item_unit),
               pg_array(col.item_total), ids}),
         "insert failed items");
    must(exec(c, kFailedEvents, {ids, reason}), "failed events");
  }
  must(exec(c, "COMMIT"), "commit");
  return !fresh.empty();
}

bool all_products_exist(PGconn* c, const PersistOrder& order) {
  std::vector<std::optional<std::string>> ids;
  for (const auto& i : order.items) ids.emplace_back(i.product_id);
  Result r = exec(c, "SELECT count(*) FROM products WHERE id = ANY($1::uuid[])", {pg_array(ids)});
  return r.ok() && r.get_int(0, 0) == static_cast<long long>(order.items.size());
}

bool is_failed_in_record(PGconn* c, const std::string& id) {
  Result r = exec(c, "SELECT status = 'FAILED' FROM orders WHERE id = $1", {id});
  return r.ok() && r.rows() == 1 && r.get_bool(0, 0);
}

}  // namespace

std::string pg_array(const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char ch : *values[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::vector<OrderOutcome> persist_batch(PGconn* c, const std::vector<const PersistOrder*>& orders) {
  std::vector<OrderOutcome> out(orders.size());
  std::set<std::string> fresh;
  std::string refusal;
  Attempt together = Attempt::kRowRefused;
  try {
    together = persist_together(c, orders, fresh, refusal);
  } catch (const DependencyUnavailable&) {
    throw;
  } catch (const std::exception&) {
    exec(c, "ROLLBACK");  // a refused row: the per-order pass below finds it
  }
  if (together == Attempt::kCommitted) {
    for (std::size_t i = 0; i < orders.size(); ++i) {
      out[i].result = fresh.count(orders[i]->id) ? PersistResult::kPersisted : PersistResult::kDuplicate;
      if (out[i].result == PersistResult::kDuplicate) out[i].failed_in_record = is_failed_in_record(c, orders[i]->id);
    }
    return out;
  }
  // Someone in the batch cannot go in as it is: one order per transaction finds who. An order
  // the record refuses outright (an unknown product, a broken row) is rejected, never retried:
  // retrying cannot fix it and it must not hold up the queue.
  for (std::size_t i = 0; i < orders.size(); ++i) {
    std::vector<const PersistOrder*> one{orders[i]};
    std::set<std::string> one_fresh;
    std::string why;
    try {
      switch (persist_together(c, one, one_fresh, why)) {
        case Attempt::kCommitted:
          out[i].result = one_fresh.empty() ? PersistResult::kDuplicate : PersistResult::kPersisted;
          if (one_fresh.empty()) out[i].failed_in_record = is_failed_in_record(c, orders[i]->id);
          break;
        case Attempt::kGuardFailed: {
          if (!all_products_exist(c, *orders[i])) {
            out[i] = {PersistResult::kRejected, "unknown product", false};
            break;
          }
          // PostgreSQL's stock cannot cover it: possible only after Redis lost writes.
          const std::string reason = "insufficient stock in the record";
          persist_failed(c, *orders[i], reason);
          out[i] = {PersistResult::kFailed, reason, true};
          break;
        }
        case Attempt::kRowRefused: out[i] = {PersistResult::kRejected, why, false}; break;
      }
    } catch (const DependencyUnavailable&) {
      throw;
    } catch (const std::exception& e) {
      exec(c, "ROLLBACK");
      out[i] = {PersistResult::kRejected, e.what(), false};
    }
  }
  return out;
}

}  // namespace orders::worker
