#pragma once

#include "http/router.hpp"
#include "ordering/order_intake.hpp"

namespace orders::ordering {

// POST /api/orders and GET /api/orders/{id}.
void add_order_routes(http::Router& router, OrderIntake& intake);

}  // namespace orders::ordering
