#include "worker/postgres_batch_record.hpp"

#include <optional>
#include <stdexcept>

#include "common/dependency_error.hpp"
#include "storage/postgres/array.hpp"
#include "storage/postgres/blocking.hpp"
#include "storage/postgres/result.hpp"

namespace orders::worker {
using postgres::pg_array;
using postgres::Result;
using postgres::Transaction;

namespace {

// Errors that another attempt can clear: deadlock and serialization (class 40), lock not
// available (55), cancel or shutdown (57), resources (53), connection (08), and a clash on
// (user_id, idempotency_key) with another worker's concurrent insert (the retry then sees the
// other row and fails this order as a duplicate). Clashes inside one batch never reach the
// constraint: persist_batch takes the first and fails the others itself.
bool is_transient(const Result& r) {
  std::string_view state = r.sqlstate();
  if (state.size() != 5) return true;  // no SQLSTATE: the connection failed
  std::string_view cls = state.substr(0, 2);
  if (cls == "40" || cls == "55" || cls == "57" || cls == "53" || cls == "08") return true;
  return state == postgres::kUniqueViolation && r.constraint() == "orders_user_idempotency_key";
}

// The persister's statements, its transactions' included: a transient failure throws
// DependencyUnavailable (the worker holds the batch and tries it again). Other failures come
// back as a Result that is not ok().
class Session final : public postgres::Executor {
 public:
  explicit Session(postgres::BlockingConnection& conn) : conn_(conn) {}

  using Executor::exec;
  Result exec(std::string_view sql, const postgres::Params& params) override {
    Result r = conn_.exec(sql, params);
    if (!r.ok() && (conn_.broken() || is_transient(r))) {
      throw DependencyUnavailable("PostgreSQL", "retryable failure: " + r.error_message());
    }
    return r;
  }

  // After a refused statement, whose transaction has rolled back: the connection may have gone
  // with it, and then nothing of this batch is decided.
  void throw_if_lost() const {
    if (conn_.broken()) throw DependencyUnavailable("PostgreSQL", "retryable failure: " + conn_.error_message());
  }

