#include "ordering/order_query.hpp"

#include "common/json_body.hpp"
#include "ordering/order_request.hpp"
#include "ordering/order_status.hpp"

namespace orders::ordering {

Outcome<OrderListQuery> parse_order_list_query(std::string_view query, bool allow_user) {
  OrderListQuery q;
  std::vector<FieldError> errors;
  auto params = decode_query(query);
  if (!params) return invalid_field("query", "is not a valid query string");
  for (const auto& [key, value] : *params) {
    if (key == "page") {
      if (auto n = parse_query_integer(value, 1, 1'000'000)) q.page = *n;
      else errors.push_back({"page", "must be an integer from 1 to 1000000"});
    } else if (key == "limit") {
      if (auto n = parse_query_integer(value, 1, 100)) q.limit = *n;
      else errors.push_back({"limit", "must be an integer from 1 to 100"});
    } else if (key == "status") {
      if (parse_status(value)) q.status = value;
      else
        errors.push_back({"status", "must be one of PENDING, CONFIRMED, PAID, COMPLETED, CANCELLED, FAILED, EXPIRED"});
    } else if (key == "userId" && allow_user) {
      if (is_valid_user_id(value)) q.user_id = value;
      else errors.push_back({"userId", "must be 1 to 64 characters of A-Z a-z 0-9 _ . @ -"});
    } else {
      errors.push_back({key, "is not a known query parameter"});
    }
  }
  if (!errors.empty()) return invalid_fields(std::move(errors));
  return q;
}

}  // namespace orders::ordering
