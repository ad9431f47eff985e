#include "bench/invariants.hpp"

#include <sys/time.h>

#include <algorithm>
#include <array>
#include <climits>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

#include "catalog/keys.hpp"
#include "common/dependency_error.hpp"
#include "storage/postgres/blocking.hpp"
#include "storage/postgres/result.hpp"
#include "storage/redis/blocking.hpp"
#include "storage/redis/blocking_redis.hpp"

namespace orders::bench {
namespace {

using Clock = std::chrono::steady_clock;

// A PostgreSQL array literal of UUIDs ({a,b,…}), sent as one text parameter.
std::string uuid_array(const std::vector<std::string>& ids) {
  std::string text = "{";
  text.reserve(ids.size() * 37 + 2);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) text += ',';
    text += ids[i];
  }
  text += '}';
  return text;
}

std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

// Per product, the relations of `orders reconcile` plus the units sold (G1, G5). Aggregated from
// the products' own rows (their indexes on product_id) in one pass each, not a subquery per
// product and figure: with millions of orders in the tables the planner drove those from the
// orders' status index and 100 products took longer than the statement timeout.
constexpr const char* kProductFigures =
    "WITH it AS (SELECT i.product_id,"
    "   sum(i.quantity) FILTER (WHERE o.status NOT IN ('CANCELLED', 'FAILED', 'EXPIRED')) AS live,"
    "   sum(i.quantity) FILTER (WHERE o.status IN ('CONFIRMED', 'PAID', 'COMPLETED')) AS confirmed,"
    "   sum(i.quantity) AS all_units,"
    "   count(*) FILTER (WHERE o.status = 'FAILED') AS failed,"
    "   sum(i.quantity) FILTER (WHERE o.status = 'EXPIRED') AS expired"
    "   FROM order_items i JOIN orders o ON o.id = i.order_id WHERE i.product_id = ANY($1::uuid[])"
    "   GROUP BY i.product_id),"
    " mv AS (SELECT product_id, sum(delta) AS ledger,"
    "   -sum(delta) FILTER (WHERE reason IN ('ORDER', 'CANCEL', 'FAILED', 'EXPIRED')) AS order_units,"
    "   sum(delta) FILTER (WHERE reason IN ('INITIAL', 'ADJUSTMENT')) AS made_available,"
    "   sum(delta) FILTER (WHERE reason = 'EXPIRED') AS expired"
    "   FROM inventory_movements WHERE product_id = ANY($1::uuid[]) GROUP BY product_id)"
    " SELECT p.id, p.stock, COALESCE(mv.ledger, 0), COALESCE(mv.order_units, 0), COALESCE(mv.made_available, 0),"
    "   COALESCE(it.live, 0), COALESCE(it.confirmed, 0), COALESCE(it.all_units, 0), COALESCE(it.failed, 0),"
    "   COALESCE(mv.expired, 0), COALESCE(it.expired, 0)"
    " FROM products p LEFT JOIN mv ON mv.product_id = p.id LEFT JOIN it ON it.product_id = p.id"
    " WHERE p.id = ANY($1::uuid[])";

// Orders of the products (all of this run: the bench made the products), by buyer and key (G2).
constexpr const char* kBuyerCounts =
    "SELECT count(*), count(DISTINCT o.user_id), count(DISTINCT (o.user_id, o.idempotency_key))"
    " FROM orders o WHERE o.id IN (SELECT order_id FROM order_items WHERE product_id = ANY($1::uuid[]))";

// The orders answered 202, as PostgreSQL has them (G3).
constexpr const char* kAcceptedByStatus =
    "SELECT o.status, count(*), sum((SELECT count(*) FROM order_items i WHERE i.order_id = o.id))"
    " FROM orders o WHERE o.id = ANY($1::uuid[]) GROUP BY o.status ORDER BY o.status";

// Where the first wave's orders stand (--pay-share): paid, expired with the units back in
// Redis, expired with Redis still owed, anything else.
constexpr const char* kSettlement =
    "SELECT count(*) FILTER (WHERE o.status = 'PAID'),"
    " count(*) FILTER (WHERE o.status = 'EXPIRED' AND o.units_returned_at IS NOT NULL),"
    " count(*) FILTER (WHERE o.status = 'EXPIRED' AND o.units_returned_at IS NULL),"
    " count(*),"
    " COALESCE(sum((SELECT sum(i.quantity) FROM order_items i WHERE i.order_id = o.id))"
    "   FILTER (WHERE o.status = 'EXPIRED'), 0)"
    " FROM orders o WHERE o.id = ANY($1::uuid[])";

// The sweepers' pace over a set of orders: an expiry sets updated_at in its transaction.
constexpr const char* kExpiryTiming =
    "SELECT count(*),"
    " COALESCE(extract(epoch FROM max(updated_at) - min(expires_at)), 0)::float8,"
    " COALESCE(extract(epoch FROM max(updated_at) - min(updated_at)), 0)::float8,"
    " COALESCE(extract(epoch FROM max(updated_at - expires_at)), 0)::float8"
    " FROM orders WHERE id = ANY($1::uuid[]) AND status = 'EXPIRED'";

