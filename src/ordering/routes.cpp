#include "ordering/routes.hpp"

#include "common/uuid.hpp"
#include "http/envelope.hpp"

namespace orders::ordering {
namespace asio = boost::asio;
using http::Method;
using http::Request;
using http::Response;

void add_order_routes(http::Router& router, OrderIntake& intake, OrderReader& reader) {
  router.add(Method::kPost, "/api/orders", [&intake](Request& req) -> asio::awaitable<Response> {
    std::optional<std::string_view> key;
    if (auto header = req.header("Idempotency-Key"); !header.empty()) key = header;
    auto parsed = parse_order_request(req.body, key);
    if (auto* errors = std::get_if<std::vector<http::FieldError>>(&parsed)) co_return http::validation_failed(*errors);
    auto result = co_await intake.purchase(std::get<OrderRequest>(parsed));
    Response res{.status = result.status, .body = std::move(result.body)};
    if (result.status == 202 && !result.order_id.empty()) res.with_header("Location", "/api/orders/" + result.order_id);
    if (result.replayed) res.with_header("Idempotent-Replayed", "true");
    if (result.retry_later) res.with_header("Retry-After", "2");
    co_return res;
  });

  router.add(Method::kGet, "/api/orders/{id}", [&intake, &reader](Request& req) -> asio::awaitable<Response> {
    auto id = uuid::normalize(req.param(0));
    if (!id) co_return http::validation_failed({{"id", "must be a UUID"}});
    // Pending in Redis until a worker persists it (the worker then removes the pending copy).
    auto order = co_await intake.pending_order(*id);
    if (!order) order = co_await reader.find(*id);
    if (!order) co_return http::not_found("Order");
    co_return http::ok_raw(*order);
  });
}

}  // namespace orders::ordering
