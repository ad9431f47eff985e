#include "ordering/order_reader.hpp"

namespace orders::ordering {

namespace {

// The statements that splice these in are built once, in a static of their function: no
// temporary string inside a co_await (GCC 12 destroys some of those twice).
// An order row `o` as the API's JSON, built by PostgreSQL: numeric prices print exactly
// (19.99), times in UTC.
constexpr std::string_view kOrderJson =
    "json_build_object("
    " 'id', o.id, 'referenceNo', o.reference_no, 'userId', o.user_id, 'status', o.status,"
    " 'items', (SELECT json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity,"
    "   'unitPrice', i.unit_price, 'totalPrice', i.total_price) ORDER BY i.product_id)"
    "   FROM order_items i WHERE i.order_id = o.id),"
    " 'totalPrice', o.total_price, 'failureReason', o.failure_reason,"
    " 'createdAt', to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " 'expiresAt', to_char(o.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " 'updatedAt', to_char(o.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))";

}  // namespace

boost::asio::awaitable<std::optional<std::string>> OrderReader::find(const std::string& order_id) {
  postgres::Params p;
  p.add(order_id);
  static const std::string kSql = "SELECT " + std::string(kOrderJson) + "::text FROM orders o WHERE o.id = $1";
  auto r = co_await pool_.read(kSql, p);
  r.expect_ok("find_order");
  if (r.rows() == 0) co_return std::nullopt;
  co_return std::string(r.get(0, 0));
}

}  // namespace orders::ordering

namespace orders::ordering {

boost::asio::awaitable<std::pair<std::string, std::int64_t>> OrderReader::list(
    std::int64_t page, std::int64_t limit, const std::optional<std::string>& status,
    const std::optional<std::string>& user_id) {
  postgres::Params p;
  p.add(status).add(user_id).add(limit).add((page - 1) * limit);
  static const std::string kSql =
      "WITH filtered AS (SELECT * FROM orders WHERE ($1::text IS NULL OR status = $1)"
      "   AND ($2::text IS NULL OR user_id = $2)),"
      " page AS (SELECT * FROM filtered o ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4)"
      " SELECT COALESCE((SELECT json_agg(" +
      std::string(kOrderJson) +
      " ORDER BY o.created_at DESC, o.id DESC)"
      "   FROM page o), '[]')::text, (SELECT count(*) FROM filtered)";
  auto r = co_await pool_.read(kSql, p);
  r.expect_ok("list_orders");
  co_return std::pair{std::string(r.get(0, 0)), r.get_int(0, 1)};
}

boost::asio::awaitable<std::optional<std::string>> OrderReader::logs(const std::string& order_id) {
  postgres::Params p;
  p.add(order_id);
  auto r = co_await pool_.read(
      "SELECT EXISTS (SELECT 1 FROM orders WHERE id = $1), COALESCE((SELECT json_agg(json_build_object("
      "   'id', e.id, 'orderId', e.order_id, 'eventType', e.event_type, 'fromStatus', e.from_status,"
      "   'toStatus', e.to_status, 'details', e.details,"
      "   'createdAt', to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))"
      "   ORDER BY e.id) FROM order_events e WHERE e.order_id = $1), '[]')::text",
      p);
  r.expect_ok("order_logs");
  if (!r.get_bool(0, 0)) co_return std::nullopt;
  co_return std::string(r.get(0, 1));
}

std::string pending_order_logs(const Order& order) {
  // Ids, statuses and times are ours (a UUID, fixed names, RFC 3339): nothing to escape.
  return R"([{"id":null,"orderId":")" + order.id +
         R"(","eventType":"CREATED","fromStatus":null,"toStatus":"PENDING","details":null,"createdAt":")" +
         order.created_at + "\"}]";
}

}  // namespace orders::ordering
