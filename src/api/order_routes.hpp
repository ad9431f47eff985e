#pragma once

#include "http/router.hpp"
#include "ordering/order_intake.hpp"
#include "ordering/order_lifecycle.hpp"
#include "ordering/order_reader.hpp"

namespace orders::api {

// POST /api/orders and GET /api/orders/{id}.
void add_order_routes(http::Router& router, ordering::OrderIntake& intake, ordering::OrderReader& reader,
                      ordering::OrderLifecycle& lifecycle);

}  // namespace orders::api
