#include "catalog/catalog_service.hpp"

#include <spdlog/spdlog.h>

#include <random>
#include <string_view>
#include <unordered_map>

#include "catalog/json.hpp"
#include "catalog/redis_catalog_cache.hpp"
#include "common/dependency_error.hpp"
#include "common/error_codes.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "metrics/registry.hpp"
#include "storage/rabbitmq/publisher.hpp"

namespace orders::catalog {
namespace asio = boost::asio;

namespace {

struct CatalogMetrics {
  metrics::Family<metrics::Counter>& cache = metrics::registry().counter("orders_cache_requests_total",
                                                                         "Product cache lookups by result", {"result"});
  metrics::Counter& hit = cache.with({"hit"});
  metrics::Counter& miss = cache.with({"miss"});
  metrics::Counter& negative = cache.with({"negative"});
  metrics::Counter& db_loads =
      metrics::registry().counter("orders_db_loads_total", "PostgreSQL reads caused by cache misses").with({});
  metrics::Counter& shared_reads =
      metrics::registry()
          .counter("orders_cache_shared_reads_total",
                   "Product cache lookups answered by a Redis read that another request of the moment sent")
          .with({});
  metrics::Counter& redis_fallbacks = metrics::registry()
                                          .counter("orders_cache_bypass_total",
                                                   "Product reads served from PostgreSQL while Redis was unavailable")
                                          .with({});
};

CatalogMetrics& catalog_metrics() {
  static CatalogMetrics m;
  return m;
}

}  // namespace

struct CatalogService::Production {
  Production(postgres::Pool& pool, redis::Commands& redis, rabbitmq::Publisher* publisher, bool split_stock)
      : store(pool),
        cache(redis, split_stock),
        sink(publisher ? std::make_unique<PublisherSink>(*publisher) : nullptr) {}
  CatalogStore store;
  RedisCatalogCache cache;
  std::unique_ptr<PublisherSink> sink;
};

CatalogService::CatalogService(postgres::Pool& pool, redis::Commands& redis, SingleFlight<LoadedProduct>& loads,
                               CacheSettings settings, rabbitmq::Publisher* events)
    : CatalogService(std::make_unique<Production>(pool, redis, events, settings.split_stock), loads, settings) {}

CatalogService::CatalogService(std::unique_ptr<Production> production, SingleFlight<LoadedProduct>& loads,
                               CacheSettings settings)
    : production_(std::move(production)),
      record_(production_->store),
      cache_(production_->cache),
      stock_(production_->cache),
      loads_(loads),
      grouped_lookups_([this](const std::vector<std::string>& ids) { return look_up_group(ids); }),
      settings_(settings),
      events_(production_->sink.get()) {
  catalog_metrics();
}

CatalogService::CatalogService(ProductRecord& record, CatalogCache& cache, LiveStock& stock,
                               SingleFlight<LoadedProduct>& loads, CacheSettings settings, EventSink* events)
    : record_(record),
      cache_(cache),
      stock_(stock),
      loads_(loads),
      grouped_lookups_([this](const std::vector<std::string>& ids) { return look_up_group(ids); }),
      settings_(settings),
      events_(events) {
  catalog_metrics();
}

CatalogService::~CatalogService() = default;

CatalogStore& CatalogService::store() {
  if (!production_) throw std::logic_error("CatalogService::store(): made from seams, no CatalogStore");
  return production_->store;
}

asio::awaitable<LoadedProduct> CatalogService::read_record(const std::string& id) {
  catalog_metrics().db_loads.inc();
  auto product = co_await record_.find_product(id);
  LoadedProduct loaded;
  loaded.found = product.has_value();
  if (product) {
    loaded.json_without_stock = product_json_without_stock(*product);
    loaded.db_stock = product->stock;
  }
  co_return loaded;
}

asio::awaitable<LoadedProduct> CatalogService::load_product(const std::string& id, const std::string& seen_gen) {
  // A request that missed just before the previous load filled the cache arrives here after
  // that load ended: look once more before going to PostgreSQL.
  {
    CachedCopy cached = co_await cache_.cached_copy(id);
    if (cached.kind != CachedCopy::Kind::kNone) {
      LoadedProduct from_cache;
      from_cache.found = cached.kind == CachedCopy::Kind::kProduct;
      if (from_cache.found) from_cache.json_without_stock = std::move(cached.json_without_stock);
      co_return from_cache;
    }
  }
  LoadedProduct loaded = co_await read_record(id);
  thread_local std::mt19937 jitter_engine{std::random_device{}()};
  int ttl = loaded.found ? settings_.ttl_seconds +
                               std::uniform_int_distribution<int>(0, settings_.ttl_jitter_seconds)(jitter_engine)
                         : settings_.negative_ttl_seconds;
  CachedCopy copy;
  copy.kind = loaded.found ? CachedCopy::Kind::kProduct : CachedCopy::Kind::kAbsent;
  if (loaded.found) copy.json_without_stock = loaded.json_without_stock;
  // The read succeeds from the record whatever the fill does; the next read fills the cache.
  try {
    auto refused = co_await cache_.fill(id, seen_gen, copy, ttl);
    if (refused) spdlog::warn("caching product {} failed (served from PostgreSQL): {}", id, *refused);
  } catch (const DependencyUnavailable&) {
  }
  co_return loaded;
}

asio::awaitable<std::vector<CacheLookup>> CatalogService::look_up_group(const std::vector<std::string>& ids) {
  std::vector<std::string> distinct;
  std::unordered_map<std::string_view, std::size_t> slot_of;  // id -> its place in `distinct`
  std::vector<std::size_t> slot(ids.size()), readers;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto [at, first] = slot_of.try_emplace(ids[i], distinct.size());
    if (first) {
      distinct.push_back(ids[i]);
      readers.push_back(0);
    }
    slot[i] = at->second;
    ++readers[slot[i]];
  }
  catalog_metrics().shared_reads.inc(ids.size() - 1);
  std::vector<CacheLookup> found = co_await cache_.lookup_many(distinct);
  std::vector<CacheLookup> each(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    // The last reader of a product takes its lookup, the others a copy.
    each[i] = --readers[slot[i]] == 0 ? std::move(found[slot[i]]) : found[slot[i]];
  }
  co_return each;
}