 private:
  postgres::BlockingConnection& conn_;
};

Result exec(Session& c, const char* sql, const std::vector<std::string>& params = {}) {
  postgres::Params values;
  for (const auto& p : params) values.add(p);
  return c.exec(sql, values);
}

void must(const Result& r, const char* what) {
  if (!r.ok()) throw std::runtime_error(std::string(what) + ": " + r.error_message());
}

// The columns of a set of orders, as arrays for unnest().
struct Columns {
  std::vector<std::optional<std::string>> id, reference, user, total, key, created, expires;
  std::vector<std::optional<std::string>> item_order, item_product, item_qty, item_unit, item_total;
  explicit Columns(const std::vector<const ordering::Order*>& orders) {
    for (const ordering::Order* o : orders) {
      id.emplace_back(o->id);
      reference.emplace_back(o->reference_no);
      user.emplace_back(o->user_id);
      total.emplace_back(o->total_price.to_decimal());
      key.push_back(o->idempotency_key);
      created.emplace_back(o->created_at);
      expires.push_back(o->expires_at);
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
    "INSERT INTO orders (id, reference_no, user_id, status, total_price, idempotency_key, created_at, failure_reason,"
    "   expires_at)"
    " SELECT t.id, t.reference_no, t.user_id, $7, t.total_price,"
    // Redis keeps a key 24 h; the record keeps it for ever. A key reused after a day is a new
    // request (SPEC): the newer order is stored without it rather than refused.
    "   CASE WHEN EXISTS (SELECT 1 FROM orders x WHERE x.user_id = t.user_id"
    "     AND x.idempotency_key = t.idempotency_key AND x.id <> t.id) THEN NULL ELSE t.idempotency_key END,"
    "   t.created_at, NULLIF($8, ''), t.expires_at"
    " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[], $5::text[], $6::timestamptz[], $9::timestamptz[])"
    "   AS t(id, reference_no, user_id, total_price, idempotency_key, created_at, expires_at)"
    // Only the order id makes a duplicate; any other clash must fail loudly, not drop an order.
    " ON CONFLICT (id) DO NOTHING RETURNING id";

constexpr const char* kInsertItems =
    "INSERT INTO order_items (order_id, product_id, quantity, unit_price, total_price)"
    " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::numeric[], $5::numeric[])"
    "   AS t(order_id, product_id, quantity, unit_price, total_price)"
    " WHERE t.order_id = ANY($6::uuid[])";

// Row locks in one order (by id) for every transaction, so two workers never deadlock. NO KEY
// UPDATE: stock is not a key, and this lock does not conflict with the KEY SHARE locks that
// inserting order_items or ledger rows takes on their products (a cancel storing a pending order
// takes those in item order; FOR UPDATE against them could close a cycle).
constexpr const char* kLockProducts =
    "SELECT id FROM products WHERE id IN (SELECT t.product_id FROM unnest($1::uuid[], $2::uuid[]) AS t(order_id, "
    "product_id)"
    "   WHERE t.order_id = ANY($3::uuid[])) ORDER BY id FOR NO KEY UPDATE";

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
std::set<std::string> insert_orders(Session& c, const Columns& col, const char* status, const std::string& reason) {
  Result r = exec(c, kInsertOrders,
                  {pg_array(col.id), pg_array(col.reference), pg_array(col.user), pg_array(col.total),
                   pg_array(col.key), pg_array(col.created), status, reason, pg_array(col.expires)});
  must(r, "insert orders");
  std::set<std::string> fresh;
  for (int i = 0; i < r.rows(); ++i) fresh.emplace(r.get(i, 0));
  return fresh;
}

std::string array_of(const std::set<std::string>& ids) {
  std::vector<std::optional<std::string>> v(ids.begin(), ids.end());
  return pg_array(v);
}

using Attempt = TogetherOutcome::Kind;

// One transaction for the whole set. On kGuardFailed / kRowRefused it has rolled back.
Attempt persist_together(Session& c, const std::vector<const ordering::Order*>& orders, std::set<std::string>& fresh,
                         std::string& refusal) {
  Columns col(orders);
  Transaction tx(c);
  fresh = insert_orders(c, col, "CONFIRMED", "");
  if (fresh.empty()) {
    tx.commit();
    return Attempt::kCommitted;
  }
  const std::string fresh_ids = array_of(fresh);
  std::set<std::string> products;
  for (const ordering::Order* o : orders) {
    if (!fresh.count(o->id)) continue;
    for (const auto& i : o->items) products.insert(i.product_id);
  }
  must(exec(c, kLockProducts, {pg_array(col.item_order), pg_array(col.item_product), fresh_ids}), "lock products");
  Result taken = exec(c, kTakeStock,
                      {pg_array(col.item_order), pg_array(col.item_product), pg_array(col.item_qty), fresh_ids});
  if (!taken.ok() || taken.rows() != static_cast<int>(products.size())) {
    refusal = taken.ok() ? "" : taken.error_message();
    tx.rollback();
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
      tx.rollback();
      return Attempt::kRowRefused;
    }
  }
  tx.commit();
  return Attempt::kCommitted;
}

// Stores one order as FAILED (stock untouched), unless it exists already; true when it was new.
// `bare`: without its items and its idempotency key, for an order whose full row the record
// refuses (a check constraint, a product that is gone).
bool persist_failed(Session& c, const ordering::Order& order, const std::string& reason, bool bare) {
  ordering::Order stripped;
  if (bare) {
    stripped = order;
    stripped.items.clear();
    stripped.idempotency_key.reset();
  }
  std::vector<const ordering::Order*> one{bare ? &stripped : &order};
  Columns col(one);
  Transaction tx(c);
  auto fresh = insert_orders(c, col, "FAILED", reason);
  if (!fresh.empty()) {
    const std::string ids = array_of(fresh);
    if (!bare) {
      must(exec(c, kInsertItems,
                {pg_array(col.item_order), pg_array(col.item_product), pg_array(col.item_qty), pg_array(col.item_unit),
                 pg_array(col.item_total), ids}),
           "insert failed items");
    }
    must(exec(c, kFailedEvents, {ids, reason}), "failed events");
  }
  tx.commit();
  return !fresh.empty();
}

bool all_products_exist(Session& c, const ordering::Order& order) {
  std::vector<std::optional<std::string>> ids;
  for (const auto& i : order.items) ids.emplace_back(i.product_id);
  Result r = exec(c, "SELECT count(*) FROM products WHERE id = ANY($1::uuid[])", {pg_array(ids)});
  return r.ok() && r.get_int(0, 0) == static_cast<long long>(order.items.size());
}

bool read_failed_in_record(Session& c, const std::string& id) {
  Result r = exec(c, "SELECT status = 'FAILED' FROM orders WHERE id = $1", {id});
  return r.ok() && r.rows() == 1 && r.get_bool(0, 0);
}

// The orders at `todo` whose (user, idempotency key) already belongs to another order in the
// record created less than 24 h before or after them (SPEC: keys are kept 24 h). Orders that are
// in the record themselves are left out: they are redeliveries, and stay as they are. A key the
// query cannot even take (a NUL byte) is asked about alone and counts as not owned: its insert
// is then refused and the order FAILED, rather than the whole batch held for ever.
std::set<std::size_t> keys_owned(Session& c, const std::vector<const ordering::Order*>& orders,
                                 const std::vector<std::size_t>& todo) {
  std::vector<std::size_t> keyed;
  std::vector<std::optional<std::string>> n, id, user, key, created;
  for (std::size_t i : todo) {
    if (!orders[i]->idempotency_key) continue;
    keyed.push_back(i);
    n.emplace_back(std::to_string(i));
    id.emplace_back(orders[i]->id);
    user.emplace_back(orders[i]->user_id);
    key.push_back(orders[i]->idempotency_key);
    created.emplace_back(orders[i]->created_at);
  }
  std::set<std::size_t> owned;
  if (keyed.empty()) return owned;
  Result r = exec(c,
                  "SELECT t.n FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[])"
                  "   AS t(n, id, user_id, idempotency_key, created_at)"
                  " WHERE NOT EXISTS (SELECT 1 FROM orders y WHERE y.id = t.id)"
                  "   AND EXISTS (SELECT 1 FROM orders x WHERE x.user_id = t.user_id"
                  "     AND x.idempotency_key = t.idempotency_key AND x.id <> t.id"
                  "     AND x.created_at > t.created_at - interval '24 hours'"
                  "     AND x.created_at < t.created_at + interval '24 hours')",
                  {pg_array(n), pg_array(id), pg_array(user), pg_array(key), pg_array(created)});
  if (!r.ok()) {
    if (keyed.size() > 1) {
      for (std::size_t i : keyed) {
        if (!keys_owned(c, orders, {i}).empty()) owned.insert(i);
      }
    }
    return owned;
  }
  for (int row = 0; row < r.rows(); ++row) owned.insert(static_cast<std::size_t>(r.get_int(row, 0)));
  return owned;
}

}  // namespace

std::set<std::size_t> PostgresBatchRecord::keys_owned_in_record(const std::vector<const ordering::Order*>& orders) {
  Session c(conn_);
  std::vector<std::size_t> all(orders.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  return keys_owned(c, orders, all);
}

TogetherOutcome PostgresBatchRecord::insert_together(const std::vector<const ordering::Order*>& orders) {
  Session c(conn_);
  TogetherOutcome out;
  try {
    out.kind = persist_together(c, orders, out.fresh, out.refusal);
  } catch (const DependencyUnavailable&) {
    throw;
  } catch (const std::exception& e) {
    c.throw_if_lost();  // a refused row (rolled back)
    out = TogetherOutcome{.kind = TogetherOutcome::Kind::kRowRefused, .fresh = {}, .refusal = e.what()};
  }
  return out;
}

FailedOutcome PostgresBatchRecord::insert_failed(const ordering::Order& order, const std::string& reason,
                                                 FailedRow row) {
  Session c(conn_);
  try {
    bool fresh = persist_failed(c, order, reason, row == FailedRow::kBare);
    return {fresh ? FailedOutcome::Kind::kStored : FailedOutcome::Kind::kExists, ""};
  } catch (const DependencyUnavailable&) {
    throw;
  } catch (const std::exception& e) {
    c.throw_if_lost();
    return {FailedOutcome::Kind::kRefused, e.what()};
  }
}

bool PostgresBatchRecord::products_exist(const ordering::Order& order) {
  Session c(conn_);
  return all_products_exist(c, order);
}

std::set<std::string> confirmed_by_a_worker(postgres::BlockingConnection& conn,
                                            const std::vector<std::string>& order_ids) {
  std::set<std::string> out;
  if (order_ids.empty()) return out;
  Session c(conn);
  std::vector<std::optional<std::string>> ids(order_ids.begin(), order_ids.end());
  Result r = exec(c,
                  "SELECT DISTINCT order_id FROM order_events WHERE order_id = ANY($1::uuid[])"
                  " AND event_type = 'CONFIRMED'",
                  {pg_array(ids)});
  must(r, "confirmed orders");
  for (int i = 0; i < r.rows(); ++i) out.emplace(r.get(i, 0));
  return out;
}

bool PostgresBatchRecord::is_failed_in_record(const std::string& order_id) {
  Session c(conn_);
  return read_failed_in_record(c, order_id);
}

}  // namespace orders::worker
