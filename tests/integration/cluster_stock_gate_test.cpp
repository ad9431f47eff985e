// The purchase on Redis Cluster (ordering::ClusterStockGate over redis::ClusterClient) against a
// private 3-master cluster: all-or-nothing across slots, idempotency, real concurrency checked
// against the counters, and each point where an API can stop between the steps.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <iostream>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "catalog/keys.hpp"
#include "catalog/stock_buckets.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "config/config.hpp"
#include "ordering/bucket_transfer.hpp"
#include "ordering/cluster_keys.hpp"
#include "ordering/cluster_stock_gate.hpp"
#include "ordering/keys.hpp"
#include "ordering/order_event.hpp"
#include "ordering/reference_number.hpp"
#include "storage/redis/cluster_client.hpp"
#include "support/private_redis_cluster.hpp"
#include "support/purchases.hpp"
#include "support/run_coroutine.hpp"

using namespace orders;
using namespace std::chrono_literals;
using ::orders::testing::expect_same_answer;
using ::orders::testing::make_purchase;
using orders::testing::PrivateRedisCluster;
using ::orders::testing::Purchase;
using Kind = ordering::ReserveReply::Kind;
namespace asio = boost::asio;
namespace ck = ordering::cluster_keys;

namespace {

// Two products whose keys are in different slots, on different masters when possible.
std::pair<std::string, std::string> products_in_two_slots(const PrivateRedisCluster& cluster) {
  const std::string a = uuid::make_v7();
  const int master_a = cluster.master_of_slot(redis::key_slot(catalog::keys::stock(a)));
  for (int i = 0; i < 200; ++i) {
    std::string b = uuid::make_v7();
    if (cluster.master_of_slot(redis::key_slot(catalog::keys::stock(b))) != master_a) return {a, b};
  }
  throw std::runtime_error("no product on another master");
}

class ClusterStockGateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new PrivateRedisCluster(20470); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    client_ = std::make_unique<redis::ClusterClient>(
        io_.get_executor(), std::vector<redis::ClusterNode>{{"127.0.0.1", cluster_->port(0)}}, config::RedisEndpoint{});
    client_->start();
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (client_->masters().empty() && std::chrono::steady_clock::now() < until) io_.run_one_for(50ms);
    ASSERT_FALSE(client_->masters().empty());
    settings_.outbox_lease = 400ms;  // short leases: the crash-point tests wait them out
    gate_ = std::make_unique<ordering::ClusterStockGate>(*client_, settings_);
  }
  void TearDown() override { client_->stop(); }

  redis::Reply cmd(std::vector<std::string> words) {
    return orders::test::run_bounded(
        io_, [](redis::ClusterClient& c, std::vector<std::string> w) -> asio::awaitable<redis::Reply> {
          std::vector<std::string_view> args(w.begin(), w.end());
          co_return co_await c.command(args);
        }(*client_, std::move(words)));
  }
  // A product on sale in Redis as the catalog publishes it: price in cents, optional limit.
  void put_product(const std::string& id, long long stock, long long price_cents = 1000, long long max = 0) {
    std::vector<std::string> hset{"HSET", catalog::keys::info(id), "active", "1", "price", std::to_string(price_cents)};
    if (max > 0) {
      hset.push_back("max");
      hset.push_back(std::to_string(max));
    }
    cmd(hset);
    cmd({"SET", catalog::keys::stock(id), std::to_string(stock)});
  }
  long long stock_of(const std::string& id) { return std::stoll(cmd({"GET", catalog::keys::stock(id)}).str); }
  long long bought(const std::string& id, const std::string& user) {
    auto r = cmd({"HGET", ordering::keys::buyers(id), user});
    return r.type == redis::Reply::Type::kString ? std::stoll(r.str) : 0;
  }

  // A reservation as the intake builds it, with the id the gate picks.
  std::unique_ptr<Purchase> purchase(const std::string& user, std::vector<std::pair<std::string, long long>> items,
                                     std::optional<std::string> key = std::nullopt) {
    ordering::OrderRequest request;
    request.user_id = user;
    request.idempotency_key = key;
    return make_purchase(user, items, std::move(key), gate_->make_order_id(request));
  }
  ordering::ReserveReply reserve(const Purchase& p) {
    return orders::test::run_bounded(io_, gate_->reserve(p.reservation));
  }

  // Runs one cluster script the way the gate does (for the crash-point tests, which stop
  // between the gate's steps).
  redis::Reply script(std::string name, std::vector<std::string> keys, std::vector<std::string> args) {
    return orders::test::run_bounded(io_,
                                     [](redis::ClusterClient& c, std::string n, std::vector<std::string> k,
                                        std::vector<std::string> a) -> asio::awaitable<redis::Reply> {
                                       std::vector<std::string_view> kv(k.begin(), k.end()), av(a.begin(), a.end());
                                       co_return co_await c.eval(redis::script(n), kv, av);
                                     }(*client_, std::move(name), std::move(keys), std::move(args)));
  }
  redis::Reply begin(const Purchase& p) {
    const auto& r = p.reservation;
    const std::string key = p.request.idempotency_key.value_or("");
    std::vector<std::pair<std::string, long long>> items;
    for (auto& i : p.request.items) items.emplace_back(i.product_id, i.quantity);
    return script(
        "cluster_begin",
        {key.empty() ? ck::no_idempotency(r.order_id) : ck::idempotency(p.request.user_id, key),
         ck::abandoned(r.order_id), ck::transaction(r.order_id), ck::transactions(ck::partition_of(r.order_id))},
        {key, r.fingerprint, r.order_id, std::to_string(settings_.outbox_lease.count()), "86400", p.request.user_id,
         ck::items_text(items)});
  }
  // The take of one single-product group.
  redis::Reply take(const Purchase& p, std::size_t item) {
    const auto& i = p.request.items[item];
    const std::string& id = p.reservation.order_id;
    return script("cluster_take",
                  {ck::part(i.product_id, id), ck::part_void(i.product_id, id), catalog::keys::stock(i.product_id),
                   catalog::keys::info(i.product_id), ordering::keys::buyers(i.product_id)},
                  {p.request.user_id, "86400", "", i.product_id, std::to_string(i.quantity)});
  }
  void wait_out_lease() { std::this_thread::sleep_for(settings_.outbox_lease + 200ms); }
  // Runs the io_context until every coroutine spawned into `futures` ended (60 s at most).
  template <typename T>
  bool run_all(std::vector<std::future<T>>& futures) {
    io_.restart();
    const auto until = std::chrono::steady_clock::now() + 60s;
    auto all_ready = [&] {
      for (auto& f : futures)
        if (f.wait_for(0s) != std::future_status::ready) return false;
      return true;
    };
    while (!all_ready() && std::chrono::steady_clock::now() < until) io_.run_one_for(50ms);
    return all_ready();
  }
  int recover() { return orders::test::run_bounded(io_, gate_->recover_due(100)); }
  bool exists(const std::string& key) { return cmd({"EXISTS", key}).integer == 1; }

  static PrivateRedisCluster* cluster_;
  asio::io_context io_;
  std::unique_ptr<redis::ClusterClient> client_;
  ordering::IntakeSettings settings_;
  std::unique_ptr<ordering::ClusterStockGate> gate_;
};
PrivateRedisCluster* ClusterStockGateTest::cluster_ = nullptr;

}  // namespace