asio::awaitable<CacheLookup> CatalogService::look_up(const std::string& id) {
  if (!settings_.split_stock) co_return co_await grouped_lookups_.add(id);
  bool sent = false;
  ReadJoin<CacheLookup>::Reader look = [this, &id, &sent]() {
    sent = true;
    return cache_.lookup(id);
  };
  CacheLookup found = co_await joined_lookups_.run(id, look);
  if (!sent) catalog_metrics().shared_reads.inc();
  co_return found;
}

asio::awaitable<ProductView> CatalogService::get_product(const std::string& id) {
  auto& m = catalog_metrics();
  CacheLookup found;
  bool redis_down = false;
  try {
    found = co_await look_up(id);
  } catch (const DependencyUnavailable&) {
    redis_down = true;
  }
  if (redis_down) {
    // Serve from the record (no purchase can change stock while Redis is down).
    m.redis_fallbacks.inc();
    SingleFlight<LoadedProduct>::Loader from_record = [this, id]() { return read_record(id); };
    auto loaded = co_await loads_.run(id, from_record);
    if (!loaded.found) co_return ProductView{};
    co_return ProductView{true, with_stock(loaded.json_without_stock, loaded.db_stock), false};
  }
  std::optional<std::int64_t> stock = found.stock;
  if (found.copy.kind == CachedCopy::Kind::kAbsent) {
    m.negative.inc();
    co_return ProductView{false, {}, true};
  }
  if (found.copy.kind == CachedCopy::Kind::kProduct && stock) {
    m.hit.inc();
    co_return ProductView{true, with_stock(found.copy.json_without_stock, *stock), true};
  }
  m.miss.inc();
  std::string seen_gen = std::move(found.generation);
  SingleFlight<LoadedProduct>::Loader load_and_fill = [this, id, seen_gen]() { return load_product(id, seen_gen); };
  auto loaded = co_await loads_.run(id, load_and_fill);
  if (!loaded.found) co_return ProductView{false, {}, false};
  co_return ProductView{true, with_stock(loaded.json_without_stock, stock.value_or(loaded.db_stock)), false};
}

asio::awaitable<ProductPage> CatalogService::list_products(std::int64_t page, std::int64_t limit,
                                                           const std::optional<std::string>& category_id) {
  auto [products, total] = co_await record_.list_products(page, limit, category_id);
  // Live stock for the whole page in one round trip (a fallback to the record without Redis).
  std::vector<std::optional<std::int64_t>> live(products.size());
  if (!products.empty()) {
    std::vector<std::string> ids;
    for (const auto& p : products) ids.push_back(p.id);
    try {
      auto counters = co_await stock_.read_many(ids);
      for (std::size_t i = 0; i < counters.size() && i < live.size(); ++i) live[i] = counters[i];
    } catch (const DependencyUnavailable&) {
    }
  }
  ProductPage out;
  out.total = total;
  out.json_array = "[";
  for (std::size_t i = 0; i < products.size(); ++i) {
    if (i) out.json_array += ',';
    out.json_array += with_stock(product_json_without_stock(products[i]), live[i].value_or(products[i].stock));
  }
  out.json_array += ']';
  co_return out;
}