// Per product: units of paid first-wave orders ($2) and of live second-wave orders ($3).
constexpr const char* kWaveUnits =
    "SELECT i.product_id,"
    " COALESCE(sum(i.quantity) FILTER (WHERE o.id = ANY($2::uuid[]) AND o.status = 'PAID'), 0),"
    " COALESCE(sum(i.quantity) FILTER (WHERE o.id = ANY($3::uuid[])"
    "   AND o.status NOT IN ('CANCELLED', 'FAILED', 'EXPIRED')), 0)"
    " FROM order_items i JOIN orders o ON o.id = i.order_id"
    " WHERE i.product_id = ANY($1::uuid[]) GROUP BY i.product_id";

// "Was ever paid" and "was ever expired" are audit rows with that to_status (a PUT writes
// STATUS_CHANGED to PAID, a payment before the worker PAID, an expiry EXPIRED).
constexpr const char* kPaidAndExpired =
    "WITH trail AS (SELECT o.id, o.status,"
    "   EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.to_status = 'PAID') AS paid,"
    "   EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.to_status = 'EXPIRED') AS expired"
    " FROM orders o WHERE o.id IN (SELECT order_id FROM order_items WHERE product_id = ANY($1::uuid[])))"
    " SELECT count(*) FILTER (WHERE paid), count(*) FILTER (WHERE expired),"
    " count(*) FILTER (WHERE paid AND expired),"
    " count(*) FILTER (WHERE status = 'EXPIRED' AND paid),"
    " count(*) FILTER (WHERE status IN ('PAID', 'COMPLETED') AND expired),"
    " (SELECT count(*) FROM orders WHERE id = ANY($2::uuid[]) AND status NOT IN ('PAID', 'COMPLETED')),"
    " (SELECT count(*) FROM orders WHERE id = ANY($3::uuid[]) AND status <> 'EXPIRED')"
    " FROM trail";

// ordering/keys.hpp names it; the bench reads the record only through catalog's keys.
std::string buyers_key(const std::string& product_id) { return catalog::keys::tag(product_id) + ":buyers"; }

double get_double(const postgres::Result& r, int row, int col) { return std::stod(std::string(r.get(row, col))); }

}  // namespace

// A fault drill restarts PostgreSQL or Redis under the bench: a broken connection is opened
// again and the question asked again, for up to kReconnectFor, before the bench gives up.
constexpr auto kReconnectFor = std::chrono::seconds(60);

struct SaleRecord::Impl {
  config::PostgresEndpoint pg_endpoint;
  redis::RedisTarget redis_endpoint;
  std::optional<postgres::BlockingConnection> pg;
  std::optional<redis::BlockingRedis> redis;

  void connect_postgres() {
    pg.reset();
    postgres::ConnectOptions options;
    options.timeout = std::chrono::seconds(5);
    options.application_name = "orders-bench";
    options.server_options = "-c statement_timeout=30000";
    options.display = pg_endpoint.display();
    pg = postgres::BlockingConnection::connect(pg_endpoint.conninfo, options);
  }

  void connect_redis() {
    redis.reset();
    redis = redis::BlockingRedis::connect(redis_endpoint, std::chrono::seconds(5));
  }

