#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/uuid.hpp"
#include "config/config.hpp"
#include "support/amqp_queue.hpp"
#include "support/api_helpers.hpp"
#include "support/private_redis.hpp"
#include "support/process.hpp"

using namespace orders::testing;
namespace json = boost::json;

namespace {

std::string unique(const std::string& prefix) { return prefix + " " + orders::uuid::make_v7().substr(24); }

class Catalog : public SharedApiTest {};

}  // namespace

TEST_F(Catalog, CategoryCrudRoundTrip) {
  std::string name = unique("Limited Drops");
  auto created = http_request(port(), "POST", "/api/categories", json::serialize(json::object{{"name", name}}));
  ASSERT_EQ(created.status, 201) << created.body;
  auto data = json_of(created).at("data");
  std::string id(data.at("id").as_string());
  EXPECT_EQ(created.header("location"), "/api/categories/" + id);
  EXPECT_EQ(data.at("slug").as_string().subview().substr(0, 14), "limited-drops-");

  auto got = http_get(port(), "/api/categories/" + id);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(json_of(got).at("data").at("name"), name.c_str());

  auto updated = http_request(port(), "PUT", "/api/categories/" + id, R"({"description":"Hot"})");
  EXPECT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(json_of(updated).at("data").at("description"), "Hot");

  auto list = http_get(port(), "/api/categories");
  EXPECT_NE(list.body.find(id), std::string::npos);

  EXPECT_EQ(http_request(port(), "DELETE", "/api/categories/" + id).status, 200);
  EXPECT_EQ(http_get(port(), "/api/categories/" + id).status, 404);
  EXPECT_EQ(http_request(port(), "DELETE", "/api/categories/" + id).status, 404);
}

TEST_F(Catalog, DuplicateCategoryNameOrSlugIs409NamingTheField) {
  std::string name = unique("Dup");
  ASSERT_EQ(http_request(port(), "POST", "/api/categories", json::serialize(json::object{{"name", name}})).status, 201);
  auto again = http_request(port(), "POST", "/api/categories", json::serialize(json::object{{"name", name}}));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(json_of(again).at("code"), "CONFLICT");
  EXPECT_EQ(json_of(again).at("details").at(0).at("field"), "name");
  auto slug = http_request(
      port(), "POST", "/api/categories",
      json::serialize(json::object{{"name", name + " other"}, {"slug", orders::uuid::make_v7().substr(24)}}));
  ASSERT_EQ(slug.status, 201);
  std::string taken(json_of(slug).at("data").at("slug").as_string());
  auto clash = http_request(port(), "POST", "/api/categories",
                            json::serialize(json::object{{"name", unique("x")}, {"slug", taken}}));
  EXPECT_EQ(clash.status, 409);
  EXPECT_EQ(json_of(clash).at("details").at(0).at("field"), "slug");
}

TEST_F(Catalog, CategoryWithActiveProductsCannotBeDeleted) {
  auto c = http_request(port(), "POST", "/api/categories", json::serialize(json::object{{"name", unique("Busy")}}));
  std::string cid(json_of(c).at("data").at("id").as_string());
  std::string pid = create_product(port(), R"({"name":"p","price":1,"stock":1,"categoryId":")" + cid + "\"}");
  auto refused = http_request(port(), "DELETE", "/api/categories/" + cid);
  EXPECT_EQ(refused.status, 409) << refused.body;
  ASSERT_EQ(http_request(port(), "DELETE", "/api/products/" + pid).status, 200);
  EXPECT_EQ(http_request(port(), "DELETE", "/api/categories/" + cid).status, 200);
}

