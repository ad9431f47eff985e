#pragma once

#include "http/router.hpp"
#include "ordering/order_intake.hpp"
#include "ordering/order_lifecycle.hpp"
#include "ordering/order_reader.hpp"

namespace orders::ordering {

// POST /api/orders and GET /api/orders/{id}.
void add_order_routes(http::Router& router, OrderIntake& intake, OrderReader& reader, OrderLifecycle& lifecycle);

}  // namespace orders::ordering