TEST_F(ClusterStockGateTest, AnOrderOverTwoSlotsIsAcceptedWithTheOrderReserveLuaWouldWrite) {
  auto [a, b] = products_in_two_slots(*cluster_);
  put_product(a, 5, 1999);
  put_product(b, 5, 250);
  auto p = purchase("u-accept", {{a, 2}, {b, 1}});
  auto reply = reserve(*p);
  ASSERT_EQ(reply.kind, Kind::kAccepted) << reply.code;
  EXPECT_EQ(stock_of(a), 3);
  EXPECT_EQ(stock_of(b), 4);
  EXPECT_EQ(bought(a, "u-accept"), 2);
  auto order = ordering::parse_order(reply.order_json);
  ASSERT_TRUE(order) << reply.order_json;
  EXPECT_EQ(order->id, p->reservation.order_id);
  EXPECT_NE(reply.order_json.find("\"totalPrice\":42.48"), std::string::npos) << reply.order_json;
  EXPECT_NE(reply.order_json.find("\"expiresAt\":null"), std::string::npos) << reply.order_json;
  EXPECT_TRUE(ordering::parse_order_created(reply.event).has_value()) << reply.event;
  // Pending: readable by id, in its partition's outbox until the broker confirms.
  EXPECT_EQ(orders::test::run_bounded(io_, gate_->pending_order(p->reservation.order_id)).value_or(""),
            reply.order_json);
  EXPECT_FALSE(exists(ck::transaction(p->reservation.order_id)));
  orders::test::run_bounded(io_, gate_->confirm(p->reservation.order_id));
  EXPECT_FALSE(exists(ck::outbox_entry(p->reservation.order_id)));
}

