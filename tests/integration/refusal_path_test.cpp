// The sold-out path on one Redis (RedisStockGate: ordering/refusal_check.hpp): once a product's
// purchase was refused, the next ones are answered from one MULTI of the script's keys, and
// every such answer is the one reserve.lua gives for the same state. Each case is decided twice
// on the test stack's Redis: by a gate with no hint (the script) and by a gate the case's product
// was refused in (the reading), and Redis' own command counts say which path ran. Purchases
// arriving together share one MULTI, and each still gets the script's answer for its own case.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/keys.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "config/config.hpp"
#include "ordering/keys.hpp"
#include "ordering/order_event.hpp"
#include "ordering/redis_stock_gate.hpp"
#include "ordering/reference_number.hpp"
#include "storage/redis/client.hpp"
#include "support/process.hpp"
#include "support/purchases.hpp"
#include "support/run_coroutine.hpp"

using namespace orders;
using namespace std::chrono_literals;
using ::orders::testing::expect_same_answer;
using ::orders::testing::make_purchase;
using ::orders::testing::Purchase;
using Kind = ordering::ReserveReply::Kind;
namespace asio = boost::asio;

namespace {

class RefusalPath : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_unique<redis::Client>(io_.get_executor(),
                                              config::parse_redis_url(orders::testing::required_env("REDIS_URL")));
    client_->start();
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (!client_->connected() && std::chrono::steady_clock::now() < until) io_.run_one_for(50ms);
    ASSERT_TRUE(client_->connected());
  }
  void TearDown() override {
    for (const auto& id : products_) {
      cmd({"DEL", catalog::keys::info(id), catalog::keys::stock(id), ordering::keys::buyers(id)});
    }
    client_->stop();
  }

  redis::Reply cmd(std::vector<std::string> words) {
    return orders::test::run_bounded(io_,
                                     [](redis::Client& c, std::vector<std::string> w) -> asio::awaitable<redis::Reply> {
                                       std::vector<std::string_view> args(w.begin(), w.end());
                                       co_return co_await c.command(args);
                                     }(*client_, std::move(words)));
  }
  std::string product(long long stock, long long max = 0) {
    const std::string id = uuid::make_v7();
    products_.push_back(id);
    cmd({"HSET", catalog::keys::info(id), "active", "1", "price", "250"});
    if (max > 0) cmd({"HSET", catalog::keys::info(id), "max", std::to_string(max)});
    cmd({"SET", catalog::keys::stock(id), std::to_string(stock)});
    return id;
  }
  long long calls(const std::string& command) {
    const std::string stats = cmd({"INFO", "commandstats"}).str;
    const std::string tag = "cmdstat_" + command + ":calls=";
    const auto at = stats.find(tag);
    return at == std::string::npos ? 0 : std::stoll(stats.substr(at + tag.size()));
  }

  std::unique_ptr<Purchase> purchase(const std::string& user, std::vector<std::pair<std::string, long long>> items,
                                     std::optional<std::string> key = std::nullopt) {
    return make_purchase(user, items, std::move(key));
  }
  // As the intake asks: a refusal the gate knows first, else the reservation.
  ordering::ReserveReply reserve(ordering::RedisStockGate& gate, const Purchase& p) {
    if (auto known = orders::test::run_bounded(io_, gate.known_refusal(p.request))) return *known;
    return orders::test::run_bounded(io_, gate.reserve(p.reservation));
  }

  // The case decided by the script (a gate with no hint) and by the reading (a gate that
  // `primer`'s purchase of `hinted` was refused in): both answers, and whether the second ran
  // no script and one MULTI.
  struct Both {
    ordering::ReserveReply script, reading;
    bool read_only = false;
  };
  Both decide(const Purchase& c, const std::string& hinted, long long primer_quantity = 1) {
    Both out;
    ordering::RedisStockGate plain(*client_);
    out.script = reserve(plain, c);
    ordering::RedisStockGate primed(*client_);
    const auto primer = purchase("primer", {{hinted, primer_quantity}});
    EXPECT_EQ(reserve(primed, *primer).kind, Kind::kRefused) << "the primer must be refused";
    const long long scripts = calls("evalsha"), execs = calls("exec");
    out.reading = reserve(primed, c);
    out.read_only = calls("evalsha") == scripts && calls("exec") == execs + 1;
    return out;
  }
  asio::io_context io_;
  std::unique_ptr<redis::Client> client_;
  std::vector<std::string> products_;
};

}  // namespace