  // Runs `attempt` until it does not throw DependencyUnavailable, reconnecting in between.
  template <typename F>
  auto with_reconnect(F attempt) {
    const auto deadline = Clock::now() + kReconnectFor;
    for (;;) {
      try {
        return attempt();
      } catch (const DependencyUnavailable&) {
        if (Clock::now() >= deadline) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    }
  }

  postgres::Result query(const char* name, const char* sql, const std::string& param) {
    postgres::Params params;
    params.add(param);
    return query(name, sql, params);
  }

  postgres::Result query(const char* name, const char* sql, const postgres::Params& params) {
    return with_reconnect([&] {
      if (!pg || pg->broken()) connect_postgres();
      postgres::Result r = pg->exec(sql, params);
      if (!r.ok()) {
        if (pg->broken()) {
          std::string why = pg->error_message();
          pg.reset();
          throw DependencyUnavailable("PostgreSQL", why);
        }
        throw std::runtime_error(std::string(name) + ": " + one_line(r.error_message()));
      }
      return r;
    });
  }

  redis::Reply command(const std::vector<std::string>& args) {
    return with_reconnect([&] {
      if (!redis || redis->broken()) connect_redis();
      return raw_command(args);
    });
  }

  redis::Reply raw_command(const std::vector<std::string>& args) {
    redis::Reply reply;
    try {
      reply = redis->command(args);
    } catch (const DependencyUnavailable&) {
      redis.reset();  // connect again on the next attempt
      throw;
    }
    if (reply.is_error()) {
      // LOADING: a restarted Redis still reading its AOF; ask again.
      if (reply.str.starts_with("LOADING")) throw DependencyUnavailable("Redis", reply.str);
      throw std::runtime_error("Redis " + redis_endpoint.display() + ": " + reply.str);
    }
    return reply;
  }
};

SaleRecord::SaleRecord(const config::PostgresEndpoint& pg, const redis::RedisTarget& redis)
    : impl_(std::make_unique<Impl>()) {
  impl_->pg_endpoint = pg;
  impl_->redis_endpoint = redis;
  // At start, an unreachable dependency is a plain error (exit 3), not something to wait for.
  impl_->connect_postgres();
  impl_->connect_redis();
}

SaleRecord::~SaleRecord() = default;

std::vector<ProductRecord> SaleRecord::products(const std::vector<std::string>& product_ids) {
  auto rows = impl_->query("product figures", kProductFigures, uuid_array(product_ids));
  std::map<std::string, ProductRecord, std::less<>> by_id;
  for (int i = 0; i < rows.rows(); ++i) {
    ProductRecord p;
    p.id = rows.get(i, 0);
    p.stock = rows.get_int(i, 1);
    p.ledger = rows.get_int(i, 2);
    p.ledger_order_units = rows.get_int(i, 3);
    p.made_available = rows.get_int(i, 4);
    p.live_units = rows.get_int(i, 5);
    p.confirmed_units = rows.get_int(i, 6);
    p.persisted_units = rows.get_int(i, 7);
    p.failed_orders = rows.get_int(i, 8);
    p.expired_units = rows.get_int(i, 9);
    p.expired_order_units = rows.get_int(i, 10);
    by_id.emplace(p.id, std::move(p));
  }
  std::vector<ProductRecord> products;
  for (const auto& id : product_ids) {
    auto it = by_id.find(id);
    if (it == by_id.end()) continue;
    ProductRecord p = std::move(it->second);
    // A product in stockBuckets (Redis Cluster): its counter is the sum of its buckets'.
    auto buckets = impl_->command({"GET", catalog::keys::buckets(p.id)});
    const int n = buckets.type == redis::Reply::Type::kString ? std::max(1, std::stoi(buckets.str)) : 1;
    for (int b = 0; b < n; ++b) {
      auto reply = impl_->command({"GET", catalog::keys::stock(catalog::keys::bucket(p.id, b))});
      if (reply.type == redis::Reply::Type::kString) p.counter = p.counter.value_or(0) + std::stoll(reply.str);
    }
    products.push_back(std::move(p));
  }
  return products;
}

BuyerCounts SaleRecord::buyers(const std::vector<std::string>& product_ids) {
  auto r = impl_->query("buyer counts", kBuyerCounts, uuid_array(product_ids));
  return BuyerCounts{.orders = r.get_int(0, 0), .users = r.get_int(0, 1), .keys = r.get_int(0, 2)};
}

long long SaleRecord::persisted_units(const std::vector<std::string>& product_ids) {
  auto r = impl_->query("persisted units",
                        "SELECT COALESCE(sum(quantity), 0) FROM order_items WHERE product_id = ANY($1::uuid[])",
                        uuid_array(product_ids));
  return r.get_int(0, 0);
}

AcceptedInRecord SaleRecord::accepted(const std::vector<std::string>& order_ids) {
  AcceptedInRecord a;
  if (order_ids.empty()) return a;
  auto r = impl_->query("accepted orders", kAcceptedByStatus, uuid_array(order_ids));
  for (int i = 0; i < r.rows(); ++i) {
    const long long n = r.get_int(i, 1);
    a.orders += n;
    a.items += r.get_int(i, 2);
    a.by_status.emplace_back(std::string(r.get(i, 0)), n);
  }
  return a;
}

Settlement SaleRecord::settlement(const std::vector<std::string>& order_ids) {
  Settlement s;
  if (order_ids.empty()) return s;
  auto r = impl_->query("settlement", kSettlement, uuid_array(order_ids));
  s.paid = r.get_int(0, 0);
  s.expired = r.get_int(0, 1);
  s.expired_owing = r.get_int(0, 2);
  // Ids the record does not hold are unsettled too.
  s.unsettled = static_cast<long long>(order_ids.size()) - s.paid - s.expired - s.expired_owing;
  s.units_returned = r.get_int(0, 4);
  return s;
}

ExpiryTiming SaleRecord::expiry_timing(const std::vector<std::string>& order_ids) {
  ExpiryTiming t;
  if (order_ids.empty()) return t;
  auto r = impl_->query("expiry timing", kExpiryTiming, uuid_array(order_ids));
  t.expired = r.get_int(0, 0);
  t.first_deadline_to_last_expiry = get_double(r, 0, 1);
  t.first_to_last_expiry = get_double(r, 0, 2);
  t.max_lag = get_double(r, 0, 3);
  return t;
}

std::vector<WaveUnits> SaleRecord::wave_units(const std::vector<std::string>& product_ids,
                                              const std::vector<std::string>& first_wave_ids,
                                              const std::vector<std::string>& second_wave_ids) {
  postgres::Params params;
  params.add(uuid_array(product_ids)).add(uuid_array(first_wave_ids)).add(uuid_array(second_wave_ids));
  auto r = impl_->query("wave units", kWaveUnits, params);
  std::vector<WaveUnits> units;
  units.reserve(product_ids.size());
  for (const auto& id : product_ids) units.push_back(WaveUnits{.id = id});
  for (int i = 0; i < r.rows(); ++i) {
    auto at = std::find_if(units.begin(), units.end(), [&](const WaveUnits& u) { return u.id == r.get(i, 0); });
    if (at == units.end()) continue;
    at->first_wave_paid = r.get_int(i, 1);
    at->second_wave_live = r.get_int(i, 2);
  }
  return units;
}

PaidExpiredOverlap SaleRecord::paid_and_expired(const std::vector<std::string>& product_ids,
                                                const std::vector<std::string>& answered_paid,
                                                const std::vector<std::string>& answered_expired) {
  postgres::Params params;
  params.add(uuid_array(product_ids)).add(uuid_array(answered_paid)).add(uuid_array(answered_expired));
  auto r = impl_->query("paid and expired", kPaidAndExpired, params);
  return PaidExpiredOverlap{.ever_paid = r.get_int(0, 0),
                            .ever_expired = r.get_int(0, 1),
                            .paid_and_expired = r.get_int(0, 2),
                            .expired_with_paid_row = r.get_int(0, 3),
                            .paid_with_expired_row = r.get_int(0, 4),
                            .answered_paid_not_paid = r.get_int(0, 5),
                            .answered_expired_not_expired = r.get_int(0, 6)};
}

std::optional<long long> SaleRecord::buyer_units(const std::string& product_id) {
  auto reply = impl_->command({"HVALS", buyers_key(product_id)});
  if (reply.type != redis::Reply::Type::kArray) return std::nullopt;
  long long units = 0;
  for (const auto& e : reply.elements) {
    if (e.type == redis::Reply::Type::kString) units += std::stoll(e.str);
    else if (e.type == redis::Reply::Type::kInteger) units += e.integer;
  }
  return units;
}

// --- waiting for the workers ---------------------------------------------------------------

DrainResult wait_for_drain(SaleRecord& record, const std::vector<std::string>& product_ids,
                           const std::vector<std::uint64_t>& accepted_units, Clock::time_point deadline,
                           std::chrono::seconds stall_limit, const std::function<void(const DrainStatus&)>& on_poll) {
  const auto started = Clock::now();
  auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  // What moved between polls: persisted units, stock and counter of every product.
  std::vector<long long> last_signature;
  auto last_change = Clock::now();
  bool previous_complete = false;
  for (;;) {
    auto products = record.products(product_ids);
    DrainStatus status;
    status.products = product_ids.size();
    std::vector<long long> signature;
    bool complete = products.size() == product_ids.size();
    std::string missing;
    for (std::size_t i = 0; i < products.size(); ++i) {
      const auto& p = products[i];
      status.persisted_units += static_cast<std::uint64_t>(p.persisted_units);
      status.accepted_units += accepted_units[i];
      const bool counter_matches = p.counter && *p.counter == p.stock;
      if (counter_matches) ++status.counters_matching;
      if (static_cast<std::uint64_t>(p.persisted_units) < accepted_units[i] || !counter_matches) complete = false;
      signature.insert(signature.end(), {p.persisted_units, p.stock, p.counter.value_or(-1)});
    }
    if (on_poll) on_poll(status);
    if (signature != last_signature) {
      last_signature = signature;
      last_change = Clock::now();
      previous_complete = false;
    }
    // Complete and unchanged since the previous poll: nothing is on its way any more.
    if (complete && previous_complete) return DrainResult{true, seconds_since(started), {}};
    previous_complete = complete;

    std::string why;
    if (!complete) {
      why = std::to_string(status.persisted_units) + " of " + std::to_string(status.accepted_units) +
            " accepted units persisted, Redis = PostgreSQL stock for " + std::to_string(status.counters_matching) +
            " of " + std::to_string(status.products) + " products";
    }
    if (Clock::now() >= deadline) return DrainResult{false, seconds_since(started), "time limit: " + why};
    if (!complete && Clock::now() - last_change >= stall_limit) {
      return DrainResult{false, seconds_since(started),
                         "nothing changed for " + std::to_string(stall_limit.count()) + " s: " + why};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

SettleResult wait_for_settlement(SaleRecord& record, const std::vector<std::string>& product_ids,
                                 const std::vector<std::string>& first_wave_ids, Clock::time_point deadline,
                                 const std::function<void(const Settlement&, std::size_t)>& on_poll) {
  const auto started = Clock::now();
  auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  std::vector<long long> last_signature;
  bool previous_complete = false;
  for (;;) {
    const Settlement settlement = record.settlement(first_wave_ids);
    const auto products = record.products(product_ids);
    std::size_t counters_matching = 0;
    std::vector<long long> signature{settlement.paid, settlement.expired, settlement.expired_owing};
    for (const auto& p : products) {
      if (p.counter && *p.counter == p.stock) ++counters_matching;
      signature.insert(signature.end(), {p.stock, p.counter.value_or(-1)});
    }
    if (on_poll) on_poll(settlement, counters_matching);
    const bool complete = settlement.unsettled == 0 && settlement.expired_owing == 0 &&
                          products.size() == product_ids.size() && counters_matching == products.size();
    if (signature != last_signature) {
      last_signature = signature;
      previous_complete = false;
    }
    if (complete && previous_complete) return SettleResult{true, seconds_since(started), {}, settlement};
    previous_complete = complete;
    if (Clock::now() >= deadline) {
      const std::string why = std::to_string(settlement.unsettled) + " orders neither PAID nor EXPIRED, " +
                              std::to_string(settlement.expired_owing) + " EXPIRED with Redis not told, " +
                              "Redis = PostgreSQL stock for " + std::to_string(counters_matching) + " of " +
                              std::to_string(product_ids.size()) + " products";
      return SettleResult{false, seconds_since(started), "time limit: " + why, settlement};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

// --- the guarantees -------------------------------------------------------------------------

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "PASS";
    case Verdict::kFail: return "FAIL";
    case Verdict::kNotApplicable: return "n/a";
  }
  return "?";
}

namespace {

std::string num(long long n) { return std::to_string(n); }

void add_problem(std::string& problems, const std::string& p) {
  if (problems.size() > 400) return;  // enough to see what is wrong
  problems += (problems.empty() ? "" : "; ") + p;
}

std::string short_id(const std::string& id) { return id.substr(0, 8); }

Check check_oversell(const std::vector<ProductRecord>& products, const SaleClientView& view) {
  Check c{"G1", "no oversell", Verdict::kPass, {}};
  long long sold = 0, available = 0, min_stock = LLONG_MAX, min_counter = LLONG_MAX;
  std::string problems;
  for (std::size_t i = 0; i < products.size(); ++i) {
    const auto& p = products[i];
    sold += p.live_units;
    available += p.made_available;
    min_stock = std::min(min_stock, p.stock);
    if (p.counter) min_counter = std::min(min_counter, *p.counter);
    if (p.live_units > p.made_available) {
      add_problem(problems, short_id(p.id) + " sold " + num(p.live_units) + " > " + num(p.made_available));
    }
    // A unit an expiry gave back sells again: it may be answered 202 twice.
    if (static_cast<long long>(view.accepted_units[i]) > p.made_available + p.expired_units) {
      add_problem(problems, short_id(p.id) + " answered 202 " + num(static_cast<long long>(view.accepted_units[i])) +
                                " times > " + num(p.made_available) +
                                (p.expired_units ? " + " + num(p.expired_units) + " returned by expiries" : ""));
    }
    if (p.stock < 0) add_problem(problems, short_id(p.id) + " PostgreSQL stock " + num(p.stock));
    if (p.counter && *p.counter < 0) add_problem(problems, short_id(p.id) + " Redis counter " + num(*p.counter));
  }
  if (products.size() != view.product_ids.size()) add_problem(problems, "products missing in PostgreSQL");
  c.detail = "units in live orders " + num(sold) + " <= stock made available " + num(available) +
             "; lowest PostgreSQL stock " + num(products.empty() ? 0 : min_stock) + ", lowest Redis counter " +
             (min_counter == LLONG_MAX ? std::string("-") : num(min_counter));
  if (!problems.empty()) {
    c.verdict = Verdict::kFail;
    c.detail = problems;
  }
  return c;
}

Check check_duplicates(const BuyerCounts& buyers, const SaleClientView& view) {
  Check c{"G2", "no duplicates", Verdict::kPass, {}};
  const auto& r = view.retries;
  c.detail = std::to_string(r.keys_concurrent + r.keys_after_answer) + " retried keys (" +
             num(static_cast<long long>(r.keys_concurrent)) + " at once, " +
             num(static_cast<long long>(r.keys_after_answer)) + " after the answer; " +
             num(static_cast<long long>(r.replayed)) + " replayed, " + num(static_cast<long long>(r.in_progress)) +
             " in progress), " + num(static_cast<long long>(r.conflicts)) +
             " with two different decisions; PostgreSQL: " + num(buyers.orders) + " orders from " + num(buyers.users) +
             " users, " + num(buyers.keys) + " keys";
  std::string problems;
  if (r.conflicts > 0)
    add_problem(problems, num(static_cast<long long>(r.conflicts)) + " keys decided twice, e.g. " + r.conflict_example);
  // Every buyer is a user of their own with one key: one order per user at most.
  if (buyers.orders != buyers.users) {
    add_problem(problems, num(buyers.orders - buyers.users) + " orders beyond one per user in PostgreSQL");
  }
  if (buyers.orders != buyers.keys) {
    add_problem(problems, num(buyers.orders - buyers.keys) + " orders beyond one per key in PostgreSQL");
  }
  if (!problems.empty()) {
    c.verdict = Verdict::kFail;
    c.detail = problems + " (" + c.detail + ")";
  }
  return c;
}

Check check_nothing_lost(const AcceptedInRecord& found, const SaleClientView& view) {
  Check c{"G3", "nothing lost", Verdict::kPass, {}};
  const auto expected = static_cast<long long>(view.accepted_order_ids.size());
  std::string statuses;
  for (const auto& [status, n] : found.by_status) statuses += (statuses.empty() ? "" : ", ") + num(n) + " " + status;
  c.detail = num(found.orders) + " of " + num(expected) + " orders answered 202 are in PostgreSQL, with " +
             num(found.items) + " item rows" + (statuses.empty() ? "" : " (" + statuses + ")");
  std::string problems;
  if (found.orders != expected) add_problem(problems, num(expected - found.orders) + " accepted orders missing");
  if (found.items != expected) add_problem(problems, num(found.items) + " item rows for " + num(expected) + " orders");
  if (view.accepted_without_id > 0) {
    add_problem(problems, num(static_cast<long long>(view.accepted_without_id)) + " 202 answers named no order");
  }
  if (!problems.empty()) {
    c.verdict = Verdict::kFail;
    c.detail = problems + " (" + c.detail + ")";
  }
  return c;
}

Check check_consistency(const std::vector<ProductRecord>& products) {
  Check c{"G4", "Redis = PostgreSQL = ledger", Verdict::kPass, {}};
  std::string problems;
  long long stock = 0, counters = 0, ledger = 0, order_units = 0, confirmed = 0;
  for (const auto& p : products) {
    stock += p.stock;
    counters += p.counter.value_or(0);
    ledger += p.ledger;
    order_units += p.ledger_order_units;
    confirmed += p.confirmed_units;
    if (!p.counter) add_problem(problems, short_id(p.id) + " has no Redis counter");
    else if (*p.counter != p.stock) {
      add_problem(problems, short_id(p.id) + " Redis " + num(*p.counter) + " != PostgreSQL " + num(p.stock));
    }
    if (p.ledger != p.stock)
      add_problem(problems, short_id(p.id) + " ledger " + num(p.ledger) + " != stock " + num(p.stock));
    if (p.ledger_order_units != p.confirmed_units) {
      add_problem(problems, short_id(p.id) + " ledger order units " + num(p.ledger_order_units) +
                                " != confirmed units " + num(p.confirmed_units));
    }
  }
  c.detail = "Redis " + num(counters) + " = PostgreSQL stock " + num(stock) + " = ledger " + num(ledger) +
             "; units the ledger gave to orders " + num(order_units) + " = units in confirmed orders " +
             num(confirmed) + " (" + num(static_cast<long long>(products.size())) +
             (products.size() == 1 ? " product)" : " products)");
  if (!problems.empty()) {
    c.verdict = Verdict::kFail;
    c.detail = problems;
  }
  return c;
}

Check check_all_sold(const std::vector<ProductRecord>& products, const SaleClientView& view) {
  Check c{"G5", "all stock sold", Verdict::kPass, {}};
  if (!view.all_fired) {
    c.verdict = Verdict::kNotApplicable;
    c.detail = "the time limit stopped the firing before every buyer came";
    return c;
  }
  std::string problems;
  std::size_t applicable = 0;
  long long sold = 0, available = 0, seen = 0;
  for (std::size_t i = 0; i < products.size(); ++i) {
    const auto& p = products[i];
    const auto demand = PurchasePlan::demand_of(view.buyers, view.product_ids.size(), i);
    if (static_cast<long long>(demand) < p.made_available) continue;
    // With --pay-share the expired units came back: all sold only if the second wave asked for them.
    if (view.expiry &&
        static_cast<long long>(view.expiry->second_wave_demand[i]) < view.expiry->stock_before_second_wave[i]) {
      continue;
    }
    ++applicable;
    sold += p.live_units;
    available += p.made_available;
    seen += static_cast<long long>(view.accepted_units[i]);
    if (p.live_units != p.made_available) {
      add_problem(problems, short_id(p.id) + " sold " + num(p.live_units) + " of " + num(p.made_available) + " for " +
                                num(static_cast<long long>(demand)) + " buyers");
    }
    if (p.counter && *p.counter != 0) add_problem(problems, short_id(p.id) + " Redis counter left " + num(*p.counter));
  }
  if (applicable == 0) {
    c.verdict = Verdict::kNotApplicable;
    c.detail = "fewer buyers (" + num(static_cast<long long>(view.buyers)) + ") than units (" + num(view.stock) +
               " per product)" + (view.expiry ? ", or a second wave smaller than the stock it found" : "");
    return c;
  }
  c.detail = "sold " + num(sold) + " of " + num(available) + " units (" + num(seen) + " answered 202) to " +
             num(static_cast<long long>(view.buyers)) + " buyers" +
             (view.expiry ? " and a second wave for what expired" : "") + " over " +
             num(static_cast<long long>(applicable)) + (applicable == 1 ? " product" : " products") +
             " with demand >= stock";
  if (!problems.empty()) {
    c.verdict = Verdict::kFail;
    c.detail = problems + " (" + c.detail + ")";
  }
  return c;
}

// G7a-G7d: reads what each needs from the record (per product in the order of `products`).
std::vector<Check> check_expiry(SaleRecord& record, const std::vector<ProductRecord>& products,
                                const SaleClientView& view) {
  const ExpiryView& expiry = *view.expiry;
  std::vector<std::string> ids;
  ids.reserve(products.size());
  for (const auto& p : products) ids.push_back(p.id);
  const auto waves = record.wave_units(ids, expiry.first_wave_ids, expiry.second_wave_ids);
  std::vector<UnitsAfterExpiry> accounted;
  std::vector<UnitsReturned> returned;
  for (std::size_t i = 0; i < products.size(); ++i) {
    const auto& p = products[i];
    accounted.push_back({.id = p.id,
                         .made_available = p.made_available,
                         .first_wave_paid = waves[i].first_wave_paid,
                         .second_wave_live = waves[i].second_wave_live,
                         .stock = p.stock,
                         .stock_before_second_wave = expiry.stock_before_second_wave[i],
                         .second_wave_demand = static_cast<long long>(expiry.second_wave_demand[i])});
    returned.push_back({.id = p.id,
                        .ledger_expired = p.expired_units,
                        .expired_order_units = p.expired_order_units,
                        .live_units = p.live_units,
                        .buyer_units = record.buyer_units(p.id)});
  }
  std::vector<Check> checks;
  checks.push_back(check_units_accounted(accounted));
  checks.push_back(check_paid_xor_expired(record.paid_and_expired(ids, expiry.answered_paid, expiry.answered_expired)));
  checks.push_back(check_units_returned(returned));
  checks.push_back(check_every_order_settled(expiry.first_wave_accepted, record.settlement(expiry.first_wave_ids)));
  return checks;
}

// The entries of a per-product vector of the client for the products the record has.
template <typename T>
std::vector<T> aligned_to(const std::vector<T>& values, const std::vector<std::string>& product_ids,
                          const std::vector<ProductRecord>& products) {
  std::vector<T> aligned;
  for (const auto& p : products) {
    auto at = std::find(product_ids.begin(), product_ids.end(), p.id) - product_ids.begin();
    aligned.push_back(values[static_cast<std::size_t>(at)]);
  }
  return aligned;
}

}  // namespace

Check check_units_accounted(const std::vector<UnitsAfterExpiry>& products) {
  Check c{"G7a", "every unit paid, sold again or in stock", Verdict::kPass, {}};
  long long available = 0, paid = 0, second = 0, stock = 0;
  std::string problems;
  for (const auto& p : products) {
    available += p.made_available;
    paid += p.first_wave_paid;
    second += p.second_wave_live;
    stock += p.stock;
    const long long accounted = p.first_wave_paid + p.second_wave_live + p.stock;
    if (accounted != p.made_available) {
      add_problem(problems, short_id(p.id) + " " + num(p.made_available) + " units made available, " +
                                num(p.first_wave_paid) + " paid + " + num(p.second_wave_live) + " second wave + " +
                                num(p.stock) + " in stock = " + num(accounted));
    }
    if (p.second_wave_demand >= p.stock_before_second_wave && p.stock != 0) {
      add_problem(problems, short_id(p.id) + " " + num(p.stock) + " units left although the second wave asked for " +
                                num(p.second_wave_demand) + " of " + num(p.stock_before_second_wave));
    }
  }
  c.detail = num(available) + " units made available = " + num(paid) + " in paid first-wave orders + " + num(second) +
             " sold to the second wave + " + num(stock) + " in stock";
  if (!problems.empty()) {
    c.verdict = Verdict::kFail;
    c.detail = problems + " (" + c.detail + ")";
  }
  return c;
}

Check check_paid_xor_expired(const PaidExpiredOverlap& o) {
  Check c{"G7b", "never both PAID and EXPIRED", Verdict::kPass, {}};
  std::string problems;
  if (o.paid_and_expired) add_problem(problems, num(o.paid_and_expired) + " orders with a PAID and an EXPIRED row");
  if (o.expired_with_paid_row) add_problem(problems, num(o.expired_with_paid_row) + " EXPIRED orders with a PAID row");
  if (o.paid_with_expired_row) add_problem(problems, num(o.paid_with_expired_row) + " PAID orders with an EXPIRED row");
  if (o.answered_paid_not_paid) {
    add_problem(problems, num(o.answered_paid_not_paid) + " payments answered 200 whose order is not PAID");
  }
  if (o.answered_expired_not_expired) {
    add_problem(problems,
                num(o.answered_expired_not_expired) + " payments answered ORDER_EXPIRED whose order is not EXPIRED");
  }
  c.detail = num(o.ever_paid) + " orders ever paid, " + num(o.ever_expired) +
             " ever expired, none both; every payment answer matches the record";
  if (!problems.empty()) {
    c.verdict = Verdict::kFail;
    c.detail = problems + " (" + num(o.ever_paid) + " ever paid, " + num(o.ever_expired) + " ever expired)";
  }
  return c;
}

Check check_units_returned(const std::vector<UnitsReturned>& products) {
  Check c{"G7c", "expired units returned exactly once", Verdict::kPass, {}};
  long long ledger = 0, expired = 0, live = 0, buyers = 0;
  std::string problems;
  for (const auto& p : products) {
    ledger += p.ledger_expired;
    expired += p.expired_order_units;
    live += p.live_units;
    buyers += p.buyer_units.value_or(0);
    if (p.ledger_expired != p.expired_order_units) {
      add_problem(problems, short_id(p.id) + " ledger EXPIRED " + num(p.ledger_expired) +
                                " != " + num(p.expired_order_units) + " units in EXPIRED orders");
    }
    if (!p.buyer_units) add_problem(problems, short_id(p.id) + " buyers' counts unreadable in Redis");
    else if (*p.buyer_units != p.live_units) {
      add_problem(problems, short_id(p.id) + " buyers' counts in Redis " + num(*p.buyer_units) +
                                " != units in live orders " + num(p.live_units));
    }
  }
  c.detail = "ledger EXPIRED " + num(ledger) + " = units in EXPIRED orders " + num(expired) +
             "; buyers' counts in Redis " + num(buyers) + " = units in live orders " + num(live);
  if (!problems.empty()) {
    c.verdict = Verdict::kFail;
    c.detail = problems + " (" + c.detail + ")";
  }
  return c;
}

Check check_every_order_settled(long long first_wave_accepted, const Settlement& s) {
  Check c{"G7d", "every first-wave order PAID or EXPIRED", Verdict::kPass, {}};
  const long long expired = s.expired + s.expired_owing;
  c.detail = num(s.paid) + " paid + " + num(expired) + " expired = " + num(first_wave_accepted) +
             " orders accepted by the first wave";
  std::string problems;
  if (s.paid + expired != first_wave_accepted) {
    add_problem(problems, num(s.paid) + " paid + " + num(expired) + " expired != " + num(first_wave_accepted) +
                              " accepted (" + num(s.unsettled) + " orders neither)");
  }
  if (s.expired_owing)
    add_problem(problems, num(s.expired_owing) + " EXPIRED orders whose units Redis was not told of");
  if (!problems.empty()) {
    c.verdict = Verdict::kFail;
    c.detail = problems;
  }
  return c;
}

std::vector<Check> check_sale(SaleRecord& record, const SaleClientView& view, SaleCounts* counts) {
  const auto products = record.products(view.product_ids);
  const auto buyers = record.buyers(view.product_ids);
  const auto found = record.accepted(view.accepted_order_ids);
  if (counts) {
    counts->accepted = static_cast<long long>(view.accepted_order_ids.size() + view.accepted_without_id);
    counts->persisted = buyers.orders;
    counts->failed = 0;
    for (const auto& p : products) counts->failed += p.failed_orders;
    counts->lost = static_cast<long long>(view.accepted_order_ids.size()) - found.orders;
    counts->duplicated = std::max(0LL, buyers.orders - buyers.keys) + static_cast<long long>(view.retries.conflicts);
  }
  // products() leaves out products PostgreSQL does not have; keep the client's figures aligned.
  SaleClientView aligned = view;
  if (products.size() != view.product_ids.size()) {
    aligned.accepted_units = aligned_to(view.accepted_units, view.product_ids, products);
    if (aligned.expiry) {
      aligned.expiry->stock_before_second_wave = aligned_to(view.expiry->stock_before_second_wave, view.product_ids,
                                                            products);
      aligned.expiry->second_wave_demand = aligned_to(view.expiry->second_wave_demand, view.product_ids, products);
    }
  }
  std::vector<Check> checks;
  checks.push_back(check_oversell(products, aligned));
  checks.push_back(check_duplicates(buyers, aligned));
  checks.push_back(check_nothing_lost(found, aligned));
  checks.push_back(check_consistency(products));
  if (products.size() != view.product_ids.size()) checks.back().verdict = Verdict::kFail;
  checks.push_back(check_all_sold(products, aligned));
  if (aligned.expiry) {
    for (auto& c : check_expiry(record, products, aligned)) checks.push_back(std::move(c));
  }
  return checks;
}

}  // namespace orders::bench
