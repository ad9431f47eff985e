#include "catalog/catalog_store.hpp"

#include "common/error_codes.hpp"
#include "common/uuid.hpp"
#include "storage/postgres/async_transaction.hpp"

namespace orders::catalog {
namespace asio = boost::asio;
using postgres::Params;
using postgres::Result;

namespace {

// The statements that splice these in are built once, in a static of their function: no
// temporary string inside a co_await (GCC 12 destroys some of those twice).
constexpr std::string_view kCategoryColumns =
    "id, name, slug, description, (extract(epoch FROM created_at) * 1000)::bigint,"
    " (extract(epoch FROM updated_at) * 1000)::bigint";

constexpr std::string_view kProductColumns =
    "id, name, description, sku, price::text, stock, category_id, max_per_user,"
    " (extract(epoch FROM sale_starts_at) * 1000)::bigint, (extract(epoch FROM sale_ends_at) * 1000)::bigint,"
    " is_active, (extract(epoch FROM created_at) * 1000)::bigint, (extract(epoch FROM updated_at) * 1000)::bigint, "
    "version, payment_window_seconds, stock_buckets";
// How many kProductColumns are: a query's own columns come after them.
constexpr int kProductColumnCount = 16;

std::optional<std::string> opt_string(const Result& r, int row, int col) {
  auto v = r.get_optional(row, col);
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

std::optional<std::int64_t> opt_int(const Result& r, int row, int col) {
  if (r.is_null(row, col)) return std::nullopt;
  return r.get_int(row, col);
}

Category category_from(const Result& r, int row) {
  return Category{.id = std::string(r.get(row, 0)),
                  .name = std::string(r.get(row, 1)),
                  .slug = std::string(r.get(row, 2)),
                  .description = opt_string(r, row, 3),
                  .created_at = r.get_int(row, 4),
                  .updated_at = r.get_int(row, 5)};
}

Product product_from(const Result& r, int row) {
  Product p;
  p.id = r.get(row, 0);
  p.name = r.get(row, 1);
  p.description = opt_string(r, row, 2);
  p.sku = opt_string(r, row, 3);
  p.price = parse_decimal_money(r.get(row, 4)).value_or(Money{});
  p.stock = r.get_int(row, 5);
  p.category_id = opt_string(r, row, 6);
  p.max_per_user = opt_int(r, row, 7);
  p.sale_starts_at = opt_int(r, row, 8);
  p.sale_ends_at = opt_int(r, row, 9);
  p.is_active = r.get_bool(row, 10);
  p.created_at = r.get_int(row, 11);
  p.updated_at = r.get_int(row, 12);
  p.version = r.get_int(row, 13);
  p.payment_window_seconds = opt_int(r, row, 14);
  p.stock_buckets = static_cast<int>(r.get_int(row, 15));
  return p;
}

std::optional<std::string> time_param(const std::optional<EpochMs>& t) {
  return t ? std::optional<std::string>(format_rfc3339(*t)) : std::nullopt;
}

// Maps a failed statement to the refusal the API gives, naming the field.
Problem constraint_failure(const Result& r) {
  std::string_view constraint = r.constraint();
  if (r.sqlstate() == postgres::kUniqueViolation) {
    std::string field = constraint == "categories_name_key"   ? "name"
                        : constraint == "categories_slug_key" ? "slug"
                        : constraint == "products_sku_key"    ? "sku"
                                                              : "id";
    return refusal(ProblemKind::kConflict, codes::kConflict, "A record with this " + field + " already exists", field);
  }
  if (r.sqlstate() == postgres::kForeignKeyViolation && constraint == "products_category_id_fkey") {
    return invalid_field("categoryId", "names no existing category");
  }
  if (r.sqlstate() == postgres::kCheckViolation && constraint == "products_sale_window") {
    return invalid_field("saleEndsAt", "must be after saleStartsAt");
  }
  if (r.sqlstate() == postgres::kCheckViolation && constraint == "products_stock_check") {
    return refusal(ProblemKind::kConflict, codes::kConflict, "Stock cannot go below zero", "stock");
  }
  throw std::runtime_error("catalog statement failed: " + r.error_message());
}

// The transaction of one product update: the lease holds it open between lock and commit.
class PostgresProductUpdate final : public ProductUpdate {
 public:
  PostgresProductUpdate(postgres::AsyncTransaction tx, Product current)
      : tx_(std::move(tx)), current_(std::move(current)) {}
  const Product& current() const override { return current_; }
  asio::awaitable<Outcome<Product>> apply(const ProductPatch& patch, std::int64_t stock_delta) override;
  asio::awaitable<void> rollback() override;

 private:
  postgres::AsyncTransaction tx_;
  Product current_;
};

}  // namespace

asio::awaitable<std::vector<Category>> CatalogStore::list_categories() {
  static const std::string kSql = "SELECT " + std::string(kCategoryColumns) +
                                  " FROM categories ORDER BY name LIMIT 1000";
  auto r = co_await pool_.read(kSql);
  r.expect_ok("list_categories");
  std::vector<Category> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(category_from(r, i));
  co_return out;
}

asio::awaitable<std::optional<Category>> CatalogStore::find_category(const std::string& id) {
  Params p;
  p.add(id);
  static const std::string kSql = "SELECT " + std::string(kCategoryColumns) + " FROM categories WHERE id = $1";
  auto r = co_await pool_.read(kSql, p);
  r.expect_ok("find_category");
  if (r.rows() == 0) co_return std::nullopt;
  co_return category_from(r, 0);
}

asio::awaitable<Outcome<Category>> CatalogStore::insert_category(const NewCategory& c) {
  Params p;
  p.add(uuid::make_v7()).add(c.name).add(c.slug).add(c.description);
  static const std::string kSql =
      "INSERT INTO categories (id, name, slug, description) VALUES ($1, $2, $3, $4) RETURNING " +
      std::string(kCategoryColumns);
  auto r = co_await pool_.query(kSql, p);
  if (!r.ok()) co_return constraint_failure(r);
  co_return category_from(r, 0);
}

asio::awaitable<Outcome<Category>> CatalogStore::update_category(const std::string& id, const CategoryPatch& patch) {
  Params p;
  p.add(id).add(patch.name).add(patch.slug).add(patch.description.present).add(patch.description.value);
  static const std::string kSql =
      "UPDATE categories SET name = COALESCE($2, name), slug = COALESCE($3, slug),"
      " description = CASE WHEN $4::boolean THEN $5 ELSE description END, updated_at = now()"
      " WHERE id = $1 RETURNING " +
      std::string(kCategoryColumns);
  auto r = co_await pool_.query(kSql, p);
  if (!r.ok()) co_return constraint_failure(r);
  if (r.rows() == 0) co_return refusal(ProblemKind::kNotFound, codes::kNotFound, "Category not found", "id");
  co_return category_from(r, 0);
}

asio::awaitable<std::optional<Problem>> CatalogStore::delete_category(const std::string& id) {
  Params p;
  p.add(id);
  // One statement: refuse while active products use it, else delete (inactive products keep
  // their history and lose the category).
  auto r = co_await pool_.query(
      "WITH used AS (SELECT count(*) AS n FROM products WHERE category_id = $1 AND is_active),"
      " gone AS (DELETE FROM categories WHERE id = $1 AND (SELECT n FROM used) = 0 RETURNING id)"
      " SELECT (SELECT n FROM used), (SELECT count(*) FROM gone), EXISTS (SELECT 1 FROM categories WHERE id = $1)",
      p);
  r.expect_ok("delete_category");
  if (r.get_int(0, 1) == 1) co_return std::nullopt;
  if (!r.get_bool(0, 2)) co_return refusal(ProblemKind::kNotFound, codes::kNotFound, "Category not found", "id");
  co_return refusal(ProblemKind::kConflict, codes::kConflict,
                    "Category still has " + std::string(r.get(0, 0)) + " active products; move or delete them first",
                    "id");
}

asio::awaitable<std::optional<Product>> CatalogStore::find_product(const std::string& id) {
  Params p;
  p.add(id);
  static const std::string kSql = "SELECT " + std::string(kProductColumns) +
                                  " FROM products WHERE id = $1 AND is_active";
  auto r = co_await pool_.read(kSql, p);
  r.expect_ok("find_product");
  if (r.rows() == 0) co_return std::nullopt;
  co_return product_from(r, 0);
}

asio::awaitable<std::pair<std::vector<Product>, std::int64_t>> CatalogStore::list_products(
    std::int64_t page, std::int64_t limit, const std::optional<std::string>& category_id) {
  Params p;
  p.add(category_id).add(limit).add((page - 1) * limit);
  // The count rides along as a window over the filtered set; an empty page still needs it.
  static const std::string kSql =
      "WITH filtered AS (SELECT * FROM products WHERE is_active AND ($1::uuid IS NULL OR category_id = $1))"
      " SELECT " +
      std::string(kProductColumns) +
      ", (SELECT count(*) FROM filtered)"
      " FROM filtered ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3";
  auto r = co_await pool_.read(kSql, p);
  r.expect_ok("list_products");
  std::vector<Product> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(product_from(r, i));
  std::int64_t total = 0;
  if (r.rows() > 0) {
    total = r.get_int(0, kProductColumnCount);
  } else {
    Params q;
    q.add(category_id);
    auto c = co_await pool_.read(
        "SELECT count(*) FROM products WHERE is_active AND ($1::uuid IS NULL OR category_id = $1)", q);
    c.expect_ok("count_products");
    total = c.get_int(0, 0);
  }
  co_return std::pair{std::move(out), total};
}

asio::awaitable<Outcome<Product>> CatalogStore::insert_product(const NewProduct& n) {
  auto tx = co_await postgres::AsyncTransaction::begin(pool_);
  Params p;
  p.add(uuid::make_v7())
      .add(n.name)
      .add(n.description)
      .add(n.sku)
      .add(n.price.to_decimal())
      .add(n.stock)
      .add(n.category_id)
      .add(n.max_per_user)
      .add(time_param(n.sale_starts_at))
      .add(time_param(n.sale_ends_at))
      .add(n.payment_window_seconds)
      .add(static_cast<long long>(n.stock_buckets));
  static const std::string kSql =
      "INSERT INTO products (id, name, description, sku, price, stock, category_id, max_per_user, sale_starts_at,"
      " sale_ends_at, payment_window_seconds, stock_buckets)"
      " VALUES ($1, $2, $3, $4, $5::numeric, $6, $7, $8, $9::timestamptz, $10::timestamptz, $11, $12)"
      " RETURNING " +
      std::string(kProductColumns);
  auto r = co_await tx.execute(kSql, p);
  if (!r.ok()) {
    co_await tx.rollback();
    co_return constraint_failure(r);
  }
  Product product = product_from(r, 0);
  if (product.stock > 0) {
    Params m;
    m.add(product.id).add(product.stock);
    Result moved = co_await tx.execute(
        "INSERT INTO inventory_movements (product_id, delta, reason) VALUES ($1, $2, 'INITIAL')", m);
    moved.expect_ok("initial movement");
  }
  Result committed = co_await tx.commit();
  committed.expect_ok("commit");
  co_return product;
}

asio::awaitable<std::unique_ptr<ProductUpdate>> CatalogStore::begin_product_update(const std::string& id) {
  auto tx = co_await postgres::AsyncTransaction::begin(pool_);
  Params p;
  p.add(id);
  // The row lock orders concurrent updates of one product, so their stock deltas apply in turn.
  static const std::string kSql = "SELECT " + std::string(kProductColumns) +
                                  " FROM products WHERE id = $1 AND is_active FOR NO KEY UPDATE";
  auto r = co_await tx.execute(kSql, p);
  r.expect_ok("lock product");
  if (r.rows() == 0) {
    co_await tx.rollback();
    co_return nullptr;
  }
  co_return std::make_unique<PostgresProductUpdate>(std::move(tx), product_from(r, 0));
}

asio::awaitable<Outcome<Product>> PostgresProductUpdate::apply(const ProductPatch& patch, std::int64_t delta) {
  Params p;
  p.add(current_.id)
      .add(patch.name)
      .add(patch.description.present)
      .add(patch.description.value)
      .add(patch.sku.present)
      .add(patch.sku.value)
      .add(patch.price ? std::optional<std::string>(patch.price->to_decimal()) : std::nullopt)
      .add(delta)
      .add(patch.category_id.present)
      .add(patch.category_id.value)
      .add(patch.max_per_user.present)
      .add(patch.max_per_user.value)
      .add(patch.sale_starts_at.present)
      .add(time_param(patch.sale_starts_at.value))
      .add(patch.sale_ends_at.present)
      .add(time_param(patch.sale_ends_at.value))
      .add(patch.payment_window_seconds.present)
      .add(patch.payment_window_seconds.value);
  static const std::string kSql =
      "UPDATE products SET name = COALESCE($2, name),"
      " description = CASE WHEN $3::boolean THEN $4 ELSE description END,"
      " sku = CASE WHEN $5::boolean THEN $6 ELSE sku END,"
      " price = COALESCE($7::numeric, price),"
      " stock = stock + $8,"
      " category_id = CASE WHEN $9::boolean THEN $10::uuid ELSE category_id END,"
      " max_per_user = CASE WHEN $11::boolean THEN $12::integer ELSE max_per_user END,"
      " sale_starts_at = CASE WHEN $13::boolean THEN $14::timestamptz ELSE sale_starts_at END,"
      " sale_ends_at = CASE WHEN $15::boolean THEN $16::timestamptz ELSE sale_ends_at END,"
      " payment_window_seconds = CASE WHEN $17::boolean THEN $18::integer ELSE payment_window_seconds END,"
      " updated_at = now(), version = version + 1"
      " WHERE id = $1 RETURNING " +
      std::string(kProductColumns);
  auto r = co_await tx_.execute(kSql, p);
  if (!r.ok()) {
    co_await tx_.rollback();
    co_return constraint_failure(r);
  }
  if (delta != 0) {
    Params m;
    m.add(current_.id).add(delta);
    Result moved = co_await tx_.execute(
        "INSERT INTO inventory_movements (product_id, delta, reason) VALUES ($1, $2, 'ADJUSTMENT')", m);
    moved.expect_ok("adjustment movement");
  }
  Result committed = co_await tx_.commit();
  committed.expect_ok("commit");
  co_return product_from(r, 0);
}

asio::awaitable<void> PostgresProductUpdate::rollback() {
  if (tx_.open()) co_await tx_.rollback();
}

asio::awaitable<std::optional<std::int64_t>> CatalogStore::deactivate_product(const std::string& id) {
  Params p;
  p.add(id);
  auto r = co_await pool_.query(
      "UPDATE products SET is_active = false, updated_at = now(), version = version + 1 WHERE id = $1 AND is_active"
      " RETURNING version",
      p);
  r.expect_ok("deactivate_product");
  if (r.rows() != 1) co_return std::nullopt;
  co_return r.get_int(0, 0);
}

}  // namespace orders::catalog
