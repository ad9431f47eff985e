#pragma once

#include <string_view>
#include <variant>
#include <vector>

#include "catalog/model.hpp"
#include "common/problem.hpp"

// Request bodies and queries to catalog commands; every problem is a FieldError naming the
// field (unknown fields, wrong types, out-of-range numbers, bad UUIDs and dates).
namespace orders::catalog {

Outcome<NewCategory> parse_new_category(std::string_view body);
Outcome<CategoryPatch> parse_category_patch(std::string_view body);
Outcome<NewProduct> parse_new_product(std::string_view body, EpochMs now);
Outcome<ProductPatch> parse_product_patch(std::string_view body);

struct ProductListQuery {
  std::int64_t page = 1;
  std::int64_t limit = 10;
  std::optional<std::string> category_id;
};
Outcome<ProductListQuery> parse_product_list_query(std::string_view query);

inline constexpr std::int64_t kMaxPage = 1'000'000;
inline constexpr std::int64_t kMaxLimit = 100;

}  // namespace orders::catalog