TEST_F(RefusalPath, SoldOutIsAnsweredFromTheReadingAsTheScriptAnswersIt) {
  const std::string p = product(0);
  auto c = purchase("buyer", {{p, 2}});
  Both d = decide(*c, p);
  EXPECT_EQ(d.script.code, "OUT_OF_STOCK");
  EXPECT_EQ(d.script.left, "0");
  expect_same_answer(d.script, d.reading);
  EXPECT_TRUE(d.read_only) << "no script ran for the hinted product";
  // Two units left and three asked: refused with what is left.
  cmd({"SET", catalog::keys::stock(p), "2"});
  auto more = purchase("buyer", {{p, 3}});
  Both d2 = decide(*more, p, /*primer_quantity=*/3);
  EXPECT_EQ(d2.script.left, "2");
  expect_same_answer(d2.script, d2.reading);
  EXPECT_TRUE(d2.read_only);
}

TEST_F(RefusalPath, EveryRuleRefusesInTheScriptsOrder) {
  // Over the limit and sold out: the limit is said, with its figures.
  const std::string limited = product(0, 2);
  cmd({"HSET", ordering::keys::buyers(limited), "full", "2"});
  auto over = purchase("full", {{limited, 1}});
  Both a = decide(*over, limited);
  EXPECT_EQ(a.script.code, "PURCHASE_LIMIT_EXCEEDED");
  EXPECT_EQ(a.script.limit, "2");
  EXPECT_EQ(a.script.bought, "2");
  expect_same_answer(a.script, a.reading);
  EXPECT_TRUE(a.read_only);
  // Not open yet (and sold out): the window is said.
  const std::string early = product(0);
  cmd({"HSET", catalog::keys::info(early), "starts", std::to_string(now_ms() + 3'600'000)});
  auto before = purchase("early", {{early, 1}});
  Both b = decide(*before, early);
  EXPECT_EQ(b.script.code, "SALE_NOT_ACTIVE");
  expect_same_answer(b.script, b.reading);
  EXPECT_TRUE(b.read_only);
  // Two items: the first sold out, the second gone: not found, naming the second.
  const std::string sold = product(0), gone = product(5);
  cmd({"HSET", catalog::keys::info(gone), "active", "0"});
  auto two = purchase("two", {{sold, 1}, {gone, 1}});
  Both c = decide(*two, sold);
  EXPECT_EQ(c.script.code, "PRODUCT_NOT_FOUND");
  EXPECT_EQ(c.script.item, 1u);
  expect_same_answer(c.script, c.reading);
  EXPECT_TRUE(c.read_only);
}

TEST_F(RefusalPath, StockThatCameBackSellsThroughTheScriptAndAKeyedRepeatReplays) {
  const std::string p = product(0);
  ordering::RedisStockGate gate(*client_);
  auto primer = purchase("primer", {{p, 1}});
  ASSERT_EQ(reserve(gate, *primer).code, "OUT_OF_STOCK");
  // A cancel gave a unit back: the reading would take it, so the script runs and sells it.
  cmd({"SET", catalog::keys::stock(p), "1"});
  auto buyer = purchase("back", {{p, 1}}, "key-" + uuid::make_v7());
  const long long scripts = calls("evalsha");
  auto sold = reserve(gate, *buyer);
  EXPECT_EQ(sold.kind, Kind::kAccepted);
  EXPECT_EQ(calls("evalsha"), scripts + 1);
  EXPECT_EQ(cmd({"GET", catalog::keys::stock(p)}).str, "0");
  // Sold out again, hinted again: the same key and body is the first order's replay, not a refusal.
  ASSERT_EQ(reserve(gate, *purchase("primer", {{p, 1}})).code, "OUT_OF_STOCK");
  auto repeat = purchase("back", {{p, 1}}, buyer->request.idempotency_key);
  auto replayed = reserve(gate, *repeat);
  EXPECT_EQ(replayed.kind, Kind::kInProgress) << "not confirmed yet: the script's answer, not OUT_OF_STOCK";
  cmd({"DEL", ordering::keys::idempotency("back", *buyer->request.idempotency_key),
       ordering::keys::order(buyer->reservation.order_id), ordering::keys::outbox_entry(buyer->reservation.order_id)});
  cmd({"ZREM", std::string(ordering::keys::kOutbox), buyer->reservation.order_id});
}

