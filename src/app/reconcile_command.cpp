#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "app/commands.hpp"
#include "app/probes.hpp"
#include "app/redis_mode.hpp"
#include "catalog/keys.hpp"
#include "catalog/stock_buckets.hpp"
#include "common/dependency_error.hpp"
#include "common/time.hpp"
#include "ordering/cluster_keys.hpp"
#include "ordering/keys.hpp"
#include "storage/postgres/array.hpp"
#include "storage/postgres/blocking.hpp"
#include "storage/postgres/result.hpp"
#include "storage/rabbitmq/connection.hpp"
#include "storage/rabbitmq/node_list.hpp"
#include "storage/redis/blocking.hpp"
#include "storage/redis/blocking_redis.hpp"
#include "worker/expiry_sweeper.hpp"

namespace orders::app {
namespace {

using redis::Reply;
using Quantities = std::map<std::string, long long>;  // product or user -> units

// A cancel older than this whose units Redis has not confirmed back is stuck (the API died
// between its COMMIT and the return, or Redis timed out), not in flight.
constexpr int kOwedGraceSeconds = 60;
// Readings of one product while its counter moves under traffic, before it is reported busy.
constexpr int kAttempts = 8;

struct OrderUnits {
  std::string id, user;
  std::optional<EpochMs> created_at;                     // the record's createdAt
  std::vector<std::pair<std::string, long long>> items;  // product, quantity
};

// Sale rules as purchases read them from {p:ID}:info (or as the record says they should be).
struct Rules {
  std::string active, price, max, starts, ends, window;
  bool operator==(const Rules&) const = default;
};

struct ProductState {
  std::string id;
  bool active = false;  // still active in the record when read (else nothing is repaired)
  // PostgreSQL, the record.
  long long stock = 0;        // products.stock
  long long ledger = 0;       // sum of inventory_movements.delta
  long long order_units = 0;  // -(ORDER + CANCEL + FAILED movements)
  long long live_units = 0;   // units in CONFIRMED, PAID and COMPLETED orders
  std::string version;        // products.version: publishes older than it are ignored
  Rules rules;
  Quantities live_buyers;  // user -> units in that user's live orders
  // Redis.
  int buckets = 1;  // stockBuckets on a cluster: counter, buyers and rules are over all of them
  bool bucket_rules_differ = false;
  std::optional<long long> counter;
  std::optional<Rules> info;
  Quantities buyers;
  // Derived.
  long long pending = 0;  // units of orders accepted in Redis that the record does not hold live
  long long owed = 0;     // units of cancelled or expired orders Redis has not had back
  long long stuck = 0;    // owed units of cancels and expiries older than the grace period
  Quantities expected_buyers;
};

postgres::Result pg_exec(postgres::BlockingConnection& c, const std::string& sql,
                         const std::vector<std::string>& params = {}) {
  postgres::Params values;
  for (const auto& p : params) values.add(p);
  return c.exec(sql, values);
}

void must(const postgres::Result& r, const char* what) {
  if (!r.ok()) throw std::runtime_error(std::string(what) + ": " + r.error_message());
}

std::string array_of(const std::vector<std::string>& values) {
  return postgres::pg_array(std::vector<std::optional<std::string>>(values.begin(), values.end()));
}

std::string text(const Reply& r) { return r.type == Reply::Type::kString ? r.str : std::string(); }

// The pending order records (accepted, not yet persisted by a worker, or persisted and not yet
// dropped), by id.
std::map<std::string, OrderUnits> pending_orders(redis::BlockingRedis& redis) {
  std::map<std::string, OrderUnits> orders;
  // One Redis: order:ID; a cluster: {o:K}:order:ID on every master (ordering/cluster_keys.hpp).
  const std::string pattern = redis.cluster() ? "{o:*}:order:*" : "order:*";
  for (redis::BlockingConnection* master : redis.masters()) {
    redis::BlockingConnection& c = *master;
    std::string cursor = "0";
    do {
      Reply r = c.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
      if (r.type != Reply::Type::kArray) throw std::runtime_error("SCAN: " + text(r));
      cursor = r.elements[0].str;
      for (const Reply& element : r.elements[1].elements) {
        const std::string& key = element.str;
        Reply order = c.command({"GET", key});
        if (order.type != Reply::Type::kString) continue;  // gone since the SCAN saw it
        boost::system::error_code ec;
        auto v = boost::json::parse(boost::json::string_view(order.str.data(), order.str.size()), ec);
        if (ec || !v.is_object() || !v.as_object().contains("items") || !v.as_object().contains("userId")) continue;
        OrderUnits o;
        o.id = key.substr(key.rfind(':') + 1);
        o.user = std::string(v.at("userId").as_string());
        if (const auto* created = v.as_object().if_contains("createdAt"); created && created->is_string())
          o.created_at = parse_rfc3339(std::string_view(created->as_string()));
        for (const auto& item : v.at("items").as_array()) {
          o.items.emplace_back(std::string(item.at("productId").as_string()),
                               item.at("quantity").to_number<long long>());
        }
        orders.emplace(o.id, std::move(o));
      }
    } while (cursor != "0");
  }
  return orders;
}

// A Redis Cluster's open purchase transactions (begun, not yet committed or aborted: the
// {o:K}:txns of every home partition), by id, with their items as the slots hold them (bucket
// names, "ID" or "ID#b").
std::map<std::string, OrderUnits> open_transactions(redis::BlockingRedis& redis) {
  std::vector<redis::Command> ranges;
  for (int k = 0; k < ordering::cluster_keys::kHomePartitions; ++k) {
    ranges.push_back(redis::Command::of({"ZRANGE", ordering::cluster_keys::transactions(k), "0", "-1"}));
  }
  std::vector<redis::Command> reads;
  std::vector<std::string> ids;
  for (const Reply& r : redis.pipeline(ranges)) {
    if (r.type != Reply::Type::kArray) throw std::runtime_error("open transactions: " + text(r));
    for (const Reply& id : r.elements) {
      ids.push_back(id.str);
      reads.push_back(redis::Command::of({"HMGET", ordering::cluster_keys::transaction(id.str), "user", "items"}));
    }
  }
  std::map<std::string, OrderUnits> open;
  if (reads.empty()) return open;
  const std::vector<Reply> records = redis.pipeline(reads);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Reply& r = records[i];
    if (r.type != Reply::Type::kArray || r.elements.size() != 2 || r.elements[0].type != Reply::Type::kString) continue;
    OrderUnits o;
    o.id = ids[i];
    o.user = r.elements[0].str;
    o.items = ordering::cluster_keys::parse_items_text(text(r.elements[1]));
    open.emplace(o.id, std::move(o));
  }
  return open;
}

// The product a bucket name belongs to ("ID#b" -> "ID").
std::string product_of_bucket(const std::string& bucket) { return bucket.substr(0, bucket.find('#')); }

// Of an open transaction, the items over `products` whose slot holds its part (taken there: the
// units are out of the counter, and the order is neither pending nor in the record), as product
// ids; nothing when no take over them ran, or it was undone.
OrderUnits taken_items(redis::BlockingRedis& redis, const OrderUnits& transaction,
                       const std::set<std::string>& products) {
  OrderUnits taken{transaction.id, transaction.user, std::nullopt, {}};
  std::vector<std::string> buckets;
  for (const auto& [bucket, qty] : transaction.items) buckets.push_back(bucket);
  const std::vector<ordering::cluster_keys::SlotGroup> groups = ordering::cluster_keys::group_by_slot(buckets);
  for (const auto& g : groups) {
    bool concerned = false;
    for (std::size_t i : g.positions) concerned = concerned || products.count(product_of_bucket(buckets[i])) > 0;
    if (!concerned) continue;
    Reply part = redis.command({"EXISTS", ordering::cluster_keys::part(g.first, transaction.id)});
    if (part.type != Reply::Type::kInteger || part.integer != 1) continue;
    for (std::size_t i : g.positions) {
      taken.items.emplace_back(product_of_bucket(buckets[i]), transaction.items[i].second);
    }
  }
  return taken;
}

std::string describe(const Quantities& expected, const Quantities& actual) {
  int differ = 0;
  for (const auto& [user, units] : expected) differ += !actual.count(user) || actual.at(user) != units;
  for (const auto& [user, units] : actual) differ += !expected.count(user);
  return "buyers " + std::to_string(differ) + (differ == 1 ? " user" : " users");
}

// One reading of the products `ids`, consistent although purchases, workers and cancels run:
//   1. WATCH their counters: every Redis change that matters for them (a purchase, a return of
//      units, a released reservation, a stock change) moves a counter, so EXEC fails if any
//      happened while we read.
//   2. Counters, buyer counts, sale rules, then the pending order records.
//   3. PostgreSQL after the pending records, with the product rows share-locked: a worker
//      commits before it drops a pending record, so an order seen pending and already
//      committed is found live in the record and counted once; no worker or cancel moves the
//      stock of these products while we read.
//   4. The once-markers of cancelled or expired orders whose return Redis has not confirmed.
//   5. MULTI [the repairs] EXEC: applied only if no counter moved since step 1.
// Returns false when a counter moved (nothing was changed; read again).
struct Reading {
  std::vector<ProductState> products;
  std::vector<OrderUnits> owed;             // cancelled or expired orders whose units go back with --fix
  std::vector<std::string> returned_flags;  // cancelled or expired orders Redis has had back, flag unset
};

// On a Redis Cluster a transaction spans one slot: with --fix the caller passes the products of
// one slot (`ids` share it) and the WATCH, MULTI and EXEC run on that slot's master; a report
// (no --fix) reads every product without a WATCH. Either way every counter is read again at the
// end (a bucket's may be in another slot): the reading holds only if none moved.
bool read_once(postgres::BlockingConnection& pg, redis::BlockingRedis& redis, const std::vector<std::string>& ids,
               bool fix, Reading& out) {
  out = Reading{};
  const bool watching = !redis.cluster() || fix;
  const std::uint16_t slot = redis::key_slot(catalog::keys::stock(ids.front()));
  redis::BlockingConnection& slot_conn = redis.connection_for(slot);
  if (watching) {
    std::vector<std::string> watch{"WATCH"};
    for (const auto& id : ids) watch.push_back(catalog::keys::stock(id));
    Reply watched = slot_conn.command(watch);
    if (watched.is_error()) throw std::runtime_error("WATCH: " + text(watched));
  }
  // Leaves the connection without a WATCH whatever happens below.
  struct Unwatch {
    redis::BlockingConnection* c;
    bool armed = true;
    ~Unwatch() {
      if (armed) c->command({"UNWATCH"});
    }
  } unwatch{&slot_conn, watching};

  // On a cluster a product may be split over buckets ({p:ID}:buckets); one Redis has one counter.
  std::map<std::string, int> bucket_counts;
  auto buckets_of = [&](const std::string& product) {
    if (!redis.cluster()) return 1;
    auto it = bucket_counts.find(product);
    if (it != bucket_counts.end()) return it->second;
    Reply n = redis.command({"GET", catalog::keys::buckets(product)});
    const int count = n.type == Reply::Type::kString ? std::clamp(std::stoi(n.str), 1, catalog::buckets::kMaxBuckets)
                                                     : 1;
    return bucket_counts[product] = count;
  };
  auto rules_in = [&](const std::string& bucket) -> std::optional<Rules> {
    Reply info = redis.command(
        {"HMGET", catalog::keys::info(bucket), "active", "price", "max", "starts", "ends", "window"});
    if (info.type != Reply::Type::kArray || info.elements.size() != 6 ||
        info.elements[0].type != Reply::Type::kString) {
      return std::nullopt;
    }
    const auto& e = info.elements;
    return Rules{text(e[0]), text(e[1]), text(e[2]), text(e[3]), text(e[4]), text(e[5])};
  };
  std::map<std::string, ProductState> by_id;
  std::vector<std::pair<std::string, Reply>> counters_read;  // cluster: each counter as first read
  for (const auto& id : ids) {
    ProductState p;
    p.id = id;
    p.buckets = buckets_of(id);
    for (int b = 0; b < p.buckets; ++b) {
      const std::string bucket = catalog::keys::bucket(id, b);
      Reply counter = redis.command({"GET", catalog::keys::stock(bucket)});
      if (redis.cluster()) counters_read.emplace_back(catalog::keys::stock(bucket), counter);
      if (counter.type == Reply::Type::kString) p.counter = p.counter.value_or(0) + std::stoll(text(counter));
      else if (b == 0) break;  // no counter at all: "no Redis counter"
      Reply buyers = redis.command({"HGETALL", ordering::keys::buyers(bucket)});
      for (std::size_t i = 0; buyers.type == Reply::Type::kArray && i + 1 < buyers.elements.size(); i += 2) {
        long long units = std::stoll(text(buyers.elements[i + 1]));
        if (units > 0) p.buyers[text(buyers.elements[i])] += units;
      }
      std::optional<Rules> rules = rules_in(bucket);
      if (b == 0) p.info = rules;
      else if (rules != p.info) p.bucket_rules_differ = true;
    }
    if (!p.counter) p.info = rules_in(id);
    by_id.emplace(id, std::move(p));
  }
  // On a cluster a purchase is several scripts: after its takes and before its commit, the units
  // are out of the product's counter while the order is only an open transaction on its home
  // slot. Its open transactions are read before and after the pending copies: a commit moves an
  // order from the first to the second, a release back, and either way one of the readings
  // sees it. Its part in the product slot says whether the take ran; no take, untake or
  // return ran during the reading (they move a counter: checked at the end).
  std::map<std::string, OrderUnits> open;
  if (redis.cluster()) open = open_transactions(redis);
  auto pending = pending_orders(redis);
  if (redis.cluster()) {
    for (auto& [id, o] : open_transactions(redis)) open.emplace(id, std::move(o));
    const std::set<std::string> products(ids.begin(), ids.end());
    for (const auto& [id, transaction] : open) {
      if (pending.count(id)) continue;
      OrderUnits taken = taken_items(redis, transaction, products);
      if (!taken.items.empty()) pending.emplace(id, std::move(taken));
    }
  }

  std::vector<std::string> pending_ids;
  for (const auto& [id, o] : pending) pending_ids.push_back(id);
  const std::string product_array = array_of(ids);
  postgres::Transaction tx(pg);  // rolled back on any way out before the commit
  // In id order, as the workers and cancels lock them.
  auto locked = pg_exec(pg, "SELECT id FROM products WHERE id = ANY($1::uuid[]) ORDER BY id FOR SHARE",
                        {product_array});
  if (!locked.ok() && (locked.sqlstate() == "40P01" || locked.sqlstate() == "40001")) return false;
  must(locked, "lock products");
  auto rows = pg_exec(pg,
                      "SELECT p.id, p.stock,"
                      " COALESCE((SELECT sum(delta) FROM inventory_movements m WHERE m.product_id = p.id), 0),"
                      " COALESCE((SELECT -sum(delta) FROM inventory_movements m WHERE m.product_id = p.id"
                      "   AND m.reason IN ('ORDER', 'CANCEL', 'FAILED', 'EXPIRED')), 0),"
                      " COALESCE((SELECT sum(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id"
                      "   WHERE i.product_id = p.id AND o.status IN ('CONFIRMED', 'PAID', 'COMPLETED')), 0),"
                      " p.is_active, (p.price * 100)::bigint, COALESCE(p.max_per_user::text, ''),"
                      " COALESCE(((extract(epoch FROM p.sale_starts_at) * 1000)::bigint)::text, ''),"
                      " COALESCE(((extract(epoch FROM p.sale_ends_at) * 1000)::bigint)::text, ''), p.version,"
                      " COALESCE(p.payment_window_seconds::text, '')"
                      " FROM products p WHERE p.id = ANY($1::uuid[])",
                      {product_array});
  must(rows, "products");
  for (int i = 0; i < rows.rows(); ++i) {
    ProductState& p = by_id.at(std::string(rows.get(i, 0)));
    p.stock = rows.get_int(i, 1);
    p.ledger = rows.get_int(i, 2);
    p.order_units = rows.get_int(i, 3);
    p.live_units = rows.get_int(i, 4);
    p.rules = Rules{rows.get_bool(i, 5) ? "1" : "0", std::string(rows.get(i, 6)), std::string(rows.get(i, 7)),
                    std::string(rows.get(i, 8)),     std::string(rows.get(i, 9)), std::string(rows.get(i, 11))};
    p.version = rows.get(i, 10);
    p.active = rows.get_bool(i, 5);
  }
  // Which pending records the record already holds, and how.
  std::map<std::string, std::string> status_of;
  auto statuses = pg_exec(pg, "SELECT id, status FROM orders WHERE id = ANY($1::uuid[])", {array_of(pending_ids)});
  must(statuses, "pending statuses");
  for (int i = 0; i < statuses.rows(); ++i) status_of[std::string(statuses.get(i, 0))] = statuses.get(i, 1);
  auto live = pg_exec(
      pg,
      "SELECT i.product_id, o.user_id, sum(i.quantity) FROM order_items i JOIN orders o ON o.id = "
      "i.order_id WHERE i.product_id = ANY($1::uuid[]) AND o.status NOT IN ('CANCELLED', 'FAILED', 'EXPIRED')"
      " GROUP BY i.product_id, o.user_id",
      {product_array});
  must(live, "buyers");
  for (int i = 0; i < live.rows(); ++i)
    by_id.at(std::string(live.get(i, 0))).live_buyers[std::string(live.get(i, 1))] = live.get_int(i, 2);
  // Cancelled orders (over these products) whose units Redis has not confirmed back; every
  // item of them, as one marker covers the whole order.
  auto owed = pg_exec(pg,
                      "SELECT o.id, o.user_id, i.product_id, i.quantity, o.updated_at < now() - make_interval(secs => "
                      "$2::int) FROM orders o JOIN order_items i ON i.order_id = o.id"
                      " WHERE o.status IN ('CANCELLED', 'EXPIRED') AND o.units_returned_at IS NULL AND EXISTS (SELECT 1"
                      "   FROM order_items x WHERE x.order_id = o.id AND x.product_id = ANY($1::uuid[])) ORDER BY o.id",
                      {product_array, std::to_string(kOwedGraceSeconds)});
  must(owed, "owed returns");
  tx.commit();

  std::map<std::string, std::pair<OrderUnits, bool>> owed_orders;  // id -> units, stuck
  for (int i = 0; i < owed.rows(); ++i) {
    auto& [o, stuck] = owed_orders[std::string(owed.get(i, 0))];
    o.id = owed.get(i, 0);
    o.user = owed.get(i, 1);
    o.items.emplace_back(std::string(owed.get(i, 2)), owed.get_int(i, 3));
    stuck = owed.get_bool(i, 4);
  }

  auto add_units = [&](const OrderUnits& o, long long ProductState::*field, bool stuck) {
    for (const auto& [product, qty] : o.items) {
      auto it = by_id.find(product);
      if (it == by_id.end()) continue;
      it->second.*field += qty;
      if (stuck) it->second.stuck += qty;
      it->second.expected_buyers[o.user] += qty;
    }
  };
  // A pending record the record holds live was counted by the record's stock already.
  for (const auto& [id, o] : pending) {
    auto s = status_of.find(id);
    const bool live_in_record = s != status_of.end() && s->second != "CANCELLED" && s->second != "FAILED" &&
                                s->second != "EXPIRED";
    if (!live_in_record) add_units(o, &ProductState::pending, false);
  }
  for (auto& [id, entry] : owed_orders) {
    if (pending.count(id)) continue;  // its return drops the pending record: counted above
    bool returned = false;
    if (!redis.cluster()) {
      Reply marker = redis.command({"EXISTS", ordering::keys::returned(id)});
      returned = marker.type == Reply::Type::kInteger && marker.integer == 1;
    } else {
      // Every product slot of the order has its once-marker (cluster_return.lua); with --fix,
      // those of the slot this reading repairs (the others have their own reading).
      // (In the bucket each item came from: its user's home bucket.)
      std::vector<std::string> products;
      for (const auto& [product, qty] : entry.first.items) {
        products.push_back(catalog::buckets::home_bucket_name(product, entry.first.user, buckets_of(product)));
      }
      returned = true;
      for (const auto& g : ordering::cluster_keys::group_by_slot(products)) {
        if (fix && g.slot != slot) continue;
        Reply marker = redis.command({"EXISTS", ordering::cluster_keys::part_returned(g.first, id)});
        returned = returned && marker.type == Reply::Type::kInteger && marker.integer == 1;
      }
    }
    if (returned) {
      out.returned_flags.push_back(id);  // Redis has them; only the flag is missing
      continue;
    }
    add_units(entry.first, &ProductState::owed, entry.second);
    // --fix returns owed units within one slot's transaction: not those of a split product
    // (its buckets span slots); the sweeper's return, which routes per bucket, brings them back.
    bool split = false;
    for (const auto& [product, qty] : entry.first.items) split = split || buckets_of(product) > 1;
    if (!(fix && split)) out.owed.push_back(entry.first);
  }
  for (auto& [id, p] : by_id) {
    for (const auto& [user, units] : p.live_buyers) p.expected_buyers[user] += units;
  }

  // The repairs, all or nothing, only if no counter moved. Owed units go back with them: the
  // counters are set as if returned, and the markers say so to any later DELETE.
  auto queued = [&](const std::vector<std::string>& command) {
    Reply r = slot_conn.command(command);
    if (r.is_error()) throw std::runtime_error(command[0] + ": " + text(r));
  };
  // Queued in MULTI, an EVALSHA of a script Redis forgot fails only in EXEC (after the other
  // repairs applied): the script is loaded afresh right before.
  const redis::Script& kPublish = redis::script("product_publish");
  const std::string publish_sha = fix ? slot_conn.load(kPublish) : std::string();
  // A cluster's counters are read once more: one that moved means a purchase, a return or a
  // transfer ran while we read, and the reading may hold half of it (the WATCH covers only the
  // counters in this slot).
  for (const auto& [key, first] : counters_read) {
    Reply now = redis.command({"GET", key});
    if (now.type != first.type || now.str != first.str) return false;
  }
  if (!watching) {
    for (const auto& id : ids) out.products.push_back(std::move(by_id.at(id)));
    return true;
  }
  queued({"MULTI"});
  if (fix) {
    for (auto& [id, p] : by_id) {
      if (!p.active) continue;      // deactivated meanwhile: no counter comes back
      if (p.buckets > 1) continue;  // its buckets span slots: reported, not repaired (judge)
      const long long target = p.stock - p.pending;
      if (!p.counter || *p.counter != target) queued({"SET", catalog::keys::stock(id), std::to_string(target)});
      Quantities target_buyers = p.expected_buyers;
      for (const OrderUnits& o : out.owed) {
        for (const auto& [product, qty] : o.items) {
          if (product == id && (target_buyers[o.user] -= qty) <= 0) target_buyers.erase(o.user);
        }
      }
      std::erase_if(target_buyers, [](const auto& e) { return e.second <= 0; });
      if (target_buyers != p.buyers) {
        queued({"DEL", ordering::keys::buyers(id)});
        std::vector<std::string> hset{"HSET", ordering::keys::buyers(id)};
        for (const auto& [user, units] : target_buyers) {
          hset.push_back(user);
          hset.push_back(std::to_string(units));
          if (hset.size() >= 1002) {
            queued(hset);
            hset.resize(2);
          }
        }
        if (hset.size() > 2) queued(hset);
      }
      if (p.rules.active == "1" && (!p.info || *p.info != p.rules)) {
        queued({"EVALSHA", publish_sha, "4", catalog::keys::info(id), catalog::keys::stock(id),
                catalog::keys::cache(id), catalog::keys::gen(id), p.rules.price, p.rules.max, p.rules.starts,
                p.rules.ends, "", p.version, p.rules.window});
      }
    }
    for (const OrderUnits& o : out.owed) {
      const std::string ttl = std::to_string(ordering::keys::kReturnedMarkerTtlSeconds);
      if (!redis.cluster()) {
        queued({"SET", ordering::keys::returned(o.id), "1", "NX", "EX", ttl});
        continue;
      }
      std::vector<std::string> products;
      for (const auto& [product, qty] : o.items) products.push_back(product);
      for (const auto& g : ordering::cluster_keys::group_by_slot(products)) {
        if (g.slot == slot) queued({"SET", ordering::cluster_keys::part_returned(g.first, o.id), "1", "NX", "EX", ttl});
      }
    }
  }
  Reply exec = slot_conn.command({"EXEC"});
  unwatch.armed = false;
  if (exec.type == Reply::Type::kNil) return false;
  if (exec.type != Reply::Type::kArray) throw std::runtime_error("EXEC: " + text(exec));
  for (const Reply& repair : exec.elements) {
    if (repair.is_error()) throw std::runtime_error("repair: " + text(repair));
  }
  for (const auto& id : ids) out.products.push_back(std::move(by_id.at(id)));
  return true;
}

struct StaleOrder {
  std::string id;
  long long age_seconds = 0;
};

// Pending order records older than `stale_after` that PostgreSQL does not hold: orders no worker
// persisted (a stopped worker, a message in orders.dead). Redis is read before the record, and a
// worker commits before it drops a pending record, so one found in the record is not stale.
std::vector<StaleOrder> stale_orders(postgres::BlockingConnection& pg, redis::BlockingRedis& redis,
                                     int stale_after_minutes) {
  const EpochMs now = now_ms();
  const EpochMs limit = static_cast<EpochMs>(stale_after_minutes) * 60'000;
  std::vector<StaleOrder> old;
  std::vector<std::string> ids;
  for (const auto& [id, o] : pending_orders(redis)) {
    if (!o.created_at || now - *o.created_at <= limit) continue;
    old.push_back({id, (now - *o.created_at) / 1000});
    ids.push_back(id);
  }
  if (old.empty()) return old;
  // As text: a key that is not a UUID is simply not in the record.
  auto held = pg_exec(pg, "SELECT id::text FROM orders WHERE id::text = ANY($1::text[])", {array_of(ids)});
  must(held, "stale orders");
  std::set<std::string> in_record;
  for (int i = 0; i < held.rows(); ++i) in_record.emplace(held.get(i, 0));
  std::erase_if(old, [&](const StaleOrder& o) { return in_record.count(o.id) > 0; });
  return old;
}

// The messages in orders.dead, or nullopt (said on stderr) when RabbitMQ cannot tell: the other
// checks do not need it.
std::optional<std::uint32_t> dead_letters(const std::vector<config::AmqpEndpoint>& amqp) {
  std::string why;
  try {
    std::unique_ptr<rabbitmq::Connection> connection = rabbitmq::NodeList(amqp).connect(std::chrono::seconds(3));
    if (auto count = connection->queue_message_count(rabbitmq::kDeadQueue)) return count;
    why = "RabbitMQ gave no message count";
  } catch (const std::exception& e) {
    why = e.what();
  }
  const std::string message = "dead letters not checked (" + why + "); the other checks go on";
  if (logging::format() == logging::Format::kJson) spdlog::warn("orders reconcile: {}", message);
  else std::cerr << "orders reconcile: " << message << '\n';
  return std::nullopt;
}

// What reconcile found in one product, in the table's words.
struct ProductReport {
  const ProductState* state = nullptr;
  std::vector<std::string> problems;
  std::vector<std::string> fixed;  // with --fix: what changed in Redis
};

ProductReport judge(const ProductState& p, bool fix) {
  ProductReport r{&p, {}, {}};
  auto& problems = r.problems;
  const long long expected_counter = p.stock - p.pending - p.owed;
  if (!p.counter) problems.push_back("no Redis counter");
  else if (*p.counter != expected_counter)
    problems.push_back("counter " + std::to_string(*p.counter - expected_counter));
  if (p.stuck > 0) problems.push_back(std::to_string(p.stuck) + " units owed by cancelled or expired orders");
  Quantities expected_buyers = p.expected_buyers;
  std::erase_if(expected_buyers, [](const auto& e) { return e.second <= 0; });
  if (expected_buyers != p.buyers) problems.push_back(describe(expected_buyers, p.buyers));
  if (!p.info) problems.push_back("no sale rules");
  else if (*p.info != p.rules) problems.push_back("sale rules differ");
  if (p.bucket_rules_differ) problems.push_back("sale rules differ between buckets");
  if (p.ledger != p.stock) problems.push_back("ledger " + std::to_string(p.ledger - p.stock));
  if (p.order_units != p.live_units) problems.push_back("orders " + std::to_string(p.order_units - p.live_units));
  if (fix && p.buckets > 1 && !problems.empty()) {
    // One repair transaction holds one slot; a split product's keys are in `buckets` slots.
    problems.push_back("not repaired: split over " + std::to_string(p.buckets) +
                       " buckets (set its stock with PUT /api/products/{id})");
  } else if (fix) {
    const long long target = p.stock - p.pending;
    if (!p.counter || *p.counter != target) {
      r.fixed.push_back(p.id + " counter " + (p.counter ? std::to_string(*p.counter) : "-") + " -> " +
                        std::to_string(target));
    }
    if (expected_buyers != p.buyers || p.owed) r.fixed.push_back(p.id + " buyer counts from the record");
    if (!p.info || *p.info != p.rules) r.fixed.push_back(p.id + " sale rules from the record");
  }
  return r;
}

}  // namespace