TEST_F(ClusterStockGateTest, ARefusalInOneSlotUndoesWhatAnotherSlotTook) {
  auto [a, b] = products_in_two_slots(*cluster_);
  put_product(a, 5);
  put_product(b, 0);
  auto p = purchase("u-refused", {{a, 1}, {b, 1}}, "key-refused");
  auto reply = reserve(*p);
  ASSERT_EQ(reply.kind, Kind::kRefused);
  EXPECT_EQ(reply.code, "OUT_OF_STOCK");
  EXPECT_EQ(reply.item, 1u);  // the order's second item, whatever the slot order
  EXPECT_EQ(stock_of(a), 5);
  EXPECT_EQ(bought(a, "u-refused"), 0);
  EXPECT_FALSE(exists(ck::transaction(p->reservation.order_id)));
  // Refusals are not stored: the same key is decided afresh once stock arrives.
  EXPECT_FALSE(exists(ck::idempotency("u-refused", "key-refused")));
  cmd({"SET", catalog::keys::stock(b), "1"});
  auto again = purchase("u-refused", {{a, 1}, {b, 1}}, "key-refused");
  EXPECT_EQ(reserve(*again).kind, Kind::kAccepted);
  EXPECT_EQ(stock_of(a), 4);
  EXPECT_EQ(stock_of(b), 0);
}

TEST_F(ClusterStockGateTest, OneKeyIsOneOrderInProgressThenReplayedAndAnotherBodyIsRefused) {
  auto [a, b] = products_in_two_slots(*cluster_);
  put_product(a, 10);
  put_product(b, 10);
  auto first = purchase("u-idem", {{a, 1}, {b, 1}}, "k1");
  auto accepted = reserve(*first);
  ASSERT_EQ(accepted.kind, Kind::kAccepted);
  EXPECT_EQ(reserve(*purchase("u-idem", {{a, 1}, {b, 1}}, "k1")).kind, Kind::kInProgress);
  orders::test::run_bounded(io_, gate_->confirm(first->reservation.order_id));
  auto replay = reserve(*purchase("u-idem", {{b, 1}, {a, 1}}, "k1"));  // same request, items in another order
  ASSERT_EQ(replay.kind, Kind::kReplay);
  EXPECT_EQ(replay.order_json, accepted.order_json);
  EXPECT_EQ(reserve(*purchase("u-idem", {{a, 2}}, "k1")).kind, Kind::kKeyReused);
  EXPECT_EQ(stock_of(a), 9);
  EXPECT_EQ(stock_of(b), 9);
}

TEST_F(ClusterStockGateTest, ManyConcurrentBuyersOfTwoSlotsNeverOversellAndEveryUnitIsAccountedFor) {
  auto [a, b] = products_in_two_slots(*cluster_);
  constexpr int kStock = 40, kBuyers = 200;
  put_product(a, kStock);
  put_product(b, kStock * 2);
  std::vector<std::unique_ptr<Purchase>> purchases;
  for (int i = 0; i < kBuyers; ++i) {
    purchases.push_back(purchase("crowd" + std::to_string(i), {{a, 1}, {b, 1}}, "k" + std::to_string(i)));
  }
  // All in flight at once on the one connection per master: pipelined, interleaved steps.
  std::vector<std::future<ordering::ReserveReply>> replies;
  for (auto& p : purchases) replies.push_back(asio::co_spawn(io_, gate_->reserve(p->reservation), asio::use_future));
  ASSERT_TRUE(run_all(replies));
  int accepted = 0, sold_out = 0;
  for (auto& f : replies) {
    auto r = f.get();
    if (r.kind == Kind::kAccepted) ++accepted;
    else if (r.kind == Kind::kRefused && r.code == "OUT_OF_STOCK") ++sold_out;
  }
  EXPECT_EQ(accepted, kStock);
  EXPECT_EQ(sold_out, kBuyers - kStock);
  EXPECT_EQ(stock_of(a), 0);
  EXPECT_EQ(stock_of(b), kStock);  // the refused orders' units of b all came back
}

// The API stops after begin: the recovery ends the transaction once its lease is over, and the
// key is decided afresh.
namespace {

// Scripts run over the whole cluster (EVALSHA calls on every node).
long long scripts_run(const PrivateRedisCluster& cluster) {
  long long calls = 0;
  for (int i = 0; i < 6; ++i) {
    const std::string stats = cluster.cli(cluster.port(i), {"INFO", "commandstats"});
    const auto at = stats.find("cmdstat_evalsha:calls=");
    if (at != std::string::npos) calls += std::stoll(stats.substr(at + 22));
  }
  return calls;
}

}  // namespace

