// CatalogService through its seams (FakeProductRecord, FakeCatalogCache, FakeEventSink):
// cache-aside reads, negative caching, the generation check, single flight, the fallback to
// the record without Redis, and what writes publish, without PostgreSQL, Redis or RabbitMQ.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <sstream>

#include "catalog/catalog_service.hpp"
#include "catalog/json.hpp"
#include "common/dependency_error.hpp"
#include "common/error_codes.hpp"
#include "metrics/registry.hpp"
#include "support/fake_catalog.hpp"
#include "support/run_coroutine.hpp"

using namespace orders;
using namespace orders::catalog;
using orders::test::FakeCatalogCache;
using orders::test::FakeEventSink;
using orders::test::FakeProductRecord;
using orders::test::run_coroutine;

namespace {

constexpr const char* kId = "0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d";

Product product(std::int64_t stock = 10) {
  Product p;
  p.id = kId;
  p.name = "Flash Sale Sneaker";
  p.price = Money{12999};
  p.stock = stock;
  p.max_per_user = 2;
  p.version = 3;
  return p;
}

// The value of one series in the registry's text ("orders_cache_bypass_total" or
// "orders_cache_requests_total{result=\"hit\"}"); 0 when it is not there yet.
std::uint64_t metric(const std::string& series) {
  std::istringstream text(metrics::registry().render());
  for (std::string line; std::getline(text, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stoull(line.substr(series.size() + 1));
  }
  return 0;
}

std::string stock_in(const std::string& json) {
  auto at = json.find("\"stock\":");
  if (at == std::string::npos) return "none";
  auto end = json.find_first_of(",}", at);
  return json.substr(at + 8, end - at - 8);
}

struct Catalog {
  FakeProductRecord record;
  FakeCatalogCache cache;
  FakeEventSink events;
  SingleFlight<LoadedProduct> loads;
  CatalogService service{record, cache, cache, loads, CacheSettings{}, &events};

  ProductView get(const std::string& id = kId) { return run_coroutine(service.get_product(id)); }
};

}  // namespace

TEST(CatalogService, CacheHitReadsNoRecord) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.copies[kId] = CachedCopy{CachedCopy::Kind::kProduct, product_json_without_stock(product(10))};
  t.cache.counters[kId] = 7;
  auto hits = metric(R"(orders_cache_requests_total{result="hit"})");
  auto view = t.get();
  EXPECT_TRUE(view.found);
  EXPECT_TRUE(view.cache_hit);
  EXPECT_EQ(stock_in(view.json), "7") << "the live counter, not the cached or recorded stock";
  EXPECT_EQ(t.record.finds, 0);
  EXPECT_EQ(t.cache.fills, 0);
  EXPECT_EQ(metric(R"(orders_cache_requests_total{result="hit"})"), hits + 1);
}

TEST(CatalogService, MissReadsTheRecordFillsTheCacheAndMergesTheLiveStock) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.counters[kId] = 4;  // six units sold since the record's figure
  auto misses = metric(R"(orders_cache_requests_total{result="miss"})");
  auto view = t.get();
  EXPECT_TRUE(view.found);
  EXPECT_FALSE(view.cache_hit);
  EXPECT_EQ(stock_in(view.json), "4");
  EXPECT_EQ(t.record.finds, 1);
  ASSERT_EQ(t.cache.copies.count(kId), 1u);
  EXPECT_EQ(t.cache.copies[kId].kind, CachedCopy::Kind::kProduct);
  EXPECT_EQ(t.cache.copies[kId].json_without_stock, product_json_without_stock(product(10)));
  ASSERT_EQ(t.cache.fill_ttls.size(), 1u);
  EXPECT_GE(t.cache.fill_ttls[0], 300);
  EXPECT_LE(t.cache.fill_ttls[0], 360);
  EXPECT_EQ(metric(R"(orders_cache_requests_total{result="miss"})"), misses + 1);

  auto again = t.get();
  EXPECT_TRUE(again.cache_hit);
  EXPECT_EQ(t.record.finds, 1) << "the filled copy serves the next read";
}

TEST(CatalogService, MissWithoutACounterTakesTheRecordsStock) {
  Catalog t;
  t.record.products[kId] = product(10);
  auto view = t.get();
  EXPECT_TRUE(view.found);
  EXPECT_EQ(stock_in(view.json), "10");
}

