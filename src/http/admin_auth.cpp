#include "http/admin_auth.hpp"

#include <cctype>

#include "common/error_codes.hpp"
#include "http/envelope.hpp"

namespace orders::http {

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Walks the longer string whole; a length difference is folded in rather than returned early.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::optional<Response> check_admin(std::string_view token, std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  bool bearer = authorization.size() > kScheme.size();
  for (std::size_t i = 0; bearer && i < kScheme.size(); ++i) {
    bearer = std::tolower(static_cast<unsigned char>(authorization[i])) == kScheme[i];
  }
  if (!bearer) {
    Response res = error(401, codes::kUnauthorized, "This route needs an admin token: Authorization: Bearer <token>");
    res.with_header("WWW-Authenticate", "Bearer");
    return res;
  }
  std::string_view presented = authorization.substr(kScheme.size());
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
  if (!constant_time_equals(presented, token)) {
    return error(403, codes::kForbidden, "The admin token is not valid");
  }
  return std::nullopt;
}

Response admin_not_configured() {
  return error(403, codes::kForbidden,
               "Admin routes are disabled: the service has no ADMIN_TOKEN (set it, or start with --insecure-admin "
               "for local development only)");
}

}  // namespace orders::http