TEST_F(RefusalPath, PurchasesArrivingTogetherShareOneReadingAndEachGetsItsOwnAnswer) {
  // Readings of different lengths side by side: keyed and not, one item and two.
  const std::string sold = product(0), limited = product(0, 2), early = product(0), left = product(2);
  cmd({"HSET", ordering::keys::buyers(limited), "full", "2"});
  cmd({"HSET", catalog::keys::info(early), "starts", std::to_string(now_ms() + 3'600'000)});
  std::vector<std::unique_ptr<Purchase>> crowd;
  crowd.push_back(purchase("a", {{sold, 1}}));
  crowd.push_back(purchase("b", {{sold, 1}}, "key-" + uuid::make_v7()));
  crowd.push_back(purchase("full", {{limited, 1}}));
  crowd.push_back(purchase("c", {{early, 1}}));
  crowd.push_back(purchase("d", {{left, 1}, {sold, 1}}, "key-" + uuid::make_v7()));
  crowd.push_back(purchase("e", {{left, 3}}));
  crowd.push_back(purchase("f", {{sold, 4}}));
  std::vector<ordering::ReserveReply> scripts;
  ordering::RedisStockGate plain(*client_);
  for (const auto& p : crowd) scripts.push_back(reserve(plain, *p));  // refusals: nothing written

  ordering::RedisStockGate primed(*client_);
  for (const auto& [id, quantity] :
       std::vector<std::pair<std::string, long long>>{{sold, 1}, {limited, 1}, {early, 1}, {left, 3}}) {
    ASSERT_EQ(reserve(primed, *purchase("primer", {{id, quantity}})).kind, Kind::kRefused);
  }
  // Two among them that are no refusal, each in the middle of the group: one that would sell
  // (`left` has 2), and a key that already has a record (the script replays it).
  const auto seller = purchase("g", {{left, 1}});
  const std::string used_key = "key-" + uuid::make_v7();
  cmd({"HSET", ordering::keys::idempotency("h", used_key), "state", "done"});
  const auto replay = purchase("h", {{sold, 1}}, used_key);
  const long long evals = calls("evalsha"), execs = calls("exec");
  // All at once on one thread, as one wake-up's requests reach the gate.
  std::vector<std::future<std::optional<ordering::ReserveReply>>> readings;
  for (std::size_t i = 0; i < crowd.size(); ++i) {
    readings.push_back(asio::co_spawn(io_, primed.known_refusal(crowd[i]->request), asio::use_future));
    if (i == 2) readings.push_back(asio::co_spawn(io_, primed.known_refusal(seller->request), asio::use_future));
    if (i == 4) readings.push_back(asio::co_spawn(io_, primed.known_refusal(replay->request), asio::use_future));
  }
  io_.restart();
  const auto until = std::chrono::steady_clock::now() + 60s;
  auto all_ready = [&] {
    for (auto& f : readings) {
      if (f.wait_for(0s) != std::future_status::ready) return false;
    }
    return true;
  };
  while (!all_ready() && std::chrono::steady_clock::now() < until) io_.run_one_for(50ms);
  ASSERT_TRUE(all_ready());
  EXPECT_EQ(calls("exec"), execs + 1) << "the crowd's readings went as one MULTI";
  EXPECT_EQ(calls("evalsha"), evals);
  EXPECT_FALSE(readings[3].get().has_value()) << "a reading that would sell is the script's";
  EXPECT_FALSE(readings[6].get().has_value()) << "a key with a record is the script's";
  EXPECT_EQ(cmd({"GET", catalog::keys::stock(left)}).str, "2") << "a reading writes nothing";
  readings.erase(readings.begin() + 6);
  readings.erase(readings.begin() + 3);
  for (std::size_t i = 0; i < crowd.size(); ++i) {
    SCOPED_TRACE("purchase " + std::to_string(i));
    std::optional<ordering::ReserveReply> reading = readings[i].get();
    ASSERT_TRUE(reading.has_value());
    EXPECT_EQ(scripts[i].kind, Kind::kRefused);
    expect_same_answer(scripts[i], *reading);
  }
  cmd({"DEL", ordering::keys::idempotency("h", used_key)});
}
