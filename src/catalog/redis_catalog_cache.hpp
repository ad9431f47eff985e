#pragma once

#include "catalog/catalog_cache.hpp"
#include "storage/redis/commands.hpp"

namespace orders::catalog {

// The catalog's Redis: the keys of catalog/keys.hpp and the scripts of catalog/lua/. With
// `split_stock` (Redis Cluster) a product's stockBuckets counters hold its live stock: rules are
// published to each bucket, the initial stock split over them, reads add them up, and a new
// stock figure spreads its change over them (catalog/stock_buckets.hpp).
class RedisCatalogCache final : public CatalogCache, public LiveStock {
 public:
  explicit RedisCatalogCache(redis::Commands& redis, bool split_stock = false)
      : redis_(redis), split_stock_(split_stock) {}

  bool connected() const override { return redis_.connected(); }
  boost::asio::awaitable<CacheLookup> lookup(const std::string& id) override;
  // One MGET for them all on one Redis; with split stock (a cluster: the products' keys lie in
  // different slots) one lookup after another.
  boost::asio::awaitable<std::vector<CacheLookup>> lookup_many(const std::vector<std::string>& ids) override;
  boost::asio::awaitable<CachedCopy> cached_copy(const std::string& id) override;
  boost::asio::awaitable<std::optional<std::string>> fill(const std::string& id, const std::string& seen_generation,
                                                          const CachedCopy& copy, int ttl_seconds) override;
  boost::asio::awaitable<void> publish_rules(const Product& p, std::optional<std::int64_t> initial_stock) override;
  boost::asio::awaitable<void> remove_rules(const std::string& id, std::int64_t version) override;

  boost::asio::awaitable<std::optional<std::int64_t>> read(const std::string& id) override;
  boost::asio::awaitable<std::vector<std::optional<std::int64_t>>> read_many(
      const std::vector<std::string>& ids) override;
  boost::asio::awaitable<StockSet> set(const std::string& id, std::int64_t target) override;
  boost::asio::awaitable<void> add(const std::string& id, std::int64_t delta) override;

 private:
  // The number of buckets Redis has for the product (1 unless split).
  boost::asio::awaitable<int> bucket_count(const std::string& id);
  // Adds the counters of buckets 1.. of every product of `ids` with more than one bucket to
  // `live` (bucket 0's, read already), in one round trip.
  boost::asio::awaitable<void> add_other_buckets(const std::vector<std::string>& ids, const std::vector<int>& buckets,
                                                 std::vector<std::optional<std::int64_t>>& live);
  // Spreads `delta` over the product's `buckets` counters, a fall never below 0; what moved.
  boost::asio::awaitable<std::int64_t> spread(const std::string& id, int buckets, std::int64_t delta);

  redis::Commands& redis_;
  bool split_stock_;
};

}  // namespace orders::catalog
