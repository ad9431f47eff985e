#include "config/config.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

namespace orders::config {
namespace {

std::string error_prefix(std::string_view name) { return std::string(name) + ": "; }

// The comma-separated items of a list setting, each trimmed of spaces and tabs (an empty item
// stays, for the caller to name). A list of nothing is an error.
std::vector<std::string_view> split_list(std::string_view list, std::string_view name) {
  if (list.find_first_not_of(" \t") == std::string_view::npos) throw ConfigError(error_prefix(name) + "is empty");
  std::vector<std::string_view> items;
  for (std::size_t start = 0;;) {
    const std::size_t comma = list.find(',', start);
    std::string_view item = list.substr(start,
                                        comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const std::size_t first = item.find_first_not_of(" \t");
    item = first == std::string_view::npos ? std::string_view{}
                                           : item.substr(first, item.find_last_not_of(" \t") - first + 1);
    items.push_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

// Returns a view into `url`, which must be NUL-terminated: Boost.URL 1.81 reads up to a NUL
// rather than to the end of the view (see parse_product_list_query).
boost::urls::url_view parse_absolute(const std::string& url, std::string_view name) {
  if (url.empty()) throw ConfigError(error_prefix(name) + "is empty");
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) throw ConfigError(error_prefix(name) + "is not a valid URL (" + parsed.error().message() + ")");
  return *parsed;
}

std::uint16_t port_of(const boost::urls::url_view& u, std::uint16_t fallback, std::string_view name) {
  if (!u.has_port()) return fallback;
  std::string_view text = u.port();
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value == 0 || value > 65535) {
    throw ConfigError(error_prefix(name) + "port '" + std::string(text) + "' is not in 1..65535");
  }
  return static_cast<std::uint16_t>(value);
}

std::string host_of(const boost::urls::url_view& u, std::string_view name) {
  std::string host = u.host_address();  // decoded, without brackets for IPv6
  if (host.empty()) throw ConfigError(error_prefix(name) + "has no host");
  return host;
}

void require_scheme(const boost::urls::url_view& u, std::initializer_list<std::string_view> schemes,
                    std::string_view name) {
  for (std::string_view s : schemes) {
    if (u.scheme() == s) return;
  }
  std::string expected;
  for (std::string_view s : schemes) expected += (expected.empty() ? "" : " or ") + std::string(s) + "://";
  throw ConfigError(error_prefix(name) + "scheme must be " + expected + ", got '" + std::string(u.scheme()) + "'");
}

}  // namespace

PostgresEndpoint parse_postgres_url(std::string_view url_view, std::string_view name) {
  const std::string url(url_view);
  auto u = parse_absolute(url, name);
  require_scheme(u, {"postgresql", "postgres"}, name);
  PostgresEndpoint e;
  e.host = host_of(u, name);
  e.port = port_of(u, 5432, name);
  e.user = u.user();
  e.password = u.password();
  std::string path = u.path();
  if (path.size() <= 1)
    throw ConfigError(error_prefix(name) + "names no database (postgresql://user:pass@host:port/db)");
  e.database = path.substr(1);
  if (e.database.find('/') != std::string::npos) throw ConfigError(error_prefix(name) + "database name contains '/'");
  e.conninfo = url;
  return e;
}

RedisEndpoint parse_redis_url(std::string_view url_view, std::string_view name) {
  const std::string url(url_view);
  auto u = parse_absolute(url, name);
  require_scheme(u, {"redis"}, name);
  RedisEndpoint e;
  e.host = host_of(u, name);
  e.port = port_of(u, 6379, name);
  e.username = u.user();
  e.password = u.password();
  std::string path = u.path();
  if (path.size() > 1) {
    std::string_view db(path);
    db.remove_prefix(1);
    int value = -1;
    auto [ptr, ec] = std::from_chars(db.data(), db.data() + db.size(), value);
    if (ec != std::errc{} || ptr != db.data() + db.size() || value < 0 || value > 15) {
      throw ConfigError(error_prefix(name) + "database '" + std::string(db) + "' is not in 0..15");
    }
    e.db = value;
  }
  return e;
}

AmqpEndpoint parse_amqp_url(std::string_view url_view, std::string_view name) {
  const std::string url(url_view);
  auto u = parse_absolute(url, name);
  require_scheme(u, {"amqp"}, name);
  AmqpEndpoint e;
  e.host = host_of(u, name);
  e.port = port_of(u, 5672, name);
  if (u.has_userinfo()) {
    e.user = u.user();
    e.password = u.password();
  }
  // amqp://host/ and amqp://host are the default vhost "/"; amqp://host/%2f is "/" too.
  std::string path = u.path();
  if (path.size() > 1) e.vhost = path.substr(1);
  return e;
}

std::vector<AmqpEndpoint> parse_amqp_urls(std::string_view urls, std::string_view name) {
  const std::vector<std::string_view> items = split_list(urls, name);
  std::vector<AmqpEndpoint> nodes;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string item_name = items.size() == 1 ? std::string(name)
                                                    : std::string(name) + " (URL " + std::to_string(i + 1) + " of " +
                                                          std::to_string(items.size()) + ")";
    if (items[i].empty()) throw ConfigError(error_prefix(item_name) + "is empty (a stray comma?)");
    AmqpEndpoint e = parse_amqp_url(items[i], item_name);
    for (const AmqpEndpoint& seen : nodes) {
      if (seen.host == e.host && seen.port == e.port) {
        throw ConfigError(error_prefix(item_name) + "names " + e.host + ":" + std::to_string(e.port) + " twice");
      }
    }
    nodes.push_back(std::move(e));
  }
  return nodes;
}

std::vector<HostPort> parse_host_ports(std::string_view list, std::string_view name) {
  std::vector<HostPort> nodes;
  const std::vector<std::string_view> items = split_list(list, name);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string item_name = std::string(name) + " (node " + std::to_string(i + 1) + " of " +
                                  std::to_string(items.size()) + ")";
    std::string_view item = items[i];
    if (item.empty()) throw ConfigError(error_prefix(item_name) + "is empty (a stray comma?)");
    const std::size_t colon = item.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      throw ConfigError(error_prefix(item_name) + "'" + std::string(item) + "' is not host:port");
    }
    std::string host(item.substr(0, colon));
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    std::string_view digits = item.substr(colon + 1);
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || port == 0 || port > 65535) {
      throw ConfigError(error_prefix(item_name) + "port '" + std::string(digits) + "' is not in 1..65535");
    }
    for (const HostPort& seen : nodes) {
      if (seen.host == host && seen.port == port) {
        throw ConfigError(error_prefix(item_name) + "names " + std::string(item) + " twice");
      }
    }
    nodes.push_back(HostPort{std::move(host), static_cast<std::uint16_t>(port)});
  }
  return nodes;
}

}  // namespace orders::config
