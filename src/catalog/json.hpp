#pragma once

#include <string>

#include "catalog/model.hpp"

// Catalog values as the API's JSON (camelCase, RFC 3339 UTC times, exact decimal prices).
namespace orders::catalog {

std::string category_json(const Category& c);

// The product without its `stock` field: what the cache holds, since stock is always read
// from the live counter. with_stock() completes it.
std::string product_json_without_stock(const Product& p);
std::string with_stock(std::string_view product_without_stock, std::int64_t stock);

}  // namespace orders::catalog
