#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Transport-neutral request and response: handlers and the router never see Boost.Beast,
// which stays inside server.cpp (it is heavy to compile).
namespace orders::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view to_string(Method method);
Method parse_method(std::string_view name);

inline constexpr std::size_t kMaxPathParams = 4;

struct Request {
  Method method = Method::kGet;
  std::string_view target;  // as received: path and query
  std::string_view path;    // without the query
  std::string_view query;   // after '?', undecoded
  std::string_view body;
  // Path parameters in the order of the route's pattern ("{id}" ...).
  std::array<std::string_view, kMaxPathParams> params{};
  std::size_t param_count = 0;

  // Header lookup is supplied by the transport (case-insensitive); nothing when absent.
  using HeaderLookup = std::optional<std::string_view> (*)(const void* native, std::string_view name);
  HeaderLookup header_lookup = nullptr;
  const void* native = nullptr;

  // The header's value, or nothing when the request has no such header (present but empty
  // is an empty value: `Idempotency-Key:` is a 400, not "no key").
  std::optional<std::string_view> find_header(std::string_view name) const {
    return header_lookup ? header_lookup(native, name) : std::nullopt;
  }
  // The same, empty when absent.
  std::string_view header(std::string_view name) const { return find_header(name).value_or(std::string_view{}); }
  std::string_view param(std::size_t i) const { return i < param_count ? params[i] : std::string_view{}; }
};

struct Response {
  int status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  // The error envelope's `code` (for the request log), empty on success.
  std::string code;
  // The order a purchase created (for the request log), empty otherwise.
  std::string order_id;
  std::vector<std::pair<std::string, std::string>> headers;

  Response& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

}  // namespace orders::http