TEST(CatalogService, MissingProductIsCachedNegatively) {
  Catalog t;
  auto negatives = metric(R"(orders_cache_requests_total{result="negative"})");
  auto first = t.get();
  EXPECT_FALSE(first.found);
  EXPECT_FALSE(first.cache_hit);
  EXPECT_EQ(t.record.finds, 1);
  ASSERT_EQ(t.cache.copies.count(kId), 1u);
  EXPECT_EQ(t.cache.copies[kId].kind, CachedCopy::Kind::kAbsent);
  ASSERT_EQ(t.cache.fill_ttls.size(), 1u);
  EXPECT_EQ(t.cache.fill_ttls[0], 30) << "the negative TTL";

  auto second = t.get();
  EXPECT_FALSE(second.found);
  EXPECT_TRUE(second.cache_hit);
  EXPECT_EQ(t.record.finds, 1) << "the negative entry answered without the record";
  EXPECT_EQ(metric(R"(orders_cache_requests_total{result="negative"})"), negatives + 1);
}

TEST(CatalogService, WriteBetweenReadAndFillDoesNotCacheAStaleCopy) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.counters[kId] = 10;
  // An update commits and publishes while the loader is reading the old row.
  t.record.on_find = [&](const std::string& id) {
    if (t.record.finds == 1) t.cache.write(id);
  };
  auto view = t.get();
  EXPECT_TRUE(view.found);
  EXPECT_EQ(t.cache.fills, 1);
  EXPECT_EQ(t.cache.stale_fills, 1);
  EXPECT_EQ(t.cache.copies.count(kId), 0u) << "the copy read before the write was not cached";

  t.get();
  EXPECT_EQ(t.record.finds, 2);
  EXPECT_EQ(t.cache.copies.count(kId), 1u) << "a read after the write fills the cache";
}

TEST(CatalogService, ConcurrentMissesOfOneProductShareOneRecordRead) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.counters[kId] = 9;
  boost::asio::io_context io;
  std::vector<ProductView> views;
  constexpr int kReaders = 5;
  for (int i = 0; i < kReaders; ++i) {
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          views.push_back(co_await t.service.get_product(kId));
          co_return;
        },
        boost::asio::detached);
  }
  io.run();
  ASSERT_EQ(views.size(), static_cast<std::size_t>(kReaders));
  for (const auto& v : views) {
    EXPECT_TRUE(v.found);
    EXPECT_EQ(stock_in(v.json), "9");
  }
  EXPECT_EQ(t.record.finds, 1);
  EXPECT_EQ(t.cache.fills, 1);
}

// Reads of several products that reach one thread together (a crowd on a sale's pages) share
// one MGET: each product once, each reader its own product's live stock.
TEST(CatalogService, ConcurrentReadsOfSeveralProductsShareOneLookup) {
  Catalog t;
  const std::vector<std::string> ids{kId, "0190c3b2-6f1e-7a2b-8c3d-000000000001",
                                     "0190c3b2-6f1e-7a2b-8c3d-000000000002"};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    Product p = product(10);
    p.id = ids[i];
    p.name = "item " + std::to_string(i);
    t.cache.copies[ids[i]] = CachedCopy{CachedCopy::Kind::kProduct, product_json_without_stock(p)};
    t.cache.counters[ids[i]] = static_cast<std::int64_t>(i) + 7;
  }
  const auto shared_before = metric("orders_cache_shared_reads_total");
  boost::asio::io_context io;
  // Five readers, two of them of the first product, and one of a product nobody has.
  const std::vector<std::string> asked{ids[0], ids[1], ids[0], ids[2], "0190c3b2-6f1e-7a2b-8c3d-0000000000ff"};
  std::vector<ProductView> views(asked.size());
  for (std::size_t r = 0; r < asked.size(); ++r) {
    boost::asio::co_spawn(
        io,
        [&, r]() -> boost::asio::awaitable<void> {
          views[r] = co_await t.service.get_product(asked[r]);
          co_return;
        },
        boost::asio::detached);
  }
  io.run();
  ASSERT_EQ(t.cache.lookup_groups.size(), 1u) << "five reads, one MGET";
  EXPECT_EQ(t.cache.lookup_groups[0], (std::vector<std::string>{ids[0], ids[1], ids[2], asked[4]}))
      << "each product once, in the order asked";
  for (std::size_t r = 0; r < 4; ++r) {
    ASSERT_TRUE(views[r].found) << r;
    EXPECT_TRUE(views[r].cache_hit) << r;
    const std::size_t i = static_cast<std::size_t>(std::find(ids.begin(), ids.end(), asked[r]) - ids.begin());
    EXPECT_EQ(stock_in(views[r].json), std::to_string(i + 7)) << "reader " << r << " got another product's stock";
    EXPECT_NE(views[r].json.find("\"item " + std::to_string(i) + "\""), std::string::npos) << views[r].json;
  }
  EXPECT_FALSE(views[4].found);
  EXPECT_EQ(metric("orders_cache_shared_reads_total") - shared_before, 4u) << "five reads, one MGET";
}