// The sold-out path on the cluster (ordering/refusal_check.hpp): once a product's purchase was
// refused in a gate, the next purchases of it are answered from one MULTI per slot, with the
// answer the scripts give for the same state, no script run and nothing written; stock that
// came back sells through the scripts.
TEST_F(ClusterStockGateTest, ARefusedProductIsAnsweredFromReadingsAsTheScriptsAnswer) {
  auto [a, b] = products_in_two_slots(*cluster_);
  put_product(a, 5, 100, /*max=*/2);
  put_product(b, 0, 100);
  cmd({"HSET", ordering::keys::buyers(a), "full", "2"});
  // Each case: a fresh gate (the scripts) and a gate `b` was refused in (the readings).
  // As the intake asks: a refusal the gate knows first, else the reservation.
  auto ask = [&](ordering::ClusterStockGate& gate, const Purchase& p) {
    if (auto known = orders::test::run_bounded(io_, gate.known_refusal(p.request))) return *known;
    return orders::test::run_bounded(io_, gate.reserve(p.reservation));
  };
  auto decide = [&](const Purchase& c) {
    ordering::ClusterStockGate plain(*client_, settings_);
    const auto by_scripts = ask(plain, c);
    ordering::ClusterStockGate primed(*client_, settings_);
    auto primer = purchase("primer", {{b, 1}});
    EXPECT_EQ(ask(primed, *primer).kind, Kind::kRefused);
    const long long before = scripts_run(*cluster_);
    const auto by_reading = ask(primed, c);
    EXPECT_EQ(scripts_run(*cluster_), before) << "a script ran for a refused product";
    expect_same_answer(by_scripts, by_reading);
    return by_reading;
  };
  // The second slot sold out, the first one fine: refused naming the second item.
  auto two = purchase("two", {{a, 1}, {b, 1}});
  auto sold_out = decide(*two);
  EXPECT_EQ(sold_out.code, "OUT_OF_STOCK");
  EXPECT_EQ(sold_out.item, 1u);
  EXPECT_EQ(sold_out.left, "0");
  // Over the limit in the first slot: that refusal, with its figures, before the second slot's.
  auto over = purchase("full", {{a, 1}, {b, 1}}, "key-" + uuid::make_v7());
  auto limited = decide(*over);
  EXPECT_EQ(limited.code, "PURCHASE_LIMIT_EXCEEDED");
  EXPECT_EQ(limited.item, 0u);
  EXPECT_EQ(limited.limit, "2");
  EXPECT_EQ(limited.bought, "2");
  // Not open yet.
  cmd({"HSET", catalog::keys::info(b), "starts", std::to_string(now_ms() + 3'600'000)});
  auto early = purchase("early", {{b, 1}});
  EXPECT_EQ(decide(*early).code, "SALE_NOT_ACTIVE");
  cmd({"HDEL", catalog::keys::info(b), "starts"});
  EXPECT_EQ(stock_of(a), 5) << "nothing taken by any of them";
  EXPECT_EQ(bought(a, "two"), 0);

  // A unit of b came back: the reading would sell, so the scripts run and sell it.
  ordering::ClusterStockGate gate(*client_, settings_);
  auto primer = purchase("primer", {{b, 1}});
  ASSERT_EQ(ask(gate, *primer).code, "OUT_OF_STOCK");
  cmd({"SET", catalog::keys::stock(b), "1"});
  const long long before = scripts_run(*cluster_);
  auto buyer = purchase("back", {{a, 1}, {b, 1}});
  EXPECT_EQ(ask(gate, *buyer).kind, Kind::kAccepted);
  EXPECT_GT(scripts_run(*cluster_), before);
  EXPECT_EQ(stock_of(b), 0);
  EXPECT_EQ(stock_of(a), 4);
}

TEST_F(ClusterStockGateTest, StopAfterBeginIsRecovered) {
  auto [a, b] = products_in_two_slots(*cluster_);
  put_product(a, 3);
  put_product(b, 3);
  auto p = purchase("u-crash1", {{a, 1}, {b, 1}}, "crash1");
  ASSERT_EQ(begin(*p).elements.at(0).str, "BEGUN");
  EXPECT_EQ(reserve(*purchase("u-crash1", {{a, 1}, {b, 1}}, "crash1")).kind, Kind::kInProgress);
  wait_out_lease();
  EXPECT_GE(recover(), 1);
  EXPECT_FALSE(exists(ck::transaction(p->reservation.order_id)));
  EXPECT_EQ(take(*p, 0).elements.at(0).str, "VOID");  // a take still on its way sells nothing
  EXPECT_EQ(stock_of(a), 3);
  EXPECT_EQ(reserve(*purchase("u-crash1", {{a, 1}, {b, 1}}, "crash1")).kind, Kind::kAccepted);
}

// The API stops after one of two takes: the recovery gives that part's units back.
TEST_F(ClusterStockGateTest, StopAfterOneOfTwoTakesIsRecoveredWithItsUnitsBack) {
  auto [a, b] = products_in_two_slots(*cluster_);
  put_product(a, 3);
  put_product(b, 3);
  auto p = purchase("u-crash2", {{a, 2}, {b, 1}}, "crash2");
  ASSERT_EQ(begin(*p).elements.at(0).str, "BEGUN");
  ASSERT_EQ(take(*p, 0).elements.at(0).str, "TAKEN");
  EXPECT_EQ(stock_of(a), 1);
  wait_out_lease();
  EXPECT_GE(recover(), 1);
  EXPECT_EQ(stock_of(a), 3);
  EXPECT_EQ(bought(a, "u-crash2"), 0);
  EXPECT_EQ(stock_of(b), 3);
  EXPECT_EQ(take(*p, 1).elements.at(0).str, "VOID");
  EXPECT_EQ(stock_of(b), 3);
  EXPECT_EQ(recover(), 0);  // once
}

