#include "api/catalog_routes.hpp"

#include "api/answer.hpp"
#include "catalog/json.hpp"
#include "catalog/validation.hpp"
#include "common/error_codes.hpp"
#include "common/uuid.hpp"
#include "http/envelope.hpp"

namespace orders::api {
using namespace catalog;
namespace asio = boost::asio;
using http::Method;
using http::Request;
using http::Response;

namespace {

std::optional<std::string> path_id(const Request& req) { return uuid::normalize(req.param(0)); }

Response bad_id() { return http::validation_failed({{"id", "must be a UUID"}}); }

Response created(std::string_view json, const std::string& location) {
  Response r = http::ok_raw(json, 201);
  r.with_header("Location", location);
  return r;
}

// The id of a JSON object we produced ("{\"stock\":N,\"id\":\"...\"" or "{\"id\":\"...\"").
std::string id_of(std::string_view json) {
  auto at = json.find("\"id\":\"");
  return at == std::string_view::npos ? std::string() : std::string(json.substr(at + 6, 36));
}

}  // namespace

void add_catalog_routes(http::Router& router, CatalogService& catalog) {
  CatalogStore& store = catalog.store();

  router.add(Method::kGet, "/api/categories", [&store](Request&) -> asio::awaitable<Response> {
    auto categories = co_await store.list_categories();
    std::string json = "[";
    for (std::size_t i = 0; i < categories.size(); ++i) {
      if (i) json += ',';
      json += category_json(categories[i]);
    }
    json += ']';
    co_return http::ok_raw(json);
  });

  router.add(
      Method::kPost, "/api/categories",
      [&store](Request& req) -> asio::awaitable<Response> {
        auto parsed = parse_new_category(req.body);
        if (auto* problem = std::get_if<Problem>(&parsed)) co_return answer(*problem);
        auto result = co_await store.insert_category(std::get<NewCategory>(parsed));
        if (auto* problem = std::get_if<Problem>(&result)) co_return answer(*problem);
        const Category& c = std::get<Category>(result);
        co_return created(category_json(c), "/api/categories/" + c.id);
      },
      http::Access::kAdmin);

  router.add(Method::kGet, "/api/categories/{id}", [&store](Request& req) -> asio::awaitable<Response> {
    auto id = path_id(req);
    if (!id) co_return bad_id();
    auto c = co_await store.find_category(*id);
    if (!c) co_return http::not_found("Category");
    co_return http::ok_raw(category_json(*c));
  });

  router.add(
      Method::kPut, "/api/categories/{id}",
      [&store](Request& req) -> asio::awaitable<Response> {
        auto id = path_id(req);
        if (!id) co_return bad_id();
        auto parsed = parse_category_patch(req.body);
        if (auto* problem = std::get_if<Problem>(&parsed)) co_return answer(*problem);
        auto result = co_await store.update_category(*id, std::get<CategoryPatch>(parsed));
        if (auto* problem = std::get_if<Problem>(&result)) co_return answer(*problem);
        co_return http::ok_raw(category_json(std::get<Category>(result)));
      },
      http::Access::kAdmin);

  router.add(
      Method::kDelete, "/api/categories/{id}",
      [&store](Request& req) -> asio::awaitable<Response> {
        auto id = path_id(req);
        if (!id) co_return bad_id();
        if (auto problem = co_await store.delete_category(*id)) co_return answer(*problem);
        co_return http::ok(boost::json::object{{"id", *id}, {"deleted", true}});
      },
      http::Access::kAdmin);

  router.add(Method::kGet, "/api/products", [&catalog](Request& req) -> asio::awaitable<Response> {
    auto parsed = parse_product_list_query(req.query);
    if (auto* problem = std::get_if<Problem>(&parsed)) co_return answer(*problem);
    const auto& q = std::get<ProductListQuery>(parsed);
    auto page = co_await catalog.list_products(q.page, q.limit, q.category_id);
    co_return http::ok_list_raw(page.json_array,
                                http::Pagination{.page = q.page, .limit = q.limit, .total = page.total});
  });

  router.add(Method::kGet, "/api/products/{id}", [&catalog](Request& req) -> asio::awaitable<Response> {
    auto id = path_id(req);
    if (!id) co_return bad_id();
    auto view = co_await catalog.get_product(*id);
    Response r = view.found ? http::ok_raw(view.json) : http::not_found("Product");
    r.with_header("X-Cache", view.cache_hit ? "HIT" : "MISS");
    co_return r;
  });

  router.add(
      Method::kPost, "/api/products",
      [&catalog](Request& req) -> asio::awaitable<Response> {
        auto parsed = parse_new_product(req.body, now_ms());
        if (auto* problem = std::get_if<Problem>(&parsed)) co_return answer(*problem);
        auto result = co_await catalog.create_product(std::get<NewProduct>(parsed));
        if (auto* problem = std::get_if<Problem>(&result)) co_return answer(*problem);
        const std::string& json = std::get<std::string>(result);
        co_return created(json, "/api/products/" + id_of(json));
      },
      http::Access::kAdmin);

  router.add(
      Method::kPut, "/api/products/{id}",
      [&catalog](Request& req) -> asio::awaitable<Response> {
        auto id = path_id(req);
        if (!id) co_return bad_id();
        auto parsed = parse_product_patch(req.body);
        if (auto* problem = std::get_if<Problem>(&parsed)) co_return answer(*problem);
        auto result = co_await catalog.update_product(*id, std::get<ProductPatch>(parsed));
        if (auto* problem = std::get_if<Problem>(&result)) co_return answer(*problem);
        co_return http::ok_raw(std::get<std::string>(result));
      },
      http::Access::kAdmin);

  router.add(
      Method::kDelete, "/api/products/{id}",
      [&catalog](Request& req) -> asio::awaitable<Response> {
        auto id = path_id(req);
        if (!id) co_return bad_id();
        if (!co_await catalog.deactivate_product(*id)) co_return http::not_found("Product");
        co_return http::ok(boost::json::object{{"id", *id}, {"isActive", false}});
      },
      http::Access::kAdmin);
}

}  // namespace orders::api
