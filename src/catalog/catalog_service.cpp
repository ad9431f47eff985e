#include "catalog/catalog_service.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <random>

#include "catalog/json.hpp"
#include "catalog/keys.hpp"
#include "common/dependency_error.hpp"
#include "common/error_codes.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "metrics/registry.hpp"
#include "storage/rabbitmq/publisher.hpp"

namespace orders::catalog {
namespace asio = boost::asio;
using redis::Reply;
using redis::script;

namespace {

struct CatalogMetrics {
  metrics::Family<metrics::Counter>& cache = metrics::registry().counter("cache_requests_total",
                                                                         "Product cache lookups by result", {"result"});
  metrics::Counter& hit = cache.with({"hit"});
  metrics::Counter& miss = cache.with({"miss"});
  metrics::Counter& negative = cache.with({"negative"});
  metrics::Counter& db_loads =
      metrics::registry().counter("db_loads_total", "PostgreSQL reads caused by cache misses").with({});
  metrics::Counter& redis_fallbacks = metrics::registry()
                                          .counter("cache_bypass_total",
                                                   "Product reads served from PostgreSQL while Redis was unavailable")
                                          .with({});
};

CatalogMetrics& catalog_metrics() {
  static CatalogMetrics m;
  return m;
}

std::optional<std::int64_t> integer_of(const Reply& r) {
  if (r.type == Reply::Type::kInteger) return r.integer;
  if (r.type == Reply::Type::kString) {
    try {
      return std::stoll(r.str);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

void expect_script_ok(const Reply& r, std::string_view name) {
  if (r.is_error()) throw std::runtime_error("script " + std::string(name) + " failed: " + r.str);
}

}  // namespace

CatalogService::CatalogService(postgres::Pool& pool, redis::Client& redis, SingleFlight<LoadedProduct>& loads,
                               CacheSettings settings, rabbitmq::Publisher* events)
    : store_(pool), redis_(redis), loads_(loads), settings_(settings), events_(events) {
  catalog_metrics();
}

asio::awaitable<LoadedProduct> CatalogService::read_record(const std::string& id) {
  catalog_metrics().db_loads.inc();
  auto product = co_await store_.find_product(id);
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
    std::string cache_key = keys::cache(id);
    std::array<std::string_view, 2> get{"GET", cache_key};
    Reply cached = co_await redis_.command(get);
    if (cached.type == Reply::Type::kString) {
      LoadedProduct from_cache;
      from_cache.found = cached.str != keys::kAbsent;
      if (from_cache.found) from_cache.json_without_stock = std::move(cached.str);
      co_return from_cache;
    }
  }
  LoadedProduct loaded = co_await read_record(id);
  thread_local std::mt19937 jitter_engine{std::random_device{}()};
  int ttl = loaded.found ? settings_.ttl_seconds +
                               std::uniform_int_distribution<int>(0, settings_.ttl_jitter_seconds)(jitter_engine)
                         : settings_.negative_ttl_seconds;
  std::string cache_key = keys::cache(id), gen_key = keys::gen(id), ttl_text = std::to_string(ttl);
  std::string value = loaded.found ? loaded.json_without_stock : std::string(keys::kAbsent);
  std::array<std::string_view, 2> fill_keys{cache_key, gen_key};
  std::array<std::string_view, 3> fill_args{seen_gen, value, ttl_text};
  // The read succeeds from the record whatever the fill does; the next read fills the cache.
  try {
    Reply filled = co_await redis_.eval(script("cache_fill"), fill_keys, fill_args);
    if (filled.is_error()) spdlog::warn("caching product {} failed (served from PostgreSQL): {}", id, filled.str);
  } catch (const DependencyUnavailable&) {
  }
  co_return loaded;
}

asio::awaitable<ProductView> CatalogService::get_product(const std::string& id) {
  auto& m = catalog_metrics();
  std::string cache_key = keys::cache(id), stock_key = keys::stock(id), gen_key = keys::gen(id);
  std::array<std::string_view, 4> mget{"MGET", cache_key, stock_key, gen_key};
  Reply reply;
  bool redis_down = false;
  try {
    reply = co_await redis_.command(mget);
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
  if (reply.type != Reply::Type::kArray || reply.elements.size() != 3) {
    throw std::runtime_error("unexpected MGET reply: " + reply.str);
  }
  const Reply& cached = reply.elements[0];
  std::optional<std::int64_t> stock = integer_of(reply.elements[1]);
  if (cached.type == Reply::Type::kString) {
    if (cached.str == keys::kAbsent) {
      m.negative.inc();
      co_return ProductView{false, {}, true};
    }
    if (stock) {
      m.hit.inc();
      co_return ProductView{true, with_stock(cached.str, *stock), true};
    }
  }
  m.miss.inc();
  std::string seen_gen = reply.elements[2].type == Reply::Type::kString ? reply.elements[2].str : std::string();
  SingleFlight<LoadedProduct>::Loader load_and_fill = [this, id, seen_gen]() { return load_product(id, seen_gen); };
  auto loaded = co_await loads_.run(id, load_and_fill);
  if (!loaded.found) co_return ProductView{false, {}, false};
  co_return ProductView{true, with_stock(loaded.json_without_stock, stock.value_or(loaded.db_stock)), false};
}

asio::awaitable<std::optional<std::int64_t>> CatalogService::live_stock(const std::string& id) {
  std::string key = keys::stock(id);
  std::array<std::string_view, 2> get{"GET", key};
  co_return integer_of(co_await redis_.command(get));
}

asio::awaitable<ProductPage> CatalogService::list_products(std::int64_t page, std::int64_t limit,
                                                           const std::optional<std::string>& category_id) {
  auto [products, total] = co_await store_.list_products(page, limit, category_id);
  // Live stock for the whole page in one round trip (a fallback to the record without Redis).
  std::vector<std::optional<std::int64_t>> live(products.size());
  if (!products.empty()) {
    std::vector<std::string> stock_keys;
    for (const auto& p : products) stock_keys.push_back(keys::stock(p.id));
    std::vector<std::string_view> mget{"MGET"};
    for (const auto& k : stock_keys) mget.push_back(k);
    try {
      auto reply = co_await redis_.command(mget);
      for (std::size_t i = 0; i < reply.elements.size() && i < live.size(); ++i)
        live[i] = integer_of(reply.elements[i]);
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

asio::awaitable<void> CatalogService::publish_rules(const Product& p, std::optional<std::int64_t> initial_stock) {
  std::string info = keys::info(p.id), stock = keys::stock(p.id), cache = keys::cache(p.id), gen = keys::gen(p.id);
  std::string price = std::to_string(p.price.cents);
  std::string max = p.max_per_user ? std::to_string(*p.max_per_user) : "";
  std::string starts = p.sale_starts_at ? std::to_string(*p.sale_starts_at) : "";
  std::string ends = p.sale_ends_at ? std::to_string(*p.sale_ends_at) : "";
  std::string initial = initial_stock ? std::to_string(*initial_stock) : "";
  std::string version = std::to_string(p.version);
  std::array<std::string_view, 4> script_keys{info, stock, cache, gen};
  // The version makes Redis keep the newest rules whatever order concurrent writes publish in.
  std::array<std::string_view, 6> args{price, max, starts, ends, initial, version};
  expect_script_ok(co_await redis_.eval(script("product_publish"), script_keys, args), "product_publish");
}

asio::awaitable<Outcome<std::string>> CatalogService::create_product(const NewProduct& product) {
  // Without Redis the product could not sell; refuse before writing anything.
  if (!redis_.connected()) throw DependencyUnavailable("Redis", "not connected");
  auto created = co_await store_.insert_product(product);
  if (auto* failure = std::get_if<Problem>(&created)) co_return *failure;
  const Product& p = std::get<Product>(created);
  try {
    co_await publish_rules(p, p.stock);
  } catch (const std::exception& e) {
    // The record exists; `orders reconcile --fix` creates the missing counter.
    spdlog::error("product {} created but its Redis counter was not: {}", p.id, e.what());
  }
  co_return with_stock(product_json_without_stock(p), p.stock);
}

asio::awaitable<Outcome<std::string>> CatalogService::update_product(const std::string& id, const ProductPatch& patch) {
  if (!redis_.connected()) throw DependencyUnavailable("Redis", "not connected");
  auto update = co_await store_.begin_product_update(id);
  if (!update) co_return refusal(ProblemKind::kNotFound, codes::kNotFound, "Product not found", "id");

  std::int64_t delta = 0;
  bool counter_existed = false;
  std::string stock_key = keys::stock(id);
  if (patch.stock) {
    std::string target = std::to_string(*patch.stock);
    std::array<std::string_view, 1> k{stock_key};
    std::array<std::string_view, 1> a{target};
    Reply r;
    std::exception_ptr redis_error;
    try {
      r = co_await redis_.eval(script("stock_set"), k, a);
    } catch (...) {
      redis_error = std::current_exception();
    }
    if (redis_error) {
      co_await update->rollback();
      std::rethrow_exception(redis_error);
    }
    expect_script_ok(r, "stock_set");
    counter_existed = r.elements.size() == 2 && r.elements[1].integer == 1;
    // Without a counter there is nothing in flight to account for: the record's stock is the base.
    delta = counter_existed ? r.elements[0].integer : *patch.stock - update->current().stock;
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
    std::string undo = std::to_string(-delta);
    std::array<std::string_view, 3> incr{"INCRBY", stock_key, undo};
    co_await redis_.command(incr);
  }
  if (error) std::rethrow_exception(error);
  if (auto* failure = std::get_if<Problem>(&applied)) co_return *failure;
  const Product& p = std::get<Product>(applied);
  co_await publish_rules(p, patch.stock && !counter_existed ? std::optional<std::int64_t>(*patch.stock) : std::nullopt);
  auto stock = co_await live_stock(id);
  if (events_ && patch.stock && delta != 0) {
    // SPEC section 5: other systems hear of every stock change. Like the order status events,
    // one the broker does not confirm is logged (no event outbox yet); the change stands.
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
  if (!redis_.connected()) throw DependencyUnavailable("Redis", "not connected");
  auto removed = co_await store_.deactivate_product(id);
  if (!removed) co_return false;
  std::string info = keys::info(id), stock = keys::stock(id), cache = keys::cache(id), gen = keys::gen(id);
  std::string version = std::to_string(*removed);
  std::array<std::string_view, 4> script_keys{info, stock, cache, gen};
  std::array<std::string_view, 1> args{version};
  expect_script_ok(co_await redis_.eval(script("product_remove"), script_keys, args), "product_remove");
  co_return true;
}

}  // namespace orders::catalog
