#include "http/router.hpp"

#include <stdexcept>

namespace orders::http {
namespace {

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Splits "/a/b/c" into its segments; "/" has none. Returns false for more segments than any
// route has, so a hostile path costs nothing.
template <typename Out>
bool split_path(std::string_view path, Out& out, std::size_t& count, std::size_t max) {
  count = 0;
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  if (path.empty()) return true;
  while (true) {
    std::size_t slash = path.find('/');
    if (count == max) return false;
    out[count++] = path.substr(0, slash);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

constexpr std::size_t kMaxSegments = 16;

}  // namespace

void Router::add(Method method, std::string_view pattern, Handler handler, Access access) {
  Route route{.method = method,
              .pattern = std::string(pattern),
              .segments = {},
              .handler = std::move(handler),
              .access = access};
  std::array<std::string_view, kMaxSegments> parts;
  std::size_t n = 0;
  if (!split_path(pattern, parts, n, kMaxSegments)) {
    throw std::invalid_argument("bad route pattern: " + std::string(pattern));
  }
  std::size_t params = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (is_param(parts[i])) ++params;
    route.segments.emplace_back(parts[i]);
  }
  if (params > kMaxPathParams) throw std::invalid_argument("too many parameters: " + std::string(pattern));
  routes_.push_back(std::move(route));
}

Router::Match Router::match(Method method, std::string_view path) const {
  Match result;
  std::array<std::string_view, kMaxSegments> parts;
  std::size_t n = 0;
  if (!split_path(path, parts, n, kMaxSegments)) return result;
  // "/api/products/" is the same resource as "/api/products".
  if (n > 0 && parts[n - 1].empty()) --n;

  for (const Route& route : routes_) {
    if (route.segments.size() != n) continue;
    Match candidate;
    bool same = true;
    for (std::size_t i = 0; i < n && same; ++i) {
      const std::string& seg = route.segments[i];
      if (is_param(seg)) {
        if (parts[i].empty()) same = false;
        else candidate.params[candidate.param_count++] = parts[i];
      } else {
        same = seg == parts[i];
      }
    }
    if (!same) continue;
    // HEAD is answered by the GET route (the server sends its headers without the body).
    if (route.method == method || (method == Method::kHead && route.method == Method::kGet)) {
      candidate.route = &route;
      return candidate;
    }
    if (!result.allow.empty()) result.allow += ", ";
    result.allow += to_string(route.method);
    if (route.method == Method::kGet) result.allow += ", HEAD";
  }
  return result;
}

}  // namespace orders::http