TEST_F(Catalog, ProductCreateGetUpdateDelete) {
  auto r = http_request(port(), "POST", "/api/products",
                        R"({"name":"Drop","price":19.99,"stock":100,"maxPerUser":2,"sku":")" +
                            orders::uuid::make_v7().substr(24) + R"(","saleStartsAt":"2026-01-01T00:00:00Z"})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto data = json_of(r).at("data");
  std::string id(data.at("id").as_string());
  EXPECT_EQ(r.header("location"), "/api/products/" + id);
  EXPECT_NE(r.body.find("\"price\":19.99"), std::string::npos) << r.body;
  EXPECT_EQ(data.at("stock"), 100);
  EXPECT_EQ(data.at("maxPerUser"), 2);
  EXPECT_EQ(data.at("saleStartsAt"), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(data.at("isActive"), true);
  EXPECT_EQ(redis_cli({"GET", "{p:" + id + "}:stock"}), "100");
  EXPECT_EQ(psql("SELECT price::text || ' ' || stock FROM products WHERE id = '" + id + "'"), "19.99 100");
  EXPECT_EQ(psql("SELECT sum(delta) FROM inventory_movements WHERE product_id = '" + id + "'"), "100");

  auto first = http_get(port(), "/api/products/" + id);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("x-cache"), "MISS");
  auto second = http_get(port(), "/api/products/" + id);
  EXPECT_EQ(second.header("x-cache"), "HIT");
  EXPECT_NE(second.body.find("\"price\":19.99"), std::string::npos);

  auto put = http_request(port(), "PUT", "/api/products/" + id, R"({"price":24.5,"name":"Drop v2"})");
  EXPECT_EQ(put.status, 200) << put.body;
  auto after = http_get(port(), "/api/products/" + id);
  EXPECT_EQ(after.header("x-cache"), "MISS") << "a write removes the cached copy";
  EXPECT_NE(after.body.find("\"price\":24.50"), std::string::npos) << after.body;
  EXPECT_EQ(json_of(after).at("data").at("name"), "Drop v2");

  EXPECT_EQ(http_request(port(), "DELETE", "/api/products/" + id).status, 200);
  auto gone = http_get(port(), "/api/products/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(redis_cli({"EXISTS", "{p:" + id + "}:stock"}), "0") << "a deactivated product no longer sells";
  EXPECT_EQ(http_request(port(), "DELETE", "/api/products/" + id).status, 404);
  EXPECT_EQ(http_request(port(), "PUT", "/api/products/" + id, R"({"stock":1})").status, 404);
}