asio::awaitable<Outcome<std::string>> CatalogService::create_product(const NewProduct& product) {
  // Without Redis the product could not sell; refuse before writing anything.
  if (!cache_.connected()) throw DependencyUnavailable("Redis", "not connected");
  auto created = co_await record_.insert_product(product);
  if (auto* failure = std::get_if<Problem>(&created)) co_return *failure;
  const Product& p = std::get<Product>(created);
  try {
    co_await cache_.publish_rules(p, p.stock);
  } catch (const std::exception& e) {
    // The record exists; `orders reconcile --fix` creates the missing counter.
    spdlog::error("product {} created but its Redis counter was not: {}", p.id, e.what());
  }
  co_return with_stock(product_json_without_stock(p), p.stock);
}

asio::awaitable<Outcome<std::string>> CatalogService::update_product(const std::string& id, const ProductPatch& patch) {
  if (!cache_.connected()) throw DependencyUnavailable("Redis", "not connected");
  auto update = co_await record_.begin_product_update(id);
  if (!update) co_return refusal(ProblemKind::kNotFound, codes::kNotFound, "Product not found", "id");

  std::int64_t delta = 0;
  bool counter_existed = false;
  if (patch.stock) {
    StockSet moved;
    std::exception_ptr redis_error;
    try {
      moved = co_await stock_.set(id, *patch.stock);
    } catch (...) {
      redis_error = std::current_exception();
    }
    if (redis_error) {
      co_await update->rollback();
      std::rethrow_exception(redis_error);
    }
    counter_existed = moved.counter_existed;
    // Without a counter there is nothing in flight to account for: the record's stock is the base.
    delta = counter_existed ? moved.delta : *patch.stock - update->current().stock;
  }

  Outcome<Product> applied = Problem{};
  std::exception_ptr error;
  try {
    applied = co_await update->apply(patch, delta);
  } catch (...) {
    error = std::current_exception();
  }
  if ((error || std::holds_alternative<Problem>(applied)) && patch.stock) {
    // The record did not take the delta: take it back from the counter too.
    co_await stock_.add(id, -delta);
  }
  if (error) std::rethrow_exception(error);
  if (auto* failure = std::get_if<Problem>(&applied)) co_return *failure;
  const Product& p = std::get<Product>(applied);
  // (Named, not a ?: inside the co_await: GCC 12 mishandles those.)
  const std::optional<std::int64_t> initial = patch.stock && !counter_existed
                                                  ? std::optional<std::int64_t>(*patch.stock)
                                                  : std::nullopt;
  co_await cache_.publish_rules(p, initial);
  auto stock = co_await stock_.read(id);
  if (events_ && patch.stock && delta != 0) {
    // SPEC section 5: other systems hear of every stock change. Unlike the order lifecycle's
    // events (the record's event outbox), one the broker does not confirm is logged; the change
    // stands.
    const std::string event_id = uuid::make_v7();
    std::string body = R"({"id":")" + event_id + R"(","type":"stock.adjusted","version":1,"occurredAt":")" +
                       format_rfc3339(now_ms()) + R"(","data":{"productId":")" + id + R"(","delta":)" +
                       std::to_string(delta) + R"(,"stock":)" + std::to_string(stock.value_or(p.stock)) + "}}";
    rabbitmq::Message message{"orders", "stock.adjusted", event_id, "stock.adjusted", std::move(body)};
    auto outcome = co_await events_->publish(std::move(message));
    if (outcome != rabbitmq::PublishOutcome::kConfirmed) {
      spdlog::warn("stock.adjusted for product {} not confirmed: {}", id, rabbitmq::to_string(outcome));
    }
  }
  co_return with_stock(product_json_without_stock(p), stock.value_or(p.stock));
}

asio::awaitable<bool> CatalogService::deactivate_product(const std::string& id) {
  if (!cache_.connected()) throw DependencyUnavailable("Redis", "not connected");
  auto removed = co_await record_.deactivate_product(id);
  if (!removed) co_return false;
  co_await cache_.remove_rules(id, *removed);
  co_return true;
}

}  // namespace orders::catalog
