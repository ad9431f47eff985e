#pragma once

#include <optional>
#include <string_view>

#include "http/message.hpp"

namespace orders::http {

// Compares in time that depends only on the lengths, so a caller cannot find the token one
// byte at a time by timing refusals.
bool constant_time_equals(std::string_view a, std::string_view b);

// The answer to an admin route's caller: nothing when `authorization` is "Bearer <token>",
// else 401 (no bearer credentials) or 403 (a wrong token). `token` must not be empty.
std::optional<Response> check_admin(std::string_view token, std::string_view authorization);

// The answer to an admin route when no token is configured and admin routes were not opened
// with --insecure-admin: 403 naming the setting (secure by default).
Response admin_not_configured();

}  // namespace orders::http
