#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace orders::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

// Who may call a route. Admin routes (catalog writes, order status changes) need the bearer
// token when the server has one (`ADMIN_TOKEN`); purchases, reads and cancels stay open.
enum class Access { kOpen, kAdmin };

struct Route {
  Method method;
  std::string pattern;  // "/api/products/{id}"; also the route's label in metrics
  std::vector<std::string> segments;
  Handler handler;
  Access access = Access::kOpen;
};

// The table of routes; it owns nothing else. A path that matches a pattern under another
// method is a 405 (with the allowed methods), a path that matches nothing is a 404.
class Router {
 public:
  void add(Method method, std::string_view pattern, Handler handler, Access access = Access::kOpen);

  struct Match {
    const Route* route = nullptr;  // set on a match
    std::string allow;             // set when the path exists under other methods
    std::array<std::string_view, kMaxPathParams> params{};
    std::size_t param_count = 0;
  };
  // `path` must outlive the returned params (they point into it).
  Match match(Method method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace orders::http