// The API stops after every take, before the commit: everything goes back, and a commit that
// arrives after the recovery refuses.
TEST_F(ClusterStockGateTest, StopBeforeTheCommitIsRecoveredAndALateCommitRefuses) {
  auto [a, b] = products_in_two_slots(*cluster_);
  put_product(a, 3);
  put_product(b, 3);
  auto p = purchase("u-crash3", {{a, 1}, {b, 1}});
  const std::string& id = p->reservation.order_id;
  ASSERT_EQ(begin(*p).elements.at(0).str, "BEGUN");
  ASSERT_EQ(take(*p, 0).elements.at(0).str, "TAKEN");
  ASSERT_EQ(take(*p, 1).elements.at(0).str, "TAKEN");
  wait_out_lease();
  EXPECT_GE(recover(), 1);
  EXPECT_EQ(stock_of(a), 3);
  EXPECT_EQ(stock_of(b), 3);
  const int k = ck::partition_of(id);
  auto late = script("cluster_commit",
                     {ck::no_idempotency(id), ck::order(id), ck::outbox(k), ck::outbox_entry(id), ck::transaction(id),
                      ck::transactions(k)},
                     {id, "{}", "{}", "5000", "60", "", "60"});
  EXPECT_EQ(late.elements.at(0).str, "ABORTED");
  EXPECT_FALSE(exists(ck::order(id)));
}

// A lost reply (the intake's abandon): before the commit it undoes the purchase at once; after
// the commit it returns the order.
TEST_F(ClusterStockGateTest, AbandonUndoesAnUncommittedPurchaseAndKeepsACommittedOne) {
  auto [a, b] = products_in_two_slots(*cluster_);
  put_product(a, 3);
  put_product(b, 3);
  auto p = purchase("u-lost", {{a, 1}, {b, 1}});
  ASSERT_EQ(begin(*p).elements.at(0).str, "BEGUN");
  ASSERT_EQ(take(*p, 0).elements.at(0).str, "TAKEN");
  EXPECT_FALSE(orders::test::run_bounded(io_, gate_->abandon(p->reservation.order_id)).has_value());
  EXPECT_EQ(stock_of(a), 3);
  EXPECT_EQ(take(*p, 1).elements.at(0).str, "VOID");

  auto committed = purchase("u-lost", {{a, 1}, {b, 1}});
  auto reply = reserve(*committed);
  ASSERT_EQ(reply.kind, Kind::kAccepted);
  EXPECT_EQ(orders::test::run_bounded(io_, gate_->abandon(committed->reservation.order_id)).value_or(""),
            reply.order_json);
  EXPECT_EQ(stock_of(a), 2);
}

// The broker never saw the event: release gives everything back; the relay's claim and a later
// return of the units find nothing more to do.
TEST_F(ClusterStockGateTest, ReleaseAndReturnGiveUnitsBackOnce) {
  auto [a, b] = products_in_two_slots(*cluster_);
  put_product(a, 5);
  put_product(b, 5);
  auto released = purchase("u-release", {{a, 1}, {b, 2}}, "rel");
  auto reply = reserve(*released);
  ASSERT_EQ(reply.kind, Kind::kAccepted);
  EXPECT_TRUE(orders::test::run_bounded(io_, gate_->release(released->reservation, reply.lease_deadline)));
  EXPECT_EQ(stock_of(a), 5);
  EXPECT_EQ(stock_of(b), 5);
  EXPECT_FALSE(orders::test::run_bounded(io_, gate_->pending_order(released->reservation.order_id)).has_value());

  // A cancelled order's units: back once, however often asked.
  auto cancelled = purchase("u-return", {{a, 2}, {b, 1}});
  ASSERT_EQ(reserve(*cancelled).kind, Kind::kAccepted);
  orders::test::run_bounded(io_, gate_->confirm(cancelled->reservation.order_id));
  ordering::OrderUnits units{cancelled->reservation.order_id, "u-return", {{a, 2}, {b, 1}}};
  orders::test::run_bounded(io_, gate_->return_units(units));
  orders::test::run_bounded(io_, gate_->return_units(units));
  EXPECT_EQ(stock_of(a), 5);
  EXPECT_EQ(stock_of(b), 5);
  EXPECT_EQ(bought(a, "u-return"), 0);
}

