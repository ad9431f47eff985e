#include "catalog/redis_catalog_cache.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "catalog/keys.hpp"
#include "catalog/stock_buckets.hpp"

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
  std::string cache_key = keys::cache(id), stock_key = keys::stock(id), gen_key = keys::gen(id),
              buckets_key = keys::buckets(id);
  std::array<std::string_view, 5> mget{"MGET", cache_key, stock_key, gen_key, buckets_key};
  const std::size_t asked = split_stock_ ? 4 : 3;
  Reply reply = co_await redis_.command(std::span<const std::string_view>(mget.data(), asked + 1));
  if (reply.type != Reply::Type::kArray || reply.elements.size() != asked) {
    throw std::runtime_error("unexpected MGET reply: " + reply.str);
  }
  CacheLookup found;
  found.copy = copy_of(std::move(reply.elements[0]));
  found.stock = integer_of(reply.elements[1]);
  if (reply.elements[2].type == Reply::Type::kString) found.generation = std::move(reply.elements[2].str);
  const int buckets = split_stock_ ? static_cast<int>(integer_of(reply.elements[3]).value_or(1)) : 1;
  if (buckets > 1) {
    std::vector<std::optional<std::int64_t>> live{found.stock};
    const std::vector<std::string> ids{id};
    const std::vector<int> counts{buckets};
    co_await add_other_buckets(ids, counts, live);
    found.stock = live[0];
  }
  co_return found;
}

asio::awaitable<std::vector<CacheLookup>> RedisCatalogCache::lookup_many(const std::vector<std::string>& ids) {
  if (split_stock_ || ids.size() == 1) {
    std::vector<CacheLookup> found;
    found.reserve(ids.size());
    for (const auto& id : ids) found.push_back(co_await lookup(id));
    co_return found;
  }
  // Per product: its cached copy, its counter and its generation.
  constexpr std::size_t kPer = 3;
  std::vector<std::string> read_keys;
  read_keys.reserve(ids.size() * kPer);
  for (const auto& id : ids) {
    read_keys.push_back(keys::cache(id));
    read_keys.push_back(keys::stock(id));
    read_keys.push_back(keys::gen(id));
  }
  std::vector<std::string_view> mget{"MGET"};
  mget.reserve(read_keys.size() + 1);
  for (const auto& k : read_keys) mget.push_back(k);
  Reply reply = co_await redis_.command(mget);
  if (reply.type != Reply::Type::kArray || reply.elements.size() != read_keys.size()) {
    throw std::runtime_error("unexpected MGET reply: " + reply.str);
  }
  std::vector<CacheLookup> found(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    found[i].copy = copy_of(std::move(reply.elements[i * kPer]));
    found[i].stock = integer_of(reply.elements[i * kPer + 1]);
    if (reply.elements[i * kPer + 2].type == Reply::Type::kString) {
      found[i].generation = std::move(reply.elements[i * kPer + 2].str);
    }
  }
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

asio::awaitable<int> RedisCatalogCache::bucket_count(const std::string& id) {
  if (!split_stock_) co_return 1;
  std::string key = keys::buckets(id);
  std::array<std::string_view, 2> get{"GET", key};
  co_return static_cast<int>(std::max<std::int64_t>(1, integer_of(co_await redis_.command(get)).value_or(1)));
}

asio::awaitable<void> RedisCatalogCache::add_other_buckets(const std::vector<std::string>& ids,
                                                           const std::vector<int>& buckets,
                                                           std::vector<std::optional<std::int64_t>>& live) {
  std::vector<std::string> stock_keys;
  std::vector<std::size_t> owner;  // owner[n]: the product of stock_keys[n]
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (int b = 1; b < buckets[i]; ++b) {
      stock_keys.push_back(keys::stock(keys::bucket(ids[i], b)));
      owner.push_back(i);
    }
  }
  if (stock_keys.empty()) co_return;
  std::vector<std::string_view> mget{"MGET"};
  for (const auto& k : stock_keys) mget.push_back(k);
  Reply reply = co_await redis_.command(mget);
  if (reply.type != Reply::Type::kArray || reply.elements.size() != stock_keys.size()) {
    throw std::runtime_error("unexpected MGET reply of bucket counters: " + reply.str);
  }
  for (std::size_t n = 0; n < owner.size(); ++n) {
    if (auto units = integer_of(reply.elements[n])) live[owner[n]] = live[owner[n]].value_or(0) + *units;
  }
}

asio::awaitable<void> RedisCatalogCache::publish_rules(const Product& p, std::optional<std::int64_t> initial_stock) {
  const int buckets = split_stock_ ? std::max(1, p.stock_buckets) : 1;
  const std::vector<long long> initial_parts = buckets::split(initial_stock.value_or(0), buckets);
  std::string cache = keys::cache(p.id), gen = keys::gen(p.id), buckets_key = keys::buckets(p.id);
  std::string price = std::to_string(p.price.cents);
  std::string max = p.max_per_user ? std::to_string(*p.max_per_user) : "";
  std::string starts = p.sale_starts_at ? std::to_string(*p.sale_starts_at) : "";
  std::string ends = p.sale_ends_at ? std::to_string(*p.sale_ends_at) : "";
  std::string version = std::to_string(p.version);
  std::string window = p.payment_window_seconds ? std::to_string(*p.payment_window_seconds) : "";
  std::string count = std::to_string(buckets);
  // Bucket 0 first: it holds the number of buckets (purchases route by it) and the generation.
  for (int b = 0; b < buckets; ++b) {
    const std::string bucket = keys::bucket(p.id, b);
    std::string info = keys::info(bucket), stock = keys::stock(bucket);
    std::string initial = initial_stock ? std::to_string(initial_parts[b]) : "";
    std::array<std::string_view, 5> script_keys{info, stock, cache, gen, buckets_key};
    // Split stock names its bucket count even when it is 1: purchases route by it.
    const std::size_t key_count = b > 0 ? 2 : split_stock_ ? 5 : 4;
    // The version makes Redis keep the newest rules whatever order concurrent writes publish in.
    std::array<std::string_view, 8> args{price, max, starts, ends, initial, version, window, count};
    expect_script_ok(co_await redis_.eval(script("product_publish"),
                                          std::span<const std::string_view>(script_keys.data(), key_count), args),
                     "product_publish");
  }
}

