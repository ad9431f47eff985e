#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog_cache.hpp"
#include "catalog/catalog_store.hpp"
#include "catalog/event_sink.hpp"
#include "catalog/model.hpp"
#include "catalog/product_record.hpp"
#include "catalog/read_join.hpp"
#include "catalog/single_flight.hpp"
#include "common/call_batch.hpp"
#include "storage/redis/commands.hpp"

namespace orders::catalog {

struct CacheSettings {
  int ttl_seconds = 300;
  int ttl_jitter_seconds = 60;  // spreads expiries so a hot set does not expire at once
  int negative_ttl_seconds = 30;
  // Redis Cluster: a product's stockBuckets split its live stock over that many counters. One
  // Redis keeps one counter per product whatever the field says (one server, one thread).
  bool split_stock = false;
};

// A product as the database had it, for the cache: found or not, JSON without stock, and the
// database's stock (used only when the live counter is missing).
struct LoadedProduct {
  bool found = false;
  std::string json_without_stock;
  std::int64_t db_stock = 0;
};

struct ProductView {
  bool found = false;
  std::string json;  // with live stock
  bool cache_hit = false;
};

struct ProductPage {
  std::string json_array;
  std::int64_t total = 0;
};

// Catalog operations for one I/O thread: PostgreSQL is the record, Redis holds the live stock
// counters, the sale rules purchases check, and the cache-aside copies of products. The
// service decides through its seams (ProductRecord, CatalogCache, LiveStock, EventSink).
class CatalogService {
 public:
  // Production: CatalogStore on `pool`, RedisCatalogCache on `redis`. `events`, when given,
  // receives stock.adjusted for every stock change of a product update.
  CatalogService(postgres::Pool& pool, redis::Commands& redis, SingleFlight<LoadedProduct>& loads,
                 CacheSettings settings = {}, rabbitmq::Publisher* events = nullptr);
  // Through the seams given, which outlive the service; store() is then unavailable.
  CatalogService(ProductRecord& record, CatalogCache& cache, LiveStock& stock, SingleFlight<LoadedProduct>& loads,
                 CacheSettings settings = {}, EventSink* events = nullptr);
  ~CatalogService();
  CatalogService(const CatalogService&) = delete;
  CatalogService& operator=(const CatalogService&) = delete;

  // The categories' record, for the category routes (production constructor only).
  CatalogStore& store();

  boost::asio::awaitable<ProductView> get_product(const std::string& id);
  boost::asio::awaitable<ProductPage> list_products(std::int64_t page, std::int64_t limit,
                                                    const std::optional<std::string>& category_id);
  boost::asio::awaitable<Outcome<std::string>> create_product(const NewProduct& product);
  boost::asio::awaitable<Outcome<std::string>> update_product(const std::string& id, const ProductPatch& patch);
  boost::asio::awaitable<bool> deactivate_product(const std::string& id);

 private:
  // The product as PostgreSQL has it (counts a db load).
  boost::asio::awaitable<LoadedProduct> read_record(const std::string& id);
  // read_record, then fill the cache unless a write happened since `seen_gen` was read.
  boost::asio::awaitable<LoadedProduct> load_product(const std::string& id, const std::string& seen_gen);

  // The production implementations when the service made them (declared first: the seams
  // below may refer to them).
  struct Production;
  CatalogService(std::unique_ptr<Production> production, SingleFlight<LoadedProduct>& loads, CacheSettings settings);
  std::unique_ptr<Production> production_;

  ProductRecord& record_;
  CatalogCache& cache_;
  LiveStock& stock_;
  SingleFlight<LoadedProduct>& loads_;
  // The cached copy and live counter of `id`, read with this thread's other reads of the moment.
  boost::asio::awaitable<CacheLookup> look_up(const std::string& id);
  // The lookups of a group of reads: each product once.
  boost::asio::awaitable<std::vector<CacheLookup>> look_up_group(const std::vector<std::string>& ids);

  // One Redis: this thread's concurrent reads, of any products, go as one MGET per round trip.
  // Split stock (a cluster, the products' keys in different slots): concurrent reads of one
  // product share their round trips.
  CallBatch<std::string, CacheLookup> grouped_lookups_;
  ReadJoin<CacheLookup> joined_lookups_;
  CacheSettings settings_;
  EventSink* events_ = nullptr;
};

}  // namespace orders::catalog