TEST_F(Catalog, StockChangeIsADeltaOnCounterRecordAndLedger) {
  std::string id = create_product(port(), R"({"name":"s","price":5,"stock":10})");
  http_get(port(), "/api/products/" + id);  // cache it
  // A purchase (simulated on the counter) takes 3 units; PostgreSQL does not know yet.
  redis_cli({"DECRBY", "{p:" + id + "}:stock", "3"});
  auto put = http_request(port(), "PUT", "/api/products/" + id, R"({"stock":20})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(json_of(put).at("data").at("stock"), 20);
  EXPECT_EQ(redis_cli({"GET", "{p:" + id + "}:stock"}), "20");
  // Delta +13 (7 -> 20) applied to the record: 10 + 13 = 23, which the pending order's -3 will
  // bring to 20 when a worker persists it.
  EXPECT_EQ(psql("SELECT stock FROM products WHERE id = '" + id + "'"), "23");
  EXPECT_EQ(
      psql("SELECT string_agg(reason || ':' || delta, ',' ORDER BY id) FROM inventory_movements WHERE product_id = '" +
           id + "'"),
      "INITIAL:10,ADJUSTMENT:13");
  auto read = http_get(port(), "/api/products/" + id);
  EXPECT_EQ(read.header("x-cache"), "MISS");
  EXPECT_EQ(json_of(read).at("data").at("stock"), 20);
  EXPECT_EQ(http_request(port(), "PUT", "/api/products/" + id, R"({"stock":-1})").status, 400);
}

TEST_F(Catalog, StockChangesArePublishedAsStockAdjusted) {
  TestQueue queue("stock.adjusted");
  std::string id = create_product(port(), R"({"name":"announced","price":3,"stock":10})");
  ASSERT_EQ(http_request(port(), "PUT", "/api/products/" + id, R"({"stock":15})").status, 200);
  ASSERT_EQ(http_request(port(), "PUT", "/api/products/" + id, R"({"price":4})").status, 200);  // no stock change
  ASSERT_EQ(http_request(port(), "PUT", "/api/products/" + id, R"({"stock":12})").status, 200);
  std::vector<boost::json::value> events;
  for (const auto& m : queue.drain()) {
    auto v = boost::json::parse(m.body);
    if (v.at("data").at("productId") == id.c_str()) events.push_back(v);
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("type"), "stock.adjusted");
  EXPECT_EQ(events[0].at("data").at("delta"), 5);
  EXPECT_EQ(events[0].at("data").at("stock"), 15);
  EXPECT_EQ(events[1].at("data").at("delta"), -3);
  EXPECT_EQ(events[1].at("data").at("stock"), 12);
}

TEST_F(Catalog, CachedResponseShowsLiveStockAtOnce) {
  std::string id = create_product(port(), R"({"name":"live","price":1,"stock":50})");
  http_get(port(), "/api/products/" + id);
  ASSERT_EQ(http_get(port(), "/api/products/" + id).header("x-cache"), "HIT");
  redis_cli({"DECRBY", "{p:" + id + "}:stock", "7"});
  auto r = http_get(port(), "/api/products/" + id);
  EXPECT_EQ(r.header("x-cache"), "HIT");
  EXPECT_EQ(json_of(r).at("data").at("stock"), 43);
}

// Everyone refreshing one product during a sale: reads of the moment share Redis reads (one
// MGET per round trip, CatalogService's grouped lookups), and none shows more stock than was left
// when it was sent. The window in which a group could answer a caller with a read sent before it
// arrived is one Redis round trip, too short for this check to catch reliably; the unit tests
// (CatalogService.AReadArrivingWhileALookupIsOutGoesInTheNext, CallBatch) hold reads open and
// prove it.
TEST_F(Catalog, ConcurrentReadsShareRedisReadsAndNeverShowStockOlderThanTheRequest) {
  constexpr int kStock = 150, kReaders = 12, kReadsEach = 150;
  std::string id = create_product(port(), R"({"name":"refreshed","price":1,"stock":150})");
  ASSERT_EQ(http_get(port(), "/api/products/" + id).status, 200);  // fills the cache
  const double shared_before = metric_value(port(), "orders_cache_shared_reads_total");
  std::atomic<int> left{kStock};  // the stock after the last purchase answered 202
  std::atomic<int> stale{0}, answered{0};
  concurrently(kReaders + 1, [&](int t) {
    if (t == kReaders) {
      for (int n = 0; n < kStock; ++n) {
        auto r = buy(port(), "refresher-" + std::to_string(n), id);
        ASSERT_EQ(r.status, 202) << r.body;
        left = kStock - n - 1;
      }
      return;
    }
    for (int n = 0; n < kReadsEach; ++n) {
      const int bound = left.load();
      auto r = http_get(port(), "/api/products/" + id);
      ASSERT_EQ(r.status, 200) << r.body;
      if (json_of(r).at("data").at("stock").to_number<int>() > bound) ++stale;
      ++answered;
    }
  });
  EXPECT_EQ(answered.load(), kReaders * kReadsEach);
  EXPECT_EQ(stale.load(), 0) << "reads showed stock a purchase answered before them had taken";
  EXPECT_EQ(json_of(http_get(port(), "/api/products/" + id)).at("data").at("stock"), 0);
  EXPECT_GT(metric_value(port(), "orders_cache_shared_reads_total"), shared_before)
      << "no read shared another's Redis read";
}

// A crowd on several products' pages: their reads share MGETs of several products, and each
// answer is its own product's copy with its own live counter (a slice of another product's
// reply would show another name or stock).
TEST_F(Catalog, ConcurrentReadsOfSeveralProductsEachShowTheirOwnProduct) {
  constexpr int kProducts = 6, kReaders = 12, kReadsEach = 100;
  std::vector<std::string> ids;
  for (int i = 0; i < kProducts; ++i) {
    ids.push_back(create_product(port(), R"({"name":"page )" + std::to_string(i) + R"(","price":1,"stock":100})"));
    ASSERT_EQ(http_get(port(), "/api/products/" + ids.back()).status, 200);  // fills the cache
    redis_cli({"DECRBY", "{p:" + ids.back() + "}:stock", std::to_string(i * 7)});
  }
  const double shared_before = metric_value(port(), "orders_cache_shared_reads_total");
  std::atomic<int> wrong{0}, answered{0};
  concurrently(kReaders, [&](int t) {
    for (int n = 0; n < kReadsEach; ++n) {
      const int i = (t + n) % kProducts;
      auto r = http_get(port(), "/api/products/" + ids[i]);
      ASSERT_EQ(r.status, 200) << r.body;
      const auto data = json_of(r).at("data");
      if (data.at("id").as_string() != ids[i] || data.at("name").as_string() != "page " + std::to_string(i) ||
          data.at("stock").to_number<int>() != 100 - i * 7) {
        ++wrong;
      }
      ++answered;
    }
  });
  EXPECT_EQ(answered.load(), kReaders * kReadsEach);
  EXPECT_EQ(wrong.load(), 0) << "reads answered with another product's copy or counter";
  EXPECT_GT(metric_value(port(), "orders_cache_shared_reads_total"), shared_before) << "no read shared another's MGET";
}

TEST_F(Catalog, ConcurrentMissesLoadFromPostgresOnce) {
  std::string id = create_product(port(), R"({"name":"hot","price":1,"stock":5})");
  double before = metric_value(port(), "orders_db_loads_total");
  std::atomic<int> ok{0};
  concurrently(200, [&](int) {
    if (http_get(port(), "/api/products/" + id).status == 200) ++ok;
  });
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(metric_value(port(), "orders_db_loads_total") - before, 1);
}

TEST_F(Catalog, UnknownIdsAreNegativelyCached) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(orders::uuid::make_v7());
  auto sweep = [&] {
    concurrently(8, [&](int t) {
      for (int i = t; i < 1000; i += 8) EXPECT_EQ(http_get(port(), "/api/products/" + ids[i]).status, 404);
    });
  };
  double before = metric_value(port(), "orders_db_loads_total");
  sweep();
  double after_first = metric_value(port(), "orders_db_loads_total");
  EXPECT_LE(after_first - before, 1000);
  sweep();
  EXPECT_EQ(metric_value(port(), "orders_db_loads_total"), after_first)
      << "the second sweep reaches PostgreSQL not once";
  EXPECT_GE(metric_value(port(), "orders_cache_requests_total{result=\"negative\"}"), 1000);
}

