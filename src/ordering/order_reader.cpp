#include "ordering/order_reader.hpp"

namespace orders::ordering {

// The JSON is built by PostgreSQL: numeric prices print exactly (19.99), times in UTC.
boost::asio::awaitable<std::optional<std::string>> OrderReader::find(const std::string& order_id) {
  postgres::Params p;
  p.add(order_id);
  auto r = co_await pool_.query(
      "SELECT json_build_object("
      " 'id', o.id, 'referenceNo', o.reference_no, 'userId', o.user_id, 'status', o.status,"
      " 'items', (SELECT json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity,"
      "   'unitPrice', i.unit_price, 'totalPrice', i.total_price) ORDER BY i.product_id)"
      "   FROM order_items i WHERE i.order_id = o.id),"
      " 'totalPrice', o.total_price, 'failureReason', o.failure_reason,"
      " 'createdAt', to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
      " 'updatedAt', to_char(o.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))::text"
      " FROM orders o WHERE o.id = $1",
      p);
  r.expect_ok("find_order");
  if (r.rows() == 0) co_return std::nullopt;
  co_return std::string(r.get(0, 0));
}

}  // namespace orders::ordering
