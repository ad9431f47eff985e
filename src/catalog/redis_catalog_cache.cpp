#include "catalog/redis_catalog_cache.hpp"

#include <array>
#include <stdexcept>

#include "catalog/keys.hpp"

namespace orders::catalog {
namespace asio = boost::asio;
using redis::Reply;
using redis::script;

namespace {

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

// Takes the reply's text (a product is a few hundred bytes on every cached read: moved, not copied).
CachedCopy copy_of(Reply&& r) {
  CachedCopy copy;
  if (r.type != Reply::Type::kString) return copy;
  if (r.str == keys::kAbsent) {
    copy.kind = CachedCopy::Kind::kAbsent;
  } else {
    copy.kind = CachedCopy::Kind::kProduct;
    copy.json_without_stock = std::move(r.str);
  }
  return copy;
}

}  // namespace

asio::awaitable<CacheLookup> RedisCatalogCache::lookup(const std::string& id) {
  std::string cache_key = keys::cache(id), stock_key = keys::stock(id), gen_key = keys::gen(id);
  std::array<std::string_view, 4> mget{"MGET", cache_key, stock_key, gen_key};
  Reply reply = co_await redis_.command(mget);
  if (reply.type != Reply::Type::kArray || reply.elements.size() != 3) {
    throw std::runtime_error("unexpected MGET reply: " + reply.str);
  }
  CacheLookup found;
  found.copy = copy_of(std::move(reply.elements[0]));
  found.stock = integer_of(reply.elements[1]);
  if (reply.elements[2].type == Reply::Type::kString) found.generation = std::move(reply.elements[2].str);
  co_return found;
}

asio::awaitable<CachedCopy> RedisCatalogCache::cached_copy(const std::string& id) {
  std::string cache_key = keys::cache(id);
  std::array<std::string_view, 2> get{"GET", cache_key};
  co_return copy_of(co_await redis_.command(get));
}

asio::awaitable<std::optional<std::string>> RedisCatalogCache::fill(const std::string& id,
                                                                    const std::string& seen_generation,
                                                                    const CachedCopy& copy, int ttl_seconds) {
  std::string cache_key = keys::cache(id), gen_key = keys::gen(id), ttl_text = std::to_string(ttl_seconds);
  std::string value = copy.kind == CachedCopy::Kind::kProduct ? copy.json_without_stock : std::string(keys::kAbsent);
  std::array<std::string_view, 2> fill_keys{cache_key, gen_key};
  std::array<std::string_view, 3> fill_args{seen_generation, value, ttl_text};
  Reply filled = co_await redis_.eval(script("cache_fill"), fill_keys, fill_args);
  if (filled.is_error()) co_return filled.str;
  co_return std::nullopt;
}

asio::awaitable<void> RedisCatalogCache::publish_rules(const Product& p, std::optional<std::int64_t> initial_stock) {
  std::string info = keys::info(p.id), stock = keys::stock(p.id), cache = keys::cache(p.id), gen = keys::gen(p.id);
  std::string price = std::to_string(p.price.cents);
  std::string max = p.max_per_user ? std::to_string(*p.max_per_user) : "";
  std::string starts = p.sale_starts_at ? std::to_string(*p.sale_starts_at) : "";
  std::string ends = p.sale_ends_at ? std::to_string(*p.sale_ends_at) : "";
  std::string initial = initial_stock ? std::to_string(*initial_stock) : "";
  std::string version = std::to_string(p.version);
  std::string window = p.payment_window_seconds ? std::to_string(*p.payment_window_seconds) : "";
  std::array<std::string_view, 4> script_keys{info, stock, cache, gen};
  // The version makes Redis keep the newest rules whatever order concurrent writes publish in.
  std::array<std::string_view, 7> args{price, max, starts, ends, initial, version, window};
  expect_script_ok(co_await redis_.eval(script("product_publish"), script_keys, args), "product_publish");
}

asio::awaitable<void> RedisCatalogCache::remove_rules(const std::string& id, std::int64_t removed_version) {
  std::string info = keys::info(id), stock = keys::stock(id), cache = keys::cache(id), gen = keys::gen(id);
  std::string version = std::to_string(removed_version);
  std::array<std::string_view, 4> script_keys{info, stock, cache, gen};
  std::array<std::string_view, 1> args{version};
  expect_script_ok(co_await redis_.eval(script("product_remove"), script_keys, args), "product_remove");
}

asio::awaitable<std::optional<std::int64_t>> RedisCatalogCache::read(const std::string& id) {
  std::string key = keys::stock(id);
  std::array<std::string_view, 2> get{"GET", key};
  co_return integer_of(co_await redis_.command(get));
}

asio::awaitable<std::vector<std::optional<std::int64_t>>> RedisCatalogCache::read_many(
    const std::vector<std::string>& ids) {
  std::vector<std::optional<std::int64_t>> live(ids.size());
  if (ids.empty()) co_return live;
  std::vector<std::string> stock_keys;
  for (const auto& id : ids) stock_keys.push_back(keys::stock(id));
  std::vector<std::string_view> mget{"MGET"};
  for (const auto& k : stock_keys) mget.push_back(k);
  auto reply = co_await redis_.command(mget);
  for (std::size_t i = 0; i < reply.elements.size() && i < live.size(); ++i) live[i] = integer_of(reply.elements[i]);
  co_return live;
}

asio::awaitable<StockSet> RedisCatalogCache::set(const std::string& id, std::int64_t target_stock) {
  std::string stock_key = keys::stock(id), target = std::to_string(target_stock);
  std::array<std::string_view, 1> k{stock_key};
  std::array<std::string_view, 1> a{target};
  Reply r = co_await redis_.eval(script("stock_set"), k, a);
  expect_script_ok(r, "stock_set");
  StockSet moved;
  moved.counter_existed = r.elements.size() == 2 && r.elements[1].integer == 1;
  if (moved.counter_existed) moved.delta = r.elements[0].integer;
  co_return moved;
}

asio::awaitable<void> RedisCatalogCache::add(const std::string& id, std::int64_t delta) {
  std::string stock_key = keys::stock(id), by = std::to_string(delta);
  std::array<std::string_view, 3> incr{"INCRBY", stock_key, by};
  co_await redis_.command(incr);
}

}  // namespace orders::catalog