asio::awaitable<void> RedisCatalogCache::remove_rules(const std::string& id, std::int64_t removed_version) {
  const int buckets = co_await bucket_count(id);
  std::string cache = keys::cache(id), gen = keys::gen(id);
  std::string version = std::to_string(removed_version);
  for (int b = 0; b < buckets; ++b) {
    const std::string bucket = keys::bucket(id, b);
    std::string info = keys::info(bucket), stock = keys::stock(bucket);
    std::array<std::string_view, 4> script_keys{info, stock, cache, gen};
    std::array<std::string_view, 1> args{version};
    expect_script_ok(co_await redis_.eval(script("product_remove"),
                                          std::span<const std::string_view>(script_keys.data(), b > 0 ? 2 : 4), args),
                     "product_remove");
  }
}

asio::awaitable<std::optional<std::int64_t>> RedisCatalogCache::read(const std::string& id) {
  const std::vector<std::string> ids{id};
  auto live = co_await read_many(ids);
  co_return live[0];
}

asio::awaitable<std::vector<std::optional<std::int64_t>>> RedisCatalogCache::read_many(
    const std::vector<std::string>& ids) {
  std::vector<std::optional<std::int64_t>> live(ids.size());
  if (ids.empty()) co_return live;
  // Bucket 0's counter of each, and with split stock the number of buckets beside it.
  const std::size_t per = split_stock_ ? 2 : 1;
  std::vector<std::string> read_keys;
  for (const auto& id : ids) {
    read_keys.push_back(keys::stock(id));
    if (split_stock_) read_keys.push_back(keys::buckets(id));
  }
  std::vector<std::string_view> mget{"MGET"};
  for (const auto& k : read_keys) mget.push_back(k);
  auto reply = co_await redis_.command(mget);
  if (reply.type != Reply::Type::kArray || reply.elements.size() != read_keys.size()) {
    throw std::runtime_error("unexpected MGET reply: " + reply.str);
  }
  std::vector<int> buckets(ids.size(), 1);
  bool any_split = false;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    live[i] = integer_of(reply.elements[i * per]);
    if (split_stock_) buckets[i] = static_cast<int>(integer_of(reply.elements[i * per + 1]).value_or(1));
    any_split = any_split || buckets[i] > 1;
  }
  if (any_split) co_await add_other_buckets(ids, buckets, live);
  co_return live;
}

asio::awaitable<std::int64_t> RedisCatalogCache::spread(const std::string& id, int buckets, std::int64_t delta) {
  std::int64_t moved = 0;
  // Purchases and transfers move the counters between the read and the change: a fall that
  // finds a counter emptier than read takes the rest from the others in a further round.
  for (int round = 0; round < 4 && moved != delta; ++round) {
    std::vector<std::string> stock_keys;
    for (int b = 0; b < buckets; ++b) stock_keys.push_back(keys::stock(keys::bucket(id, b)));
    std::vector<std::string_view> mget{"MGET"};
    for (const auto& k : stock_keys) mget.push_back(k);
    Reply reply = co_await redis_.command(mget);
    std::vector<long long> left(buckets, 0);
    for (int b = 0; b < buckets && b < static_cast<int>(reply.elements.size()); ++b) {
      left[b] = integer_of(reply.elements[b]).value_or(0);
    }
    const std::vector<long long> changes = buckets::spread_change(delta - moved, left);
    bool any = false;
    for (int b = 0; b < buckets; ++b) {
      if (changes[b] == 0) continue;
      any = true;
      std::string change = std::to_string(changes[b]);
      std::array<std::string_view, 1> k{stock_keys[b]};
      std::array<std::string_view, 1> a{change};
      Reply r = co_await redis_.eval(script("stock_adjust"), k, a);
      expect_script_ok(r, "stock_adjust");
      moved += r.integer;
    }
    if (!any) break;  // nothing left to take
  }
  co_return moved;
}

asio::awaitable<StockSet> RedisCatalogCache::set(const std::string& id, std::int64_t target_stock) {
  const int buckets = co_await bucket_count(id);
  if (buckets > 1) {
    StockSet moved;
    auto current = co_await read(id);
    // No counter: the caller takes its record's stock as the base and publish_rules creates them.
    if (!current) co_return moved;
    moved.counter_existed = true;
    moved.delta = co_await spread(id, buckets, target_stock - *current);
    co_return moved;
  }
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
  const int buckets = co_await bucket_count(id);
  if (buckets > 1) {
    co_await spread(id, buckets, delta);
    co_return;
  }
  std::string stock_key = keys::stock(id), by = std::to_string(delta);
  std::array<std::string_view, 3> incr{"INCRBY", stock_key, by};
  co_await redis_.command(incr);
}

}  // namespace orders::catalog