// SPEC: `stock` is never served stale. A read that arrives while a group's MGET is out waits for
// the next one, so it never gets a counter read before it arrived.
TEST(CatalogService, AReadArrivingWhileALookupIsOutGoesInTheNext) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.copies[kId] = CachedCopy{CachedCopy::Kind::kProduct, product_json_without_stock(product(10))};
  t.cache.counters[kId] = 5;
  boost::asio::io_context io;
  ProductView first, late;
  t.cache.on_lookup_many = [&](const std::vector<std::string>&) {
    if (t.cache.lookup_groups.size() != 1) return;
    t.cache.counters[kId] = 4;  // a purchase answered after the first MGET read the counter
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          late = co_await t.service.get_product(kId);
          co_return;
        },
        boost::asio::detached);
  };
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        first = co_await t.service.get_product(kId);
        co_return;
      },
      boost::asio::detached);
  io.run();
  EXPECT_EQ(stock_in(first.json), "5");
  EXPECT_EQ(stock_in(late.json), "4") << "the late read was answered from a lookup sent before it arrived";
  EXPECT_EQ(t.cache.lookup_groups.size(), 2u);
}

TEST(CatalogService, RedisUnavailableServesTheRecord) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.down = true;
  auto fallbacks = metric("orders_cache_bypass_total");
  auto view = t.get();
  EXPECT_TRUE(view.found);
  EXPECT_FALSE(view.cache_hit);
  EXPECT_EQ(stock_in(view.json), "10") << "the record's stock";
  EXPECT_EQ(t.record.finds, 1);
  EXPECT_EQ(t.cache.fills, 0);
  EXPECT_EQ(metric("orders_cache_bypass_total"), fallbacks + 1);

  EXPECT_FALSE(t.get("0190c3b2-6f1e-7a2b-8c3d-000000000000").found);
}

TEST(CatalogService, ListMergesLiveStockAndFallsBackToTheRecord) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.counters[kId] = 3;
  auto page = run_coroutine(t.service.list_products(1, 20, std::nullopt));
  EXPECT_EQ(page.total, 1);
  EXPECT_EQ(stock_in(page.json_array), "3");

  t.cache.down = true;
  auto without_redis = run_coroutine(t.service.list_products(1, 20, std::nullopt));
  EXPECT_EQ(stock_in(without_redis.json_array), "10");
}

TEST(CatalogService, CreatePublishesTheSaleRulesAndTheCounter) {
  Catalog t;
  NewProduct n{.name = "Limited Hoodie", .price = Money{4999}, .stock = 25, .max_per_user = 1};
  auto created = run_coroutine(t.service.create_product(n));
  ASSERT_TRUE(std::holds_alternative<std::string>(created));
  EXPECT_EQ(stock_in(std::get<std::string>(created)), "25");
  ASSERT_EQ(t.cache.published.size(), 1u);
  const auto& rules = t.cache.published[0];
  EXPECT_EQ(rules.product.price, Money{4999});
  EXPECT_EQ(rules.product.max_per_user, std::optional<std::int64_t>(1));
  EXPECT_EQ(rules.initial_stock, std::optional<std::int64_t>(25));
  EXPECT_EQ(t.cache.counters[rules.product.id], 25);
}

TEST(CatalogService, WritesWithoutRedisAreRefusedBeforeTheRecord) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.is_connected = false;
  NewProduct n{.name = "Limited Hoodie", .price = Money{4999}, .stock = 25};
  EXPECT_THROW(run_coroutine(t.service.create_product(n)), DependencyUnavailable);
  ProductPatch patch;
  patch.stock = 5;
  EXPECT_THROW(run_coroutine(t.service.update_product(kId, patch)), DependencyUnavailable);
  EXPECT_THROW(run_coroutine(t.service.deactivate_product(kId)), DependencyUnavailable);
  EXPECT_EQ(t.record.products.size(), 1u);
  EXPECT_TRUE(t.record.applied.empty());
  EXPECT_TRUE(t.record.deactivated.empty());
}

TEST(CatalogService, UpdateOfStockMovesTheCounterAndPublishesStockAdjusted) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.counters[kId] = 8;  // two units reserved, not yet in the record
  ProductPatch patch;
  patch.stock = 20;
  auto updated = run_coroutine(t.service.update_product(kId, patch));
  ASSERT_TRUE(std::holds_alternative<std::string>(updated));
  EXPECT_EQ(stock_in(std::get<std::string>(updated)), "20");
  ASSERT_EQ(t.record.applied.size(), 1u);
  EXPECT_EQ(t.record.applied[0].second, 12) << "the counter's move, applied to the record";
  ASSERT_EQ(t.cache.published.size(), 1u);
  EXPECT_EQ(t.cache.published[0].product.version, 4);
  EXPECT_FALSE(t.cache.published[0].initial_stock) << "the counter existed: it is not reset";
  ASSERT_EQ(t.events.published.size(), 1u);
  const auto& m = t.events.published[0];
  EXPECT_EQ(m.exchange, "orders");
  EXPECT_EQ(m.routing_key, "stock.adjusted");
  EXPECT_EQ(m.type, "stock.adjusted");
  EXPECT_NE(m.body.find(R"("productId":")" + std::string(kId) + "\""), std::string::npos) << m.body;
  EXPECT_NE(m.body.find(R"("delta":12,"stock":20)"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("\"id\":\"" + m.message_id + "\""), std::string::npos) << "the event id is the message id";
}

