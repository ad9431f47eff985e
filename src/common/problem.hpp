#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/error_codes.hpp"
#include "common/field_error.hpp"

// The domain's one vocabulary for an expected refusal (Abseil's Status is the model): what kind
// of refusal it is, the API's error code, a message, and the fields at fault. catalog/ and
// ordering/ return these; only the routes turn a kind into a status code (api/answer.cpp).
namespace orders {

enum class ProblemKind {
  kInvalid,        // the request itself is wrong (400)
  kNotFound,       // 404
  kConflict,       // the state forbids it now (409)
  kUnprocessable,  // understood, refused for good (422)
  kUnavailable,    // a dependency could not take it; nothing was done, retry later (503)
};

struct Problem {
  ProblemKind kind = ProblemKind::kInvalid;
  std::string code;  // codes::k...
  std::string message;
  std::vector<FieldError> details;
};

// A value, or the reason there is none.
template <typename T>
using Outcome = std::variant<T, Problem>;

inline Problem invalid_fields(std::vector<FieldError> details) {
  return Problem{ProblemKind::kInvalid, std::string(codes::kValidationFailed), "Request validation failed",
                 std::move(details)};
}
inline Problem invalid_field(std::string field, std::string message) {
  std::vector<FieldError> details{{std::move(field), std::move(message), {}}};
  return invalid_fields(std::move(details));
}
// "Order not found", "Product not found", ...
inline Problem not_found(std::string_view what) {
  return Problem{ProblemKind::kNotFound, std::string(codes::kNotFound), std::string(what) + " not found", {}};
}
// A refusal that names the field at fault (details: that field with the same message).
inline Problem refusal(ProblemKind kind, std::string_view code, std::string message, std::string field = {}) {
  std::vector<FieldError> details;
  if (!field.empty()) details.push_back({std::move(field), message, {}});
  return Problem{kind, std::string(code), std::move(message), std::move(details)};
}
inline Problem unavailable(std::string message) {
  return Problem{ProblemKind::kUnavailable, std::string(codes::kServiceUnavailable), std::move(message), {}};
}

}  // namespace orders