// Compares, per active product, the Redis state with PostgreSQL (the record) and the ledger
// with the orders. Expected at rest and in flight alike:
//   counter = products.stock - pending units - owed units
//       (pending: accepted in Redis, not live in the record; owed: cancelled, not yet back)
//   buyer counts = per user, units in live orders + pending + owed
//   sale rules in {p:ID}:info = the record's
//   products.stock = sum of the ledger's deltas
//   units taken by orders in the ledger = units in CONFIRMED/PAID/COMPLETED orders
// A cancel or expiry older than a minute whose units are still owed is drift too, and so is an
// unpaid order more than a minute past its payment deadline that no sweeper expired (no worker
// runs); --fix expires those first, as the sweeper would (worker/expiry_sweeper.hpp). --fix makes Redis
// follow the record: counters, buyer counts and sale rules (it rebuilds them after a Redis
// loss), and owed units go back (once: the markers and orders.units_returned_at say so).
// Outside the products: pending order records older than --stale-after that the record does
// not hold, and messages in orders.dead, are drift that --fix only reports. Exit 0 without
// drift, 1 with drift; RabbitMQ unreachable is said on stderr and is not drift by itself.
int run_reconcile(const config::Dependencies& deps, const ReconcileOptions& options) {
  const bool fix = options.fix;
  config::PostgresEndpoint pg;
  config::RedisEndpoint redis_endpoint;
  std::vector<redis::ClusterNode> seeds;
  std::vector<config::AmqpEndpoint> amqp;
  try {
    pg = config::parse_postgres_url(deps.database_url);
    redis_endpoint = config::parse_redis_url(deps.redis_url);
    amqp = config::parse_amqp_urls(deps.rabbitmq_url);
    seeds = cluster_seeds(deps, redis_endpoint);
    probe_postgres(pg);
    if (seeds.empty()) probe_redis(redis_endpoint);
    else probe_redis_cluster(redis_endpoint, seeds);
  } catch (const config::ConfigError& e) {
    report_error("reconcile", e.what());
    return kExitConfig;
  } catch (const DependencyUnavailable& e) {
    report_error("reconcile", e.what());
    return kExitUnavailable;
  }
  std::vector<ProductState> products;
  std::vector<std::string> busy;
  std::vector<StaleOrder> stale;
  std::size_t owed_orders = 0;
  long long overdue = 0;  // unpaid orders past their deadline by more than a minute, not expired
  int expired_now = 0;    // --fix: expired by this run
  try {
    postgres::ConnectOptions pg_options;
    pg_options.display = pg.display();
    auto conn = postgres::BlockingConnection::connect(pg.conninfo, pg_options);
    auto redis = redis::BlockingRedis::connect(redis::RedisTarget{redis_endpoint, seeds}, std::chrono::seconds(5));
    if (fix) {
      // Before the reading: what the sweeper would have done had a worker run.
      for (;;) {
        const int batch = worker::SweepSettings{}.batch;
        auto due = worker::expire_due(conn, batch);
        worker::return_expired_units(redis, conn, due);
        expired_now += static_cast<int>(due.size());
        if (static_cast<int>(due.size()) < batch) break;
      }
    }
    auto late = pg_exec(conn,
                        "SELECT count(*) FROM orders WHERE status = 'CONFIRMED'"
                        " AND expires_at < now() - interval '1 minute'");
    must(late, "overdue orders");
    overdue = late.get_int(0, 0);
    auto active = pg_exec(conn, "SELECT id FROM products WHERE is_active ORDER BY created_at, id");
    must(active, "products");
    std::vector<std::string> ids;
    for (int i = 0; i < active.rows(); ++i) ids.emplace_back(active.get(i, 0));

    std::vector<std::string> flags;
    auto settle = [&](const Reading& r) {
      for (const auto& o : r.owed) flags.push_back(o.id);
      owed_orders += r.owed.size();
      flags.insert(flags.end(), r.returned_flags.begin(), r.returned_flags.end());
    };
    // Every product in one reading at rest; under traffic, one at a time, each read again
    // while its counter moves.
    Reading all;
    if (redis.cluster() && fix) {
      // A transaction per product slot, on its master: the products of one slot together (an
      // owed order's once-marker there covers all of them).
      std::map<std::uint16_t, std::vector<std::string>> by_slot;
      for (const auto& id : ids) by_slot[redis::key_slot(catalog::keys::stock(id))].push_back(id);
      for (const auto& [slot, group] : by_slot) {
        Reading one;
        bool done = false;
        for (int attempt = 0; attempt < kAttempts && !done; ++attempt) {
          if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
          done = read_once(conn, redis, group, fix, one);
        }
        if (!done) {
          busy.insert(busy.end(), group.begin(), group.end());
          continue;
        }
        settle(one);
        for (auto& p : one.products) products.push_back(std::move(p));
      }
    } else if (!ids.empty() && read_once(conn, redis, ids, fix, all)) {
      products = std::move(all.products);
      settle(all);
    } else {
      for (const auto& id : ids) {
        Reading one;
        bool done = false;
        for (int attempt = 0; attempt < kAttempts && !done; ++attempt) {
          if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
          done = read_once(conn, redis, {id}, fix, one);
        }
        if (!done) {
          busy.push_back(id);
          continue;
        }
        settle(one);
        products.push_back(std::move(one.products.front()));
      }
    }
    if (fix && !flags.empty()) {
      // Redis has these orders' units back (the markers say so): the record says so too.
      must(pg_exec(conn,
                   "UPDATE orders SET units_returned_at = now() WHERE id = ANY($1::uuid[])"
                   " AND status IN ('CANCELLED', 'EXPIRED')"
                   " AND units_returned_at IS NULL",
                   {array_of(flags)}),
           "flag returned units");
    }
    if (options.stale_after_minutes > 0) stale = stale_orders(conn, redis, options.stale_after_minutes);
  } catch (const DependencyUnavailable& e) {
    report_error("reconcile", e.what());
    return kExitUnavailable;
  } catch (const std::exception& e) {
    report_error("reconcile", e.what());
    return kExitFailure;
  }
  const std::optional<std::uint32_t> dead = dead_letters(amqp);

  int drifting = 0;
  std::vector<ProductReport> reports;
  for (const auto& p : products) {
    if (!p.active) continue;  // deactivated while reconcile ran
    reports.push_back(judge(p, fix));
    drifting += !reports.back().problems.empty();
  }
  std::vector<std::string> fixed;
  for (const auto& r : reports) fixed.insert(fixed.end(), r.fixed.begin(), r.fixed.end());
  if (fix && owed_orders)
    fixed.push_back("units of " + std::to_string(owed_orders) + " cancelled or expired orders returned to Redis");
  // With --fix, Redis drift is repaired; drift in the record (ledger, orders) is not, nor are
  // stale orders and dead letters (a person decides: README "Dead-letter queue").
  int left = 0;
  for (const auto& p : products) left += p.ledger != p.stock || p.order_units != p.live_units;
  for (const auto& r : reports) left += r.state->buckets > 1 && !r.problems.empty();
  if (expired_now > 0) {
    fixed.push_back(std::to_string(expired_now) + " unpaid orders past their payment deadline expired");
  }
  const bool outside = !stale.empty() || (dead && *dead > 0) || overdue > 0;
  const int code = (fix ? left != 0 : drifting != 0) || outside ? 1 : 0;

  if (logging::format() == logging::Format::kJson) {
    boost::json::array rows;
    for (const auto& r : reports) {
      const ProductState& p = *r.state;
      boost::json::array drift(r.problems.begin(), r.problems.end());
      rows.push_back(boost::json::object{{"id", p.id},
                                         {"counter", p.counter ? boost::json::value(*p.counter) : nullptr},
                                         {"pending", p.pending},
                                         {"owed", p.owed},
                                         {"stock", p.stock},
                                         {"ledger", p.ledger},
                                         {"orders", p.live_units},
                                         {"drift", std::move(drift)}});
    }
    boost::json::array stale_rows;
    for (const auto& o : stale) stale_rows.push_back(boost::json::object{{"id", o.id}, {"ageSeconds", o.age_seconds}});
    boost::json::object summary{{"products", std::move(rows)},
                                {"busy", boost::json::array(busy.begin(), busy.end())},
                                {"staleOrders", std::move(stale_rows)},
                                // null: RabbitMQ could not tell (said on stderr)
                                {"deadLetters", dead ? boost::json::value(*dead) : nullptr},
                                {"overdueOrders", overdue},
                                {"drifting", drifting},
                                {"fixed", boost::json::array(fixed.begin(), fixed.end())}};
    std::cout << boost::json::serialize(summary) << std::endl;
    return code;
  }

  std::printf("%-36s %10s %8s %6s %8s %10s %8s  %s\n", "product", "counter", "pending", "owed", "stock", "ledger",
              "orders", "drift");
  for (const auto& r : reports) {
    const ProductState& p = *r.state;
    std::string drift;
    for (const auto& problem : r.problems) drift += (drift.empty() ? "" : ", ") + problem;
    if (r.problems.empty()) drift = "none";
    std::printf("%-36s %10s %8lld %6lld %8lld %10lld %8lld  %s\n", p.id.c_str(),
                p.counter ? std::to_string(*p.counter).c_str() : "-", p.pending, p.owed, p.stock, p.ledger,
                p.live_units, drift.c_str());
    for (const auto& change : r.fixed) std::printf("fixed: %s\n", change.c_str());
  }
  for (const auto& id : busy) {
    std::printf("%-36s busy: its counter moved during each of %d readings; run again\n", id.c_str(), kAttempts);
  }
  if (fix && owed_orders)
    std::printf("fixed: units of %zu cancelled or expired orders returned to Redis\n", owed_orders);
  if (expired_now > 0) std::printf("fixed: %d unpaid orders past their payment deadline expired\n", expired_now);
  if (overdue > 0) {
    std::printf(
        "overdue: %lld unpaid orders more than a minute past their payment deadline, not expired (no "
        "worker sweeps: start one, or run with --fix)\n",
        overdue);
  }
  for (const auto& o : stale) {
    std::printf(
        "stale: order %s pending in Redis for %lld s, not in PostgreSQL (no worker persisted it: a stopped "
        "worker or a dead letter)\n",
        o.id.c_str(), o.age_seconds);
  }
  if (dead && *dead > 0) {
    std::printf(
        "dead letters: %u in orders.dead (README \"Dead-letter queue orders.dead\": inspect, fix the cause, "
        "re-drive)\n",
        *dead);
  }
  if (fix && outside) std::printf("not fixed: --fix only reports stale orders and dead letters\n");
  std::printf("%zu products, %d with drift, %zu busy%s\n", products.size() + busy.size(), drifting, busy.size(),
              fix ? ", Redis repaired from the record" : "");
  return code;
}

}  // namespace orders::app
