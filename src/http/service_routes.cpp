#include "http/service_routes.hpp"

#include <boost/json/object.hpp>

#include "common/dependency_error.hpp"
#include "common/embedded.hpp"
#include "common/error_codes.hpp"
#include "common/json_body.hpp"
#include "http/envelope.hpp"
#include "metrics/registry.hpp"

namespace orders::http {
namespace json = boost::json;

void add_service_routes(Router& router, std::vector<DependencyCheck> checks) {
  router.add(Method::kGet, "/ready", [checks = std::move(checks)](Request&) -> boost::asio::awaitable<Response> {
    json::object status;
    json::array failures;
    std::string names;
    for (const DependencyCheck& check : checks) {
      std::optional<std::string> problem;
      try {
        problem = co_await check.probe();
      } catch (const std::exception& e) {
        problem = e.what();
      }
      status[check.name] = problem ? "unavailable" : "ok";
      if (problem) {
        failures.push_back(json::object{{"dependency", check.name}, {"message", *problem}});
        names += (names.empty() ? "" : ", ") + check.name;
      }
    }
    if (failures.empty()) co_return ok(json::object{{"status", "ready"}, {"dependencies", std::move(status)}});
    Response res = error(503, codes::kServiceUnavailable, "Not ready: " + names + " unavailable", std::move(failures));
    res.with_header("Retry-After", "1");
    co_return res;
  });

  // The OpenAPI document, built into the binary: docs/openapi.yaml as written, or the JSON
  // the build converted it to.
  router.add(Method::kGet, "/api-docs", [](Request& req) -> boost::asio::awaitable<Response> {
    bool json_format = false;
    auto params = decode_query(req.query);
    if (!params) co_return validation_failed({{"query", "is not a valid query string"}});
    for (const auto& [key, value] : *params) {
      if (key != "format") co_return validation_failed({{key, "is not a known query parameter"}});
      if (value != "yaml" && value != "json") co_return validation_failed({{"format", "must be yaml or json"}});
      json_format = value == "json";
    }
    auto document = embedded::find(json_format ? "docs/openapi.json" : "docs/openapi.yaml");
    if (!document) co_return internal_error();
    co_return Response{.status = 200,
                       .body = std::string(*document),
                       .content_type = json_format ? "application/json" : "application/yaml"};
  });

  add_health_and_metrics_routes(router);
}

void add_health_and_metrics_routes(Router& router) {
  router.add(Method::kGet, "/health", [](Request&) -> boost::asio::awaitable<Response> {
    co_return ok(json::object{{"status", "ok"}});
  });

  router.add(Method::kGet, "/metrics", [](Request&) -> boost::asio::awaitable<Response> {
    co_return Response{.status = 200,
                       .body = metrics::registry().render(),
                       .content_type = "text/plain; version=0.0.4; charset=utf-8"};
  });
}

}  // namespace orders::http