TEST_F(Catalog, ListIsPaginatedNewestFirstAndFiltersByCategory) {
  auto c = http_request(port(), "POST", "/api/categories", json::serialize(json::object{{"name", unique("List")}}));
  std::string cid(json_of(c).at("data").at("id").as_string());
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(create_product(
        port(), R"({"name":"item)" + std::to_string(i) + R"(","price":1,"stock":3,"categoryId":")" + cid + "\"}"));
  }
  auto page1 = json_of(http_get(port(), "/api/products?page=1&limit=2&categoryId=" + cid));
  EXPECT_EQ(page1.at("pagination").at("total"), 5);
  EXPECT_EQ(page1.at("pagination").at("pages"), 3);
  EXPECT_EQ(page1.at("pagination").at("limit"), 2);
  ASSERT_EQ(page1.at("data").as_array().size(), 2u);
  EXPECT_EQ(page1.at("data").at(0).at("id"), ids[4].c_str());
  EXPECT_EQ(page1.at("data").at(1).at("id"), ids[3].c_str());
  auto page3 = json_of(http_get(port(), "/api/products?page=3&limit=2&categoryId=" + cid));
  ASSERT_EQ(page3.at("data").as_array().size(), 1u);
  EXPECT_EQ(page3.at("data").at(0).at("id"), ids[0].c_str());
  auto page9 = json_of(http_get(port(), "/api/products?page=9&limit=2&categoryId=" + cid));
  EXPECT_EQ(page9.at("data").as_array().size(), 0u);
  EXPECT_EQ(page9.at("pagination").at("total"), 5);
  redis_cli({"DECRBY", "{p:" + ids[4] + "}:stock", "2"});
  EXPECT_EQ(json_of(http_get(port(), "/api/products?limit=1&categoryId=" + cid)).at("data").at(0).at("stock"), 1)
      << "list shows live stock";
}

