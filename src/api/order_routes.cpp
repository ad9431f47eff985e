#include "api/order_routes.hpp"

#include "api/answer.hpp"
#include "common/dependency_error.hpp"
#include "common/json_body.hpp"
#include "common/uuid.hpp"
#include "http/envelope.hpp"
#include "ordering/order_query.hpp"

namespace orders::api {
using namespace ordering;
namespace asio = boost::asio;
using http::Method;
using http::Request;
using http::Response;

namespace {

Response order_answer(const OrderOutcome& outcome) {
  if (auto* problem = std::get_if<Problem>(&outcome)) return answer(*problem);
  return http::ok_raw(std::get<std::string>(outcome));
}

}  // namespace

void add_order_routes(http::Router& router, OrderIntake& intake, OrderReader& reader, OrderLifecycle& lifecycle) {
  router.add(Method::kPost, "/api/orders", [&intake](Request& req) -> asio::awaitable<Response> {
    // Present but empty is refused by the parser (SPEC: an empty key is a 400, not "no key").
    auto parsed = parse_order_request(req.body, req.find_header("Idempotency-Key"));
    if (auto* problem = std::get_if<Problem>(&parsed)) co_return answer(*problem);
    auto outcome = co_await intake.purchase(std::get<OrderRequest>(parsed));
    if (auto* problem = std::get_if<Problem>(&outcome)) co_return answer(*problem);
    const Accepted& accepted = std::get<Accepted>(outcome);
    Response res = http::ok_raw(accepted.order_json, 202);
    res.order_id = accepted.order_id;
    if (!accepted.order_id.empty()) res.with_header("Location", "/api/orders/" + accepted.order_id);
    if (accepted.replayed) res.with_header("Idempotent-Replayed", "true");
    co_return res;
  });

  router.add(Method::kGet, "/api/orders", [&reader](Request& req) -> asio::awaitable<Response> {
    auto parsed = parse_order_list_query(req.query);
    if (auto* problem = std::get_if<Problem>(&parsed)) co_return answer(*problem);
    const auto& q = std::get<OrderListQuery>(parsed);
    auto [json, total] = co_await reader.list(q.page, q.limit, q.status, q.user_id);
    co_return http::ok_list_raw(json, http::Pagination{.page = q.page, .limit = q.limit, .total = total});
  });

  // Registered before /api/orders/{id}/logs: "/api/orders/user/x" is a user's list.
  router.add(Method::kGet, "/api/orders/user/{userId}", [&reader](Request& req) -> asio::awaitable<Response> {
    std::string user(req.param(0));
    if (!is_valid_user_id(user))
      co_return http::validation_failed({{"userId", "must be 1 to 64 characters of A-Z a-z 0-9 _ . @ -"}});
    auto parsed = parse_order_list_query(req.query, /*allow_user=*/false);
    if (auto* problem = std::get_if<Problem>(&parsed)) co_return answer(*problem);
    const auto& q = std::get<OrderListQuery>(parsed);
    auto [json, total] = co_await reader.list(q.page, q.limit, q.status, user);
    co_return http::ok_list_raw(json, http::Pagination{.page = q.page, .limit = q.limit, .total = total});
  });

  router.add(Method::kGet, "/api/orders/{id}/logs", [&intake, &reader](Request& req) -> asio::awaitable<Response> {
    auto id = uuid::normalize(req.param(0));
    if (!id) co_return http::validation_failed({{"id", "must be a UUID"}});
    auto logs = co_await reader.logs(*id);
    if (logs) co_return http::ok_raw(*logs);
    // Not in the record yet: a pending order's trail so far is its creation.
    auto pending = co_await intake.pending_order(*id);
    auto order = pending ? parse_order(*pending) : std::nullopt;
    if (!order) co_return http::not_found("Order");
    co_return http::ok_raw(pending_order_logs(*order));
  });

  router.add(Method::kGet, "/api/orders/{id}", [&intake, &reader](Request& req) -> asio::awaitable<Response> {
    auto id = uuid::normalize(req.param(0));
    if (!id) co_return http::validation_failed({{"id", "must be a UUID"}});
    // Pending in Redis until a worker persists it (the worker then removes the pending copy).
    std::optional<std::string> order;
    bool redis_down = false;
    try {
      order = co_await intake.pending_order(*id);
    } catch (const DependencyUnavailable&) {
      redis_down = true;  // the record may still have it; only a pending order is out of reach
    }
    if (!order) order = co_await reader.find(*id);
    if (!order && redis_down) throw DependencyUnavailable("Redis", "the order may be pending there");
    if (!order) co_return http::not_found("Order");
    co_return http::ok_raw(*order);
  });

  router.add(
      Method::kPut, "/api/orders/{id}/status",
      [&lifecycle](Request& req) -> asio::awaitable<Response> {
        auto id = uuid::normalize(req.param(0));
        auto body = JsonBody::parse(req.body);
        std::optional<OrderStatus> to;
        if (body.is_object()) {
          body.reject_unknown({"status"});
          auto text = body.string("status", Presence::kRequired, 1, 20);
          if (text) {
            to = parse_status(*text);
            if (!to)
              body.add_error("status",
                             "must be one of PENDING, CONFIRMED, PAID, COMPLETED, CANCELLED, FAILED, EXPIRED");
          }
        }
        std::vector<FieldError> errors = body.errors();
        if (!id) errors.insert(errors.begin(), {"id", "must be a UUID", {}});
        if (!errors.empty()) co_return http::validation_failed(errors);
        co_return order_answer(co_await lifecycle.change_status(*id, *to));
      },
      http::Access::kAdmin);

  router.add(Method::kDelete, "/api/orders/{id}", [&lifecycle](Request& req) -> asio::awaitable<Response> {
    auto id = uuid::normalize(req.param(0));
    if (!id) co_return http::validation_failed({{"id", "must be a UUID"}});
    co_return order_answer(co_await lifecycle.cancel(*id));
  });
}

}  // namespace orders::api
