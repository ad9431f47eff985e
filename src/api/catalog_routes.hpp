#pragma once

#include "catalog/catalog_service.hpp"
#include "http/router.hpp"

namespace orders::api {

// /api/categories and /api/products. Handlers are thin: parse and validate, one catalog
// operation, map the outcome to a response.
void add_catalog_routes(http::Router& router, catalog::CatalogService& catalog);

}  // namespace orders::api