TEST_F(Catalog, BadInputIs400NamingTheField) {
  struct Case {
    std::string method, target, body, field;
    int status;
  } cases[] = {
      {"GET", "/api/products/not-a-uuid", "", "id", 400},
      {"GET", "/api/categories/123", "", "id", 400},
      {"GET", "/api/products?limit=0", "", "limit", 400},
      {"GET", "/api/products?limit=101", "", "limit", 400},
      {"GET", "/api/products?page=x", "", "page", 400},
      {"POST", "/api/products", "{", "body", 400},
      {"POST", "/api/products", R"({"name":"x","price":-1,"stock":1})", "price", 400},
      {"POST", "/api/products", R"({"name":"x","price":1.234,"stock":1})", "price", 400},
      {"POST", "/api/products", R"({"name":"x","price":1,"stock":1,"extra":1})", "extra", 400},
      {"POST", "/api/products", R"({"name":")" + std::string(201, 'n') + R"(","price":1,"stock":1})", "name", 400},
      {"POST", "/api/products", R"({"name":"x","price":1,"stock":1,"categoryId":")" + orders::uuid::make_v7() + "\"}",
       "categoryId", 400},
      {"PUT", "/api/products/" + orders::uuid::make_v7(), R"({"stock":"many"})", "stock", 400},
      {"POST", "/api/categories", R"({"name":123})", "name", 400},
  };
  for (const auto& c : cases) {
    auto r = http_request(port(), c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body << " -> " << r.body;
    if (c.field == "categoryId") {
      EXPECT_NE(r.body.find("names no existing category"), std::string::npos) << r.body;
    }
    auto body = json_of(r);
    EXPECT_EQ(body.at("success"), false);
    bool named = false;
    for (const auto& d : body.at("details").as_array()) named = named || d.at("field") == c.field.c_str();
    EXPECT_TRUE(named) << c.target << " " << c.body << " -> " << r.body;
  }
}

TEST(CatalogWithoutRedis, ReadsFallBackToPostgresNeverA500OrAHang) {
  PrivateRedis redis;
  ApiProcess api({"--redis-url", redis.url()});
  std::string id = create_product(api.port(), R"({"name":"resilient","price":3,"stock":9})");
  ASSERT_EQ(http_get(api.port(), "/api/products/" + id).status, 200);
  redis.kill();
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto r = http_get(api.port(), "/api/products/" + id);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json_of(r).at("data").at("stock"), 9);
    auto list = http_get(api.port(), "/api/products?limit=1");
    EXPECT_EQ(list.status, 200);
    auto write = http_request(api.port(), "POST", "/api/products", R"({"name":"w","price":1,"stock":1})");
    EXPECT_EQ(write.status, 503) << write.body;
  }
  redis.start();
  std::this_thread::sleep_for(std::chrono::seconds(1));
}

// Concurrent updates publish their sale rules in whatever order they finish; a delete races
// updates too. Redis ends with the record's rules (the newest version), and a deleted product
// never sells again.
TEST_F(Catalog, ConcurrentUpdatesAndADeleteLeaveRedisWithTheRecordsRules) {
  for (int round = 0; round < 4; ++round) {
    std::string id = create_product(port(), R"({"name":"raced","price":1,"stock":10})");
    concurrently(16, [&](int i) {
      auto r = http_request(
          port(), "PUT", "/api/products/" + id,
          R"({"price":)" + std::to_string(100 + round * 100 + i) + R"(,"maxPerUser":)" + std::to_string(1 + i) + "}");
      EXPECT_EQ(r.status, 200) << r.body;
    });
    const std::string tag = "{p:" + id + "}";
    EXPECT_EQ(redis_cli({"HGET", tag + ":info", "price"}),
              psql("SELECT (price * 100)::bigint FROM products WHERE id = '" + id + "'"));
    EXPECT_EQ(redis_cli({"HGET", tag + ":info", "max"}),
              psql("SELECT max_per_user FROM products WHERE id = '" + id + "'"));
    EXPECT_EQ(redis_cli({"HGET", tag + ":info", "version"}),
              psql("SELECT version FROM products WHERE id = '" + id + "'"));

    // A DELETE among PUTs: whatever committed before it, the product is gone from sale.
    concurrently(12, [&](int i) {
      if (i == 6) {
        EXPECT_EQ(http_request(port(), "DELETE", "/api/products/" + id).status, 200);
        return;
      }
      auto r = http_request(port(), "PUT", "/api/products/" + id, R"({"price":)" + std::to_string(7 + i) + "}");
      EXPECT_TRUE(r.status == 200 || r.status == 404) << r.status << " " << r.body;
    });
    EXPECT_EQ(psql("SELECT is_active FROM products WHERE id = '" + id + "'"), "f");
    EXPECT_NE(redis_cli({"HGET", tag + ":info", "active"}), "1");
    EXPECT_EQ(redis_cli({"EXISTS", tag + ":stock"}), "0");
    auto buy = http_request(port(), "POST", "/api/orders",
                            R"({"userId":"raced","items":[{"productId":")" + id + R"(","quantity":1}]})");
    EXPECT_EQ(buy.status, 404) << buy.body;
  }
}