// An API that stopped after the commit: its outbox entry is claimed by a relay once the API's
// lease is over, in whichever partition the order lives.
TEST_F(ClusterStockGateTest, TheRelayClaimsAnEntryWhoseLeaseEndedInItsPartition) {
  auto [a, b] = products_in_two_slots(*cluster_);
  put_product(a, 5);
  put_product(b, 5);
  auto p = purchase("u-relay", {{a, 1}, {b, 1}});
  ASSERT_EQ(reserve(*p).kind, Kind::kAccepted);
  EXPECT_GE(orders::test::run_bounded(io_, gate_->outbox_depth()), 1);
  wait_out_lease();
  auto due = orders::test::run_bounded(io_, gate_->claim_due(10'000, 500));
  std::set<std::string> ids;
  for (auto& [id, event] : due) ids.insert(id);
  EXPECT_EQ(ids.count(p->reservation.order_id), 1u);
  orders::test::run_bounded(io_, gate_->confirm(p->reservation.order_id));
  EXPECT_FALSE(exists(ck::outbox_entry(p->reservation.order_id)));
}

// A hot product in buckets: units move into a buyer's home bucket that is short, fullest source
// first, once per transfer id; a transfer whose caller stopped between its steps is finished by
// settle_transfer, and a give that had not run is voided for good.
class BucketTransferTest : public ClusterStockGateTest {
 protected:
  void put_buckets(const std::string& id, const std::vector<long long>& counters) {
    for (int b = 0; b < static_cast<int>(counters.size()); ++b) {
      cmd({"SET", catalog::keys::stock(catalog::keys::bucket(id, b)), std::to_string(counters[b])});
    }
  }
  std::vector<long long> counters(const std::string& id, int buckets) {
    return orders::test::run_bounded(io_, ordering::buckets::read_counters(*client_, id, buckets));
  }
  long long refill(const std::string& id, int buckets, int home, long long needed, const std::string& xid) {
    return orders::test::run_bounded(io_, ordering::buckets::refill_home(*client_, id, buckets, home, needed, xid));
  }
  long long settle(const std::string& id, int source, int target, const std::string& xid) {
    return orders::test::run_bounded(io_, ordering::buckets::settle_transfer(*client_, id, source, target, xid));
  }
  redis::Reply give(const std::string& id, int source, long long units, const std::string& xid) {
    const std::string bucket = catalog::keys::bucket(id, source);
    const std::string give_id = ordering::buckets::give_id(xid, source);
    return script("bucket_give", {catalog::keys::stock(bucket), catalog::buckets::transfer_record(bucket, give_id)},
                  {std::to_string(units), "60"});
  }
};

TEST_F(BucketTransferTest, AShortHomeIsRefilledFromTheFullestBucketsOncePerTransfer) {
  const std::string id = uuid::make_v7();
  put_buckets(id, {1, 3, 5, 0});
  // Home 0 holds 1 and needs 7: 6 more, 5 from bucket 2 and 1 from bucket 1.
  EXPECT_EQ(refill(id, 4, 0, 7, "t1"), 6);
  EXPECT_EQ(counters(id, 4), (std::vector<long long>{7, 2, 0, 0}));
  // The same transfer again moves nothing more.
  EXPECT_EQ(refill(id, 4, 0, 7 + 6, "t1"), 0);
  EXPECT_EQ(counters(id, 4), (std::vector<long long>{7, 2, 0, 0}));
  // Asking for more than the others hold moves what they hold.
  EXPECT_EQ(refill(id, 4, 3, 10, "t2"), 9);
  EXPECT_EQ(counters(id, 4), (std::vector<long long>{0, 0, 0, 9}));
}

TEST_F(BucketTransferTest, AGiveWhoseReceiveNeverRanIsReceivedOnceBySettle) {
  const std::string id = uuid::make_v7();
  put_buckets(id, {0, 4});
  EXPECT_EQ(give(id, 1, 3, "stopped").integer, 3);  // the caller stops here
  EXPECT_EQ(counters(id, 2), (std::vector<long long>{0, 1}));
  EXPECT_EQ(settle(id, 1, 0, "stopped"), 3);
  EXPECT_EQ(settle(id, 1, 0, "stopped"), 0);
  EXPECT_EQ(counters(id, 2), (std::vector<long long>{3, 1}));
  // A replayed give answers its first number and takes nothing more.
  EXPECT_EQ(give(id, 1, 3, "stopped").integer, 3);
  EXPECT_EQ(counters(id, 2), (std::vector<long long>{3, 1}));
}

TEST_F(BucketTransferTest, AGiveThatHadNotRunIsVoidedAndALateOneTakesNothing) {
  const std::string id = uuid::make_v7();
  put_buckets(id, {0, 4});
  EXPECT_EQ(settle(id, 1, 0, "late"), 0);
  EXPECT_EQ(give(id, 1, 3, "late").integer, 0);  // still on its way when the settle ran
  EXPECT_EQ(counters(id, 2), (std::vector<long long>{0, 4}));
}

TEST_F(BucketTransferTest, ConcurrentRefillsOfEveryBucketNeverLoseOrMakeAUnit) {
  const std::string id = uuid::make_v7();
  constexpr int kBuckets = 8, kRefills = 200;
  put_buckets(id, std::vector<long long>(kBuckets, 50));
  // (The coroutines take their texts by reference: the ids must outlive them.)
  std::vector<std::string> transfer_ids;
  for (int i = 0; i < kRefills; ++i) transfer_ids.push_back("c" + std::to_string(i));
  std::vector<std::future<long long>> moved;
  for (int i = 0; i < kRefills; ++i) {
    moved.push_back(
        asio::co_spawn(io_, ordering::buckets::refill_home(*client_, id, kBuckets, i % kBuckets, 70, transfer_ids[i]),
                       asio::use_future));
  }
  ASSERT_TRUE(run_all(moved));
  long long arrived = 0;
  for (auto& f : moved) arrived += f.get();
  EXPECT_GT(arrived, 0);
  const auto left = counters(id, kBuckets);
  for (long long n : left) EXPECT_GE(n, 0);
  long long by_get = 0;
  for (int b = 0; b < kBuckets; ++b) by_get += stock_of(catalog::keys::bucket(id, b));
  EXPECT_EQ(by_get, kBuckets * 50);
  EXPECT_EQ(std::accumulate(left.begin(), left.end(), 0LL), kBuckets * 50);
}

// A hot product in buckets bought through the gate: each buyer takes from their home bucket, a
// short home is refilled from the others, and with demand above stock exactly all of it sells.
class BucketedPurchaseTest : public BucketTransferTest {
 protected:
  // The product as the catalog publishes it on a cluster: rules in every bucket, its counters,
  // and the number of buckets in bucket 0.
  void put_bucketed(const std::string& id, const std::vector<long long>& counters, long long max = 0) {
    for (int b = 0; b < static_cast<int>(counters.size()); ++b) {
      put_product(catalog::keys::bucket(id, b), counters[b], 1000, max);
    }
    cmd({"SET", catalog::keys::buckets(id), std::to_string(counters.size())});
  }
  long long sum(const std::string& id, int buckets) {
    const auto left = counters(id, buckets);
    return std::accumulate(left.begin(), left.end(), 0LL);
  }
  // A user whose home bucket of a product in `buckets` is `home`.
  static std::string user_with_home(int home, int buckets, const std::string& prefix = "h") {
    for (int i = 0;; ++i) {
      std::string user = prefix + std::to_string(i);
      if (catalog::buckets::home_bucket(user, buckets) == home) return user;
    }
  }
};

TEST_F(BucketedPurchaseTest, ABuyerTakesFromTheHomeBucketAndAShortHomeIsRefilledFromTheOthers) {
  const std::string id = uuid::make_v7();
  put_bucketed(id, {0, 0, 5, 1});
  const std::string user = user_with_home(1, 4);
  const std::string home = catalog::keys::bucket(id, 1);
  auto p = purchase(user, {{id, 2}});
  auto reply = reserve(*p);
  ASSERT_EQ(reply.kind, Kind::kAccepted) << reply.code;
  EXPECT_EQ(sum(id, 4), 4);
  EXPECT_EQ(bought(home, user), 2);  // the per-user count lives in the home bucket
  // The order names the product, never a bucket.
  auto order = ordering::parse_order(reply.order_json);
  ASSERT_TRUE(order) << reply.order_json;
  EXPECT_EQ(order->items.at(0).product_id, id);
  EXPECT_FALSE(exists(ck::transaction(p->reservation.order_id)));

  // A cancel gives the units back to the home bucket, once.
  orders::test::run_bounded(io_, gate_->confirm(p->reservation.order_id));
  ordering::OrderUnits units{p->reservation.order_id, user, {{id, 2}}};
  const long long home_before = stock_of(home);
  orders::test::run_bounded(io_, gate_->return_units(units));
  orders::test::run_bounded(io_, gate_->return_units(units));
  EXPECT_EQ(stock_of(home), home_before + 2);
  EXPECT_EQ(sum(id, 4), 6);
  EXPECT_EQ(bought(home, user), 0);
}

TEST_F(BucketedPurchaseTest, SoldOutOnlyWhenAllBucketsTogetherHoldTooLittleAndLimitsStayPerUser) {
  const std::string id = uuid::make_v7();
  put_bucketed(id, {1, 1, 1}, /*max=*/2);
  const std::string user = user_with_home(0, 3);
  // 3 units over three buckets: an order of 3 needs all of them, one of 4 is sold out.
  auto four = reserve(*purchase(user, {{id, 3}}));
  EXPECT_EQ(four.kind, Kind::kRefused);
  EXPECT_EQ(four.code, "PURCHASE_LIMIT_EXCEEDED");
  auto two = reserve(*purchase(user, {{id, 2}}));
  ASSERT_EQ(two.kind, Kind::kAccepted) << two.code;
  auto more = reserve(*purchase(user, {{id, 1}}));
  EXPECT_EQ(more.kind, Kind::kRefused);
  EXPECT_EQ(more.code, "PURCHASE_LIMIT_EXCEEDED");
  const std::string other = user_with_home(2, 3, "o");
  auto too_many = reserve(*purchase(other, {{id, 2}}));
  EXPECT_EQ(too_many.kind, Kind::kRefused);
  EXPECT_EQ(too_many.code, "OUT_OF_STOCK");
  EXPECT_EQ(too_many.left, "1");  // what all buckets hold together
  EXPECT_EQ(reserve(*purchase(other, {{id, 1}})).kind, Kind::kAccepted);
  EXPECT_EQ(sum(id, 3), 0);
}

TEST_F(BucketedPurchaseTest, ACrowdAboveStockBuysExactlyAllOfItOverEightBuckets) {
  const std::string id = uuid::make_v7();
  constexpr int kBuckets = 8, kStock = 100, kBuyers = 300;
  // Uneven on purpose: most units sit in two buckets, so most homes must be refilled.
  put_bucketed(id, {60, 0, 0, 25, 0, 5, 10, 0});
  std::vector<std::unique_ptr<Purchase>> purchases;
  for (int i = 0; i < kBuyers; ++i) purchases.push_back(purchase("fan" + std::to_string(i), {{id, 1}}));
  int accepted = 0, sold_out = 0, busy = 0;
  std::vector<std::size_t> undecided(kBuyers);
  std::iota(undecided.begin(), undecided.end(), 0);
  // A buyer answered 503 (their home kept being emptied under them) retries, as a client does.
  for (int round = 0; round < 10 && !undecided.empty(); ++round) {
    std::vector<std::future<ordering::ReserveReply>> replies;
    std::vector<std::unique_ptr<Purchase>> attempts;
    for (std::size_t i : undecided) {
      attempts.push_back(purchase(purchases[i]->request.user_id, {{id, 1}}));
      replies.push_back(asio::co_spawn(io_, gate_->reserve(attempts.back()->reservation), asio::use_future));
    }
    ASSERT_TRUE(run_all(replies));
    std::vector<std::size_t> again;
    for (std::size_t n = 0; n < replies.size(); ++n) {
      auto r = replies[n].get();
      if (r.kind == Kind::kAccepted) ++accepted;
      else if (r.kind == Kind::kRefused && r.code == "OUT_OF_STOCK") ++sold_out;
      else if (r.kind == Kind::kRolledBack) {
        ++busy;
        again.push_back(undecided[n]);
      } else ADD_FAILURE() << "unexpected reply " << static_cast<int>(r.kind) << " " << r.code;
    }
    undecided = std::move(again);
  }
  EXPECT_TRUE(undecided.empty());
  EXPECT_EQ(accepted, kStock);  // G5: nobody refused while a bucket held a unit
  EXPECT_EQ(sold_out, kBuyers - kStock);
  const auto left = counters(id, kBuckets);
  for (long long n : left) EXPECT_EQ(n, 0);
  std::cout << "[ bucketed crowd ] " << accepted << " accepted, " << sold_out << " sold out, " << busy
            << " answered busy and retried\n";
}

// The API stops in the middle of a refill, after the give and before the receive: the recovery
// settles the transfer (the units reach the home bucket) and then undoes the purchase.
TEST_F(BucketedPurchaseTest, StopMidTransferIsSettledByTheRecoveryWithEveryUnitKept) {
  const std::string id = uuid::make_v7();
  put_bucketed(id, {0, 6});
  const std::string user = user_with_home(0, 2);
  const std::string home = catalog::keys::bucket(id, 0);
  auto p = purchase(user, {{home, 2}});  // the transaction record names the home bucket
  const std::string& order_id = p->reservation.order_id;
  ASSERT_EQ(begin(*p).elements.at(0).str, "BEGUN");
  const std::string xid = order_id + "/0/0";
  ASSERT_EQ(script("cluster_note_transfer", {ck::transaction(order_id)}, {id + ":2:0:" + xid}).integer, 1);
  ASSERT_EQ(give(id, 1, 3, xid).integer, 3);  // the API stops here
  EXPECT_EQ(sum(id, 2), 3);                   // 3 units in flight
  wait_out_lease();
  EXPECT_GE(recover(), 1);
  EXPECT_EQ(counters(id, 2), (std::vector<long long>{3, 3}));
  EXPECT_EQ(bought(home, user), 0);
  EXPECT_FALSE(exists(ck::transaction(order_id)));
  // A note that arrives after the recovery took the transaction is refused: no late transfer.
  EXPECT_EQ(script("cluster_note_transfer", {ck::transaction(order_id)}, {id + ":2:0:" + order_id + "/0/1"}).integer,
            0);
}
