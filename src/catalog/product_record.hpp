#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/model.hpp"

// The catalog's record of products (PostgreSQL in production, CatalogStore): what the service
// reads and writes there, and nothing else. The service's unit tests use a fake
// (tests/support/fake_catalog.hpp).
namespace orders::catalog {

// The parts of a product update that run inside one transaction, around the Redis step that
// turns a new stock figure into a delta: lock (begin_product_update) → apply(delta) → commit.
class ProductUpdate {
 public:
  virtual ~ProductUpdate() = default;
  // The product as it was when the row was locked.
  virtual const Product& current() const = 0;
  // Applies the patch and the stock delta (with its ADJUSTMENT ledger row) and commits.
  virtual boost::asio::awaitable<Outcome<Product>> apply(const ProductPatch& patch, std::int64_t stock_delta) = 0;
  virtual boost::asio::awaitable<void> rollback() = 0;
};

class ProductRecord {
 public:
  virtual ~ProductRecord() = default;
  // Active products only.
  virtual boost::asio::awaitable<std::optional<Product>> find_product(const std::string& id) = 0;
  // One page of active products (newest first) and how many there are in all.
  virtual boost::asio::awaitable<std::pair<std::vector<Product>, std::int64_t>> list_products(
      std::int64_t page, std::int64_t limit, const std::optional<std::string>& category_id) = 0;
  // Inserts the product and its INITIAL ledger row in one transaction.
  virtual boost::asio::awaitable<Outcome<Product>> insert_product(const NewProduct& p) = 0;
  // Locks the active product for an update; nothing when there is no active product with this id.
  virtual boost::asio::awaitable<std::unique_ptr<ProductUpdate>> begin_product_update(const std::string& id) = 0;
  // Marks the product inactive and returns its new version; nothing when there was no active
  // product with this id.
  virtual boost::asio::awaitable<std::optional<std::int64_t>> deactivate_product(const std::string& id) = 0;
};

}  // namespace orders::catalog
