#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/model.hpp"

// The catalog's two Redis seams: the cache-aside copies of products with the sale rules
// purchases check (CatalogCache), and the live stock counters (LiveStock). RedisCatalogCache
// implements both; the service's unit tests use fakes (tests/support/fake_catalog.hpp).
// Every operation throws DependencyUnavailable when Redis cannot answer.
namespace orders::catalog {

// A cached copy of one product: none, the negative entry of a product the record does not
// have, or the product's JSON without stock.
struct CachedCopy {
  enum class Kind { kNone, kAbsent, kProduct };
  Kind kind = Kind::kNone;
  std::string json_without_stock;  // kProduct only
};

// What one round trip read for a product: its cached copy, its live counter (none when there
// is no counter) and the generation every write bumps ('' when none).
struct CacheLookup {
  CachedCopy copy;
  std::optional<std::int64_t> stock;
  std::string generation;
};

class CatalogCache {
 public:
  virtual ~CatalogCache() = default;
  // False while Redis is down: writes are refused before they touch the record.
  virtual bool connected() const = 0;
  virtual boost::asio::awaitable<CacheLookup> lookup(const std::string& id) = 0;
  // The lookups of several products (distinct ids), in the order of `ids`: one round trip on
  // one Redis. The default looks them up one after another.
  virtual boost::asio::awaitable<std::vector<CacheLookup>> lookup_many(const std::vector<std::string>& ids) {
    std::vector<CacheLookup> found;
    found.reserve(ids.size());
    for (const auto& id : ids) found.push_back(co_await lookup(id));
    co_return found;
  }
  // Only the cached copy (what a load that just ended may have filled).
  virtual boost::asio::awaitable<CachedCopy> cached_copy(const std::string& id) = 0;
  // Caches `copy` (a product or the negative entry) for `ttl_seconds` unless the product was
  // written since `seen_generation` was read. An error text when Redis refused the fill.
  virtual boost::asio::awaitable<std::optional<std::string>> fill(const std::string& id,
                                                                  const std::string& seen_generation,
                                                                  const CachedCopy& copy, int ttl_seconds) = 0;
  // The sale rules purchases check, the counter (created at `initial_stock` when given and
  // missing), and a bumped generation that drops the cached copy. Rules of an older version
  // than Redis has are ignored.
  virtual boost::asio::awaitable<void> publish_rules(const Product& p, std::optional<std::int64_t> initial_stock) = 0;
  // The product's rules, counter and cached copy go (unless Redis has a newer version).
  virtual boost::asio::awaitable<void> remove_rules(const std::string& id, std::int64_t version) = 0;
};

// stock_set's answer: how much the counter moved, and whether there was a counter to move.
struct StockSet {
  std::int64_t delta = 0;
  bool counter_existed = false;
};

class LiveStock {
 public:
  virtual ~LiveStock() = default;
  // The live counter; none when there is none.
  virtual boost::asio::awaitable<std::optional<std::int64_t>> read(const std::string& id) = 0;
  // The counters of several products in one round trip, in the order of `ids`.
  virtual boost::asio::awaitable<std::vector<std::optional<std::int64_t>>> read_many(
      const std::vector<std::string>& ids) = 0;
  // Sets the counter to `target` units available, keeping what purchases took in flight.
  virtual boost::asio::awaitable<StockSet> set(const std::string& id, std::int64_t target) = 0;
  // Moves the counter by `delta` (takes back a set the record did not take).
  virtual boost::asio::awaitable<void> add(const std::string& id, std::int64_t delta) = 0;
};

}  // namespace orders::catalog
