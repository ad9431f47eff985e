#pragma once

#include "catalog/catalog_service.hpp"
#include "http/router.hpp"

namespace orders::catalog {

// /api/categories and /api/products. Handlers are thin: parse and validate, one catalog
// operation, map the outcome to a response.
void add_catalog_routes(http::Router& router, CatalogService& catalog);

}  // namespace orders::catalog
