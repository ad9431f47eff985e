#include "http/envelope.hpp"

#include <boost/json/serialize.hpp>

#include "common/error_codes.hpp"
#include "common/json_writer.hpp"

namespace orders::http {
namespace json = boost::json;

Response ok(json::value data, int status) {
  json::object body;
  body["success"] = true;
  body["data"] = std::move(data);
  return Response{.status = status, .body = json::serialize(body)};
}

Response ok_raw(std::string_view data_json, int status) {
  std::string body;
  body.reserve(data_json.size() + 32);
  body += "{\"success\":true,\"data\":";
  body += data_json;
  body += '}';
  return Response{.status = status, .body = std::move(body)};
}

Response ok_list_raw(std::string_view array_json, const Pagination& p) {
  std::string body;
  body.reserve(array_json.size() + 128);
  body += "{\"success\":true,\"data\":";
  body += array_json;
  body += ",\"pagination\":{\"page\":" + std::to_string(p.page) + ",\"limit\":" + std::to_string(p.limit) +
          ",\"total\":" + std::to_string(p.total) + ",\"pages\":" + std::to_string(page_count(p.total, p.limit)) + "}}";
  return Response{.status = 200, .body = std::move(body)};
}

long long page_count(long long total, long long limit) {
  if (total <= 0 || limit <= 0) return 0;
  return (total + limit - 1) / limit;
}

Response error(int status, std::string_view code, std::string_view message, json::array details) {
  json::object body;
  body["success"] = false;
  body["error"] = message;
  body["code"] = code;
  body["details"] = std::move(details);
  return Response{.status = status, .body = json::serialize(body), .code = std::string(code)};
}

Response error(int status, std::string_view code, std::string_view message, const std::vector<FieldError>& details) {
  // Written straight into the body: every refusal of a sold-out sale comes through here, so no
  // JSON object model in between. The members in the order error(…, json::array) writes them.
  std::string body;
  body.reserve(64 + code.size() + message.size() * (1 + details.size()) + 64 * details.size());
  body += R"({"success":false,"error":)";
  append_json_string(body, message);
  body += R"(,"code":)";
  append_json_string(body, code);
  body += R"(,"details":[)";
  for (std::size_t i = 0; i < details.size(); ++i) {
    const FieldError& d = details[i];
    body += i ? R"(,{"field":)" : R"({"field":)";
    append_json_string(body, d.field);
    if (!d.product_id.empty()) {
      body += R"(,"productId":)";
      append_json_string(body, d.product_id);
    }
    body += R"(,"message":)";
    append_json_string(body, d.message);
    body += '}';
  }
  body += "]}";
  return Response{.status = status, .body = std::move(body), .code = std::string(code)};
}

Response validation_failed(const std::vector<FieldError>& details) {
  return error(400, codes::kValidationFailed, "Request validation failed", details);
}

Response not_found(std::string_view what) { return error(404, codes::kNotFound, std::string(what) + " not found"); }

Response method_not_allowed(std::string_view allow) {
  Response r = error(405, codes::kMethodNotAllowed, "Method not allowed; allowed: " + std::string(allow));
  r.with_header("Allow", std::string(allow));
  return r;
}

Response body_too_large(std::size_t limit_bytes) {
  // SPEC section 4 puts an oversized body with the other bad input: 400 VALIDATION_FAILED.
  return error(400, codes::kValidationFailed, "Request body exceeds " + std::to_string(limit_bytes) + " bytes",
               std::vector<FieldError>{{"body", "must be at most " + std::to_string(limit_bytes) + " bytes"}});
}

Response service_unavailable(std::string_view dependency, int retry_after_seconds) {
  Response r = error(503, codes::kServiceUnavailable, std::string(dependency) + " is unavailable");
  r.with_header("Retry-After", std::to_string(retry_after_seconds));
  return r;
}

Response internal_error() { return error(500, codes::kInternalError, "Internal server error"); }

}  // namespace orders::http
