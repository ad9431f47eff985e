#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/problem.hpp"

namespace orders::ordering {

struct OrderListQuery {
  std::int64_t page = 1;
  std::int64_t limit = 10;
  std::optional<std::string> status;
  std::optional<std::string> user_id;
};

// ?page=&limit=&status=&userId= of GET /api/orders (and page/limit of the per-user list).
Outcome<OrderListQuery> parse_order_list_query(std::string_view query, bool allow_user = true);

}  // namespace orders::ordering
