#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <future>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "app/probes.hpp"
#include "app/redis_mode.hpp"
#include "catalog/catalog_service.hpp"
#include "catalog/validation.hpp"
#include "common/dependency_error.hpp"
#include "common/time.hpp"

namespace orders::app {
namespace asio = boost::asio;

namespace {

struct DemoCategory {
  const char* name;
  const char* description;
};

constexpr DemoCategory kCategories[] = {
    {"Electronics", "Phones, consoles and gadgets"},
    {"Books", "Signed first editions and box sets"},
    {"Home & Kitchen", "Cookware and small appliances"},
    {"Fashion", "Sneakers and apparel drops"},
    {"Sports", "Gear and jerseys"},
    {"Tickets", "Concert and event tickets"},
};

struct DemoProduct {
  const char* category;  // name of one of kCategories
  const char* body;      // the POST /api/products body, minus categoryId
};

// The SKU makes each product's seed idempotent (products.sku is unique).
constexpr DemoProduct kProducts[] = {
    {"Electronics", R"({"name":"Handheld Console OLED","sku":"SEED-EL-001","price":349.99,"stock":120})"},
    {"Electronics", R"({"name":"Noise-Cancelling Headphones","sku":"SEED-EL-002","price":279.00,"stock":300})"},
    {"Electronics", R"({"name":"Mechanical Keyboard","sku":"SEED-EL-003","price":129.50,"stock":450})"},
    {"Electronics", R"({"name":"4K Action Camera","sku":"SEED-EL-004","price":399.00,"stock":80})"},
    {"Books", R"({"name":"Signed First Edition","sku":"SEED-BK-001","price":89.00,"stock":25,"maxPerUser":1})"},
    {"Books", R"({"name":"Collector's Box Set","sku":"SEED-BK-002","price":149.99,"stock":60})"},
    {"Books", R"({"name":"Illustrated Atlas","sku":"SEED-BK-003","price":45.00,"stock":500})"},
    {"Home & Kitchen", R"({"name":"Cast Iron Skillet","sku":"SEED-HK-001","price":39.95,"stock":800})"},
    {"Home & Kitchen", R"({"name":"Espresso Machine","sku":"SEED-HK-002","price":649.00,"stock":40})"},
    {"Home & Kitchen", R"({"name":"Chef's Knife","sku":"SEED-HK-003","price":119.00,"stock":200})"},
    {"Fashion", R"({"name":"Retro High Sneaker","sku":"SEED-FA-001","price":180.00,"stock":150,"maxPerUser":2})"},
    {"Fashion", R"({"name":"Denim Jacket","sku":"SEED-FA-002","price":95.00,"stock":350})"},
    {"Fashion", R"({"name":"Wool Beanie","sku":"SEED-FA-003","price":24.99,"stock":1000})"},
    {"Sports", R"({"name":"Home Jersey 2026","sku":"SEED-SP-001","price":89.99,"stock":600,"maxPerUser":3})"},
    {"Sports", R"({"name":"Carbon Road Bike","sku":"SEED-SP-002","price":2499.00,"stock":15})"},
    {"Sports", R"({"name":"Yoga Mat","sku":"SEED-SP-003","price":29.00,"stock":900})"},
    {"Tickets", R"({"name":"Stadium Concert - Floor","sku":"SEED-TK-001","price":120.00,"stock":2000,"maxPerUser":4})"},
    {"Tickets", R"({"name":"Festival Weekend Pass","sku":"SEED-TK-002","price":259.00,"stock":5000,"maxPerUser":2})"},
    {"Tickets", R"({"name":"Comedy Night","sku":"SEED-TK-003","price":35.00,"stock":300})"},
};

struct SeedReport {
  int categories_created = 0;
  int products_created = 0;
  int already = 0;
};

asio::awaitable<SeedReport> seed(catalog::CatalogService& catalog) {
  SeedReport report;
  std::map<std::string, std::string> category_ids;
  for (const auto& c : kCategories) {
    auto parsed = catalog::parse_new_category(std::string(R"({"name":")") + c.name + R"(","description":")" +
                                              c.description + "\"}");
    auto result = co_await catalog.store().insert_category(std::get<catalog::NewCategory>(parsed));
    if (std::holds_alternative<catalog::Category>(result)) ++report.categories_created;
    else ++report.already;
  }
  // (Named: GCC 12 mishandles a range-for over a co_await's temporary.)
  const auto categories = co_await catalog.store().list_categories();
  for (const auto& c : categories) category_ids[c.name] = c.id;

  std::vector<std::string> bodies;
  for (const auto& p : kProducts) {
    std::string body(p.body);
    body.insert(body.size() - 1, R"(,"categoryId":")" + category_ids[p.category] + "\"");
    bodies.push_back(std::move(body));
  }
  // The flash-sale product: a limit per buyer and a sale window that is open now (an hour ago
  // to a week from now), so a demo purchase works at once.
  const EpochMs now = now_ms();
  bodies.push_back(R"({"name":"Limited Drop: Golden Sneaker","sku":"SEED-FLASH-001","price":199.00,"stock":1000,)"
                   R"("maxPerUser":2,"saleStartsAt":")" +
                   format_rfc3339(now - 3600'000) + R"(","saleEndsAt":")" + format_rfc3339(now + 7 * 86400'000LL) +
                   R"(","categoryId":")" + category_ids["Fashion"] + "\"}");
  for (const auto& body : bodies) {
    auto parsed = catalog::parse_new_product(body, now);
    if (auto* problem = std::get_if<Problem>(&parsed)) {
      const FieldError& first = problem->details.front();
      throw std::logic_error("demo product invalid: " + first.field + " " + first.message);
    }
    auto result = co_await catalog.create_product(std::get<catalog::NewProduct>(parsed));
    if (std::holds_alternative<std::string>(result)) ++report.products_created;
    else ++report.already;  // its SKU exists: seeded before
  }
  co_return report;
}

}  // namespace

// Loads the demo catalog (6 categories, 20 products, one a flash sale) through the same
// catalog operations as the API, so each product gets its ledger row and Redis counter.
// Running it again changes nothing.
int run_seed(const config::Dependencies& deps) {
  config::PostgresEndpoint pg;
  config::RedisEndpoint redis_endpoint;
  std::vector<redis::ClusterNode> seeds;
  try {
    pg = config::parse_postgres_url(deps.database_url);
    redis_endpoint = config::parse_redis_url(deps.redis_url);
    seeds = cluster_seeds(deps, redis_endpoint);
  } catch (const config::ConfigError& e) {
    report_error("seed", e.what());
    return kExitConfig;
  }
  try {
    probe_postgres(pg);
    if (seeds.empty()) probe_redis(redis_endpoint);
    else probe_redis_cluster(redis_endpoint, seeds);
  } catch (const DependencyUnavailable& e) {
    report_error("seed", e.what());
    return kExitUnavailable;
  }
  asio::io_context io(1);
  postgres::Pool pool(io.get_executor(), pg.conninfo, {.size = 1});
  std::unique_ptr<redis::Commands> redis_ptr = make_redis(io.get_executor(), redis_endpoint, seeds);
  redis::Commands& redis = *redis_ptr;
  catalog::SingleFlight<catalog::LoadedProduct> loads;
  catalog::CatalogService catalog(pool, redis, loads);
  redis.start();
  auto run = [&]() -> asio::awaitable<SeedReport> {
    asio::steady_timer wait(io);
    for (int i = 0; i < 100 && !redis.connected(); ++i) {
      wait.expires_after(std::chrono::milliseconds(20));
      co_await wait.async_wait(asio::use_awaitable);
    }
    co_return co_await seed(catalog);
  };
  auto future = asio::co_spawn(io, run(), asio::use_future);
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    io.run_one_for(std::chrono::milliseconds(50));
  redis.stop();
  try {
    SeedReport report = future.get();
    if (logging::format() == logging::Format::kJson) {
      boost::json::object summary{{"categoriesCreated", report.categories_created},
                                  {"productsCreated", report.products_created},
                                  {"alreadyPresent", report.already}};
      std::cout << boost::json::serialize(summary) << '\n';
      return 0;
    }
    std::cout << "seed: " << report.categories_created << " categories and " << report.products_created
              << " products created, " << report.already << " already present\n";
    return 0;
  } catch (const std::exception& e) {
    report_error("seed", e.what());
    return kExitFailure;
  }
}

}  // namespace orders::app
