#include "http/service_routes.hpp"

#include <boost/json/object.hpp>

#include "common/dependency_error.hpp"
#include "common/error_codes.hpp"
#include "http/envelope.hpp"
#include "metrics/registry.hpp"

namespace orders::http {
namespace json = boost::json;

void add_service_routes(Router& router, std::vector<DependencyCheck> checks) {
  router.add(Method::kGet, "/health", [](Request&) -> boost::asio::awaitable<Response> {
    co_return ok(json::object{{"status", "ok"}});
  });

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

  router.add(Method::kGet, "/metrics", [](Request&) -> boost::asio::awaitable<Response> {
    co_return Response{.status = 200,
                       .body = metrics::registry().render(),
                       .content_type = "text/plain; version=0.0.4; charset=utf-8"};
  });
}

}  // namespace orders::http