TEST(CatalogService, UpdateWithoutACounterTakesTheRecordAsTheBase) {
  Catalog t;
  t.record.products[kId] = product(10);
  ProductPatch patch;
  patch.stock = 15;
  auto updated = run_coroutine(t.service.update_product(kId, patch));
  ASSERT_TRUE(std::holds_alternative<std::string>(updated));
  ASSERT_EQ(t.record.applied.size(), 1u);
  EXPECT_EQ(t.record.applied[0].second, 5);
  ASSERT_EQ(t.cache.published.size(), 1u);
  EXPECT_EQ(t.cache.published[0].initial_stock, std::optional<std::int64_t>(15));
  ASSERT_EQ(t.events.published.size(), 1u);
  EXPECT_NE(t.events.published[0].body.find(R"("delta":5,"stock":15)"), std::string::npos);
}

TEST(CatalogService, UpdateWithoutAStockChangePublishesRulesButNoEvent) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.counters[kId] = 10;
  ProductPatch patch;
  patch.price = Money{9999};
  auto updated = run_coroutine(t.service.update_product(kId, patch));
  ASSERT_TRUE(std::holds_alternative<std::string>(updated));
  ASSERT_EQ(t.cache.published.size(), 1u);
  EXPECT_EQ(t.cache.published[0].product.price, Money{9999});
  EXPECT_TRUE(t.events.published.empty());

  ProductPatch same;
  same.stock = 10;
  run_coroutine(t.service.update_product(kId, same));
  EXPECT_TRUE(t.events.published.empty()) << "a stock set that moved nothing is no event";
}

TEST(CatalogService, UpdateTheRecordRefusesTakesTheCounterBack) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.counters[kId] = 8;
  t.record.refuse_apply = refusal(ProblemKind::kConflict, codes::kConflict, "Stock cannot go below zero", "stock");
  ProductPatch patch;
  patch.stock = 20;
  auto updated = run_coroutine(t.service.update_product(kId, patch));
  ASSERT_TRUE(std::holds_alternative<Problem>(updated));
  EXPECT_EQ(t.cache.counters[kId], 8);
  EXPECT_TRUE(t.cache.published.empty());
  EXPECT_TRUE(t.events.published.empty());
}

TEST(CatalogService, UpdateRedisLostMidwayRollsTheRecordBack) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.counters[kId] = 8;
  ProductPatch patch;
  patch.stock = 20;
  t.cache.down = true;  // connected() still says yes: the connection drops under the script
  EXPECT_THROW(run_coroutine(t.service.update_product(kId, patch)), DependencyUnavailable);
  EXPECT_EQ(t.record.rollbacks, 1);
  EXPECT_TRUE(t.record.applied.empty());
}

TEST(CatalogService, UpdateOfAnUnknownProductIsNotFound) {
  Catalog t;
  ProductPatch patch;
  patch.stock = 20;
  auto updated = run_coroutine(t.service.update_product(kId, patch));
  ASSERT_TRUE(std::holds_alternative<Problem>(updated));
  EXPECT_EQ(std::get<Problem>(updated).kind, ProblemKind::kNotFound);
  EXPECT_TRUE(t.cache.counters.empty());
}

TEST(CatalogService, DeactivateRemovesTheSaleRules) {
  Catalog t;
  t.record.products[kId] = product(10);
  t.cache.counters[kId] = 8;
  EXPECT_TRUE(run_coroutine(t.service.deactivate_product(kId)));
  ASSERT_EQ(t.cache.removed.size(), 1u);
  EXPECT_EQ(t.cache.removed[0].first, kId);
  EXPECT_EQ(t.cache.removed[0].second, 4) << "the version the record gave the deactivation";
  EXPECT_EQ(t.cache.counters.count(kId), 0u);

  EXPECT_FALSE(run_coroutine(t.service.deactivate_product(kId)));
  EXPECT_EQ(t.cache.removed.size(), 1u) << "nothing to remove for a product that is not active";
}

TEST(CatalogService, StoreIsOnlyThereInProduction) {
  Catalog t;
  EXPECT_THROW(t.service.store(), std::logic_error);
}
