#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "catalog/model.hpp"
#include "storage/postgres/pool.hpp"

// The catalog's record in PostgreSQL: every SQL statement of categories and products.
namespace orders::catalog {

class CatalogStore {
 public:
  explicit CatalogStore(postgres::Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<std::vector<Category>> list_categories();
  boost::asio::awaitable<std::optional<Category>> find_category(const std::string& id);
  boost::asio::awaitable<Outcome<Category>> insert_category(const NewCategory& c);
  boost::asio::awaitable<Outcome<Category>> update_category(const std::string& id, const CategoryPatch& patch);
  boost::asio::awaitable<std::optional<Problem>> delete_category(const std::string& id);

  // Active products only.
  boost::asio::awaitable<std::optional<Product>> find_product(const std::string& id);
  boost::asio::awaitable<std::pair<std::vector<Product>, std::int64_t>> list_products(
      std::int64_t page, std::int64_t limit, const std::optional<std::string>& category_id);
  // Inserts the product and its INITIAL ledger row in one transaction.
  boost::asio::awaitable<Outcome<Product>> insert_product(const NewProduct& p);

  // The parts of a product update that run inside one transaction, around the Redis step
  // that turns a new stock figure into a delta: lock → apply(delta) → commit.
  class ProductUpdate;
  boost::asio::awaitable<std::optional<ProductUpdate>> begin_product_update(const std::string& id);

  // Marks the product inactive and returns its new version; nothing when there was no active
  // product with this id.
  boost::asio::awaitable<std::optional<std::int64_t>> deactivate_product(const std::string& id);

  postgres::Pool& pool() { return pool_; }

 private:
  postgres::Pool& pool_;
};

class CatalogStore::ProductUpdate {
 public:
  ProductUpdate(postgres::Lease lease, Product current) : lease_(std::move(lease)), current_(std::move(current)) {}
  const Product& current() const { return current_; }
  // Applies the patch and the stock delta (with its ADJUSTMENT ledger row) and commits.
  boost::asio::awaitable<Outcome<Product>> apply(const ProductPatch& patch, std::int64_t stock_delta);
  boost::asio::awaitable<void> rollback();

 private:
  postgres::Lease lease_;
  Product current_;
};

}  // namespace orders::catalog
