#pragma once

#include "catalog/catalog_cache.hpp"
#include "storage/redis/commands.hpp"

namespace orders::catalog {

// The catalog's Redis: the keys of catalog/keys.hpp and the scripts of catalog/lua/.
class RedisCatalogCache final : public CatalogCache, public LiveStock {
 public:
  explicit RedisCatalogCache(redis::Commands& redis) : redis_(redis) {}

  bool connected() const override { return redis_.connected(); }
  boost::asio::awaitable<CacheLookup> lookup(const std::string& id) override;
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
  redis::Commands& redis_;
};

}  // namespace orders::catalog
