#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/field_error.hpp"
#include "http/message.hpp"

// The JSON envelope of SPEC section 4:
//   success: {"success": true, "data": ...}  (lists add "pagination")
//   error:   {"success": false, "error": "...", "code": "...", "details": [...]}
namespace orders::http {

using orders::FieldError;

struct Pagination {
  long long page = 1;
  long long limit = 10;
  long long total = 0;
};

Response ok(boost::json::value data, int status = 200);
// The same envelopes around data that is already JSON text (hot paths, exact decimals).
Response ok_raw(std::string_view data_json, int status = 200);
Response ok_list_raw(std::string_view array_json, const Pagination& pagination);
Response error(int status, std::string_view code, std::string_view message,
               const std::vector<FieldError>& details = {});
Response error(int status, std::string_view code, std::string_view message, boost::json::array details);

Response validation_failed(const std::vector<FieldError>& details);
Response not_found(std::string_view what);
Response method_not_allowed(std::string_view allow);
Response body_too_large(std::size_t limit_bytes);  // 400, the connection then closes
Response service_unavailable(std::string_view dependency, int retry_after_seconds = 1);
Response internal_error();

// Number of pages for a total and a page size (0 when there is nothing).
long long page_count(long long total, long long limit);

}  // namespace orders::http
