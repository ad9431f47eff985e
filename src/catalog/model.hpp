#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/field_error.hpp"
#include "common/money.hpp"
#include "common/problem.hpp"
#include "common/time.hpp"

// The catalog's plain values; JSON and SQL mapping live next to the boundaries that need them.
namespace orders::catalog {

struct Category {
  std::string id;
  std::string name;
  std::string slug;
  std::optional<std::string> description;
  EpochMs created_at = 0;
  EpochMs updated_at = 0;
};

struct Product {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  std::optional<std::string> sku;
  Money price;
  std::int64_t stock = 0;  // PostgreSQL's; the live figure is the Redis counter
  std::optional<std::string> category_id;
  std::optional<std::int64_t> max_per_user;
  std::optional<EpochMs> sale_starts_at;
  std::optional<EpochMs> sale_ends_at;
  std::optional<std::int64_t> payment_window_seconds;  // none: its orders never expire (unless a default)
  int stock_buckets = 1;  // counters its live stock is split over on Redis Cluster; fixed at creation
  bool is_active = true;
  EpochMs created_at = 0;
  EpochMs updated_at = 0;
  std::int64_t version = 1;  // bumped by every change; orders the publishes of its sale rules
};

struct NewCategory {
  std::string name;
  std::string slug;
  std::optional<std::string> description;
};

struct CategoryPatch {
  std::optional<std::string> name;
  std::optional<std::string> slug;
  Patch<std::string> description;
};

struct NewProduct {
  std::string name;
  std::optional<std::string> description;
  std::optional<std::string> sku;
  Money price;
  std::int64_t stock = 0;
  std::optional<std::string> category_id;
  std::optional<std::int64_t> max_per_user;
  std::optional<EpochMs> sale_starts_at;
  std::optional<EpochMs> sale_ends_at;
  std::optional<std::int64_t> payment_window_seconds;
  int stock_buckets = 1;
};

struct ProductPatch {
  std::optional<std::string> name;
  Patch<std::string> description;
  Patch<std::string> sku;
  std::optional<Money> price;
  std::optional<std::int64_t> stock;  // the new number available to buy
  Patch<std::string> category_id;
  Patch<std::int64_t> max_per_user;
  Patch<EpochMs> sale_starts_at;
  Patch<EpochMs> sale_ends_at;
  Patch<std::int64_t> payment_window_seconds;
  bool empty() const {
    return !name && !description.present && !sku.present && !price && !stock && !category_id.present &&
           !max_per_user.present && !sale_starts_at.present && !sale_ends_at.present && !payment_window_seconds.present;
  }
};

// Limits shared by validation and the schema.
inline constexpr std::size_t kMaxNameLength = 200;
inline constexpr std::size_t kMaxCategoryDescriptionLength = 2000;
inline constexpr std::size_t kMaxProductDescriptionLength = 5000;
inline constexpr std::size_t kMaxSkuLength = 64;
inline constexpr std::int64_t kMaxStock = 1'000'000'000;
inline constexpr std::int64_t kMaxPerUserLimit = 1'000'000;
inline constexpr std::int64_t kMaxPaymentWindowSeconds = 86'400;
inline constexpr std::int64_t kMaxStockBuckets = 64;  // buckets::kMaxBuckets (catalog/stock_buckets.hpp)

}  // namespace orders::catalog
