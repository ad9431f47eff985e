#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "catalog/model.hpp"
#include "catalog/product_record.hpp"
#include "storage/postgres/pool.hpp"

// The catalog's record in PostgreSQL: every SQL statement of categories and products. The
// products' part is the service's ProductRecord; the category routes use the rest directly.
namespace orders::catalog {

class CatalogStore final : public ProductRecord {
 public:
  explicit CatalogStore(postgres::Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<std::vector<Category>> list_categories();
  boost::asio::awaitable<std::optional<Category>> find_category(const std::string& id);
  boost::asio::awaitable<Outcome<Category>> insert_category(const NewCategory& c);
  boost::asio::awaitable<Outcome<Category>> update_category(const std::string& id, const CategoryPatch& patch);
  boost::asio::awaitable<std::optional<Problem>> delete_category(const std::string& id);

  // ProductRecord (see catalog/product_record.hpp).
  boost::asio::awaitable<std::optional<Product>> find_product(const std::string& id) override;
  boost::asio::awaitable<std::pair<std::vector<Product>, std::int64_t>> list_products(
      std::int64_t page, std::int64_t limit, const std::optional<std::string>& category_id) override;
  boost::asio::awaitable<Outcome<Product>> insert_product(const NewProduct& p) override;
  boost::asio::awaitable<std::unique_ptr<ProductUpdate>> begin_product_update(const std::string& id) override;
  boost::asio::awaitable<std::optional<std::int64_t>> deactivate_product(const std::string& id) override;

 private:
  postgres::Pool& pool_;
};

}  // namespace orders::catalog
