#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <list>
#include <optional>
#include <thread>
#include <unordered_map>

#include "common/backoff.hpp"
#include "common/dependency_error.hpp"
#include "common/error_codes.hpp"
#include "common/logging.hpp"
#include "common/uuid.hpp"
#include "http/admin_auth.hpp"
#include "http/envelope.hpp"
#include "metrics/registry.hpp"

namespace orders::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

using BeastRequest = bhttp::request<bhttp::string_body>;

std::optional<std::string_view> lookup_header(const void* native, std::string_view name) {
  const auto& req = *static_cast<const BeastRequest*>(native);
  auto it = req.find(beast::string_view(name.data(), name.size()));
  if (it == req.end()) return std::nullopt;
  return std::string_view{it->value().data(), it->value().size()};
}

struct HttpMetrics {
  metrics::Family<metrics::Counter>& requests = metrics::registry().counter(
      "orders_http_requests_total", "HTTP requests by route, method and status", {"route", "method", "status"});
  metrics::Family<metrics::Histogram>& latency = metrics::registry().histogram(
      "orders_http_request_duration_seconds", "HTTP request latency by route", {"route"});
  metrics::Gauge& connections = metrics::registry().gauge("orders_http_connections", "Open HTTP connections").with({});
  metrics::Counter& shed = metrics::registry()
                               .counter("orders_http_connections_shed_total",
                                        "Connections refused with 503 over the limit")
                               .with({});
  metrics::Counter& accept_backoffs = metrics::registry()
                                          .counter("orders_http_accept_backoffs_total",
                                                   "Pauses of the accept loop: out of file descriptors or memory")
                                          .with({});
};

// Parse errors deserve a 400; a peer that went away or a timeout deserves nothing.
bool is_malformed_request(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

// The order a request concerns, for the request log: the path's order id, or the one a
// purchase created (the route says which).
std::string_view order_id_of(const Route* route, const Request& req, const Response& res) {
  if (route && route->pattern.starts_with("/api/orders/{id}")) return req.param(0);
  return res.order_id;
}

HttpMetrics& http_metrics() {
  static HttpMetrics m;
  return m;
}

}  // namespace

struct Server::Impl {
  // Per-shard bookkeeping, touched only from that shard's thread.
  struct Session {
    beast::tcp_stream* stream = nullptr;
    bool busy = false;
  };
  // The metric children one shard updates, found without the registry's lock after the
  // first request of each (route, method, status).
  struct StatsKey {
    const void* route;
    int method;
    int status;
    bool operator==(const StatsKey&) const = default;
  };
  struct StatsKeyHash {
    std::size_t operator()(const StatsKey& k) const {
      return std::hash<const void*>()(k.route) ^ (static_cast<std::size_t>(k.method) << 20) ^
             (static_cast<std::size_t>(k.status) << 4);
    }
  };
  struct RouteStats {
    metrics::Counter* requests;
    metrics::Histogram* latency;
  };
  struct ShardState {
    Shard shard;
    std::list<Session*> sessions;
    std::unordered_map<StatsKey, RouteStats, StatsKeyHash> stats;
  };

  ServerOptions options;
  std::vector<std::unique_ptr<ShardState>> shards;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> active{0};
  std::size_t next_shard = 0;
  Backoff accept_backoff_{std::chrono::milliseconds(10), std::chrono::milliseconds(1000)};

  asio::awaitable<void> accept_loop() {
    for (;;) {
      ShardState& target = *shards[next_shard++ % shards.size()];
      auto [ec, socket] = co_await acceptor->async_accept(*target.shard.io, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
          // Out of file descriptors (EMFILE/ENFILE) or memory: the pending connection stays in
          // the backlog, so accepting again at once would spin. Back off and let sessions end.
          co_await back_off_accepting(ec);
          continue;
        }
        spdlog::warn("accept failed: {}", ec.message());
        continue;
      }
      accept_backoff_.reset();
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(*target.shard.io, session(std::move(socket), target), asio::detached);
    }
  }

  asio::awaitable<void> back_off_accepting(const boost::system::error_code& ec) {
    const auto pause_for = accept_backoff_.next();
    http_metrics().accept_backoffs.inc();
    spdlog::warn("accept failed: {}; pausing accepts for {} ms ({} connections open)", ec.message(), pause_for.count(),
                 active.load());
    asio::steady_timer pause(acceptor->get_executor(), pause_for);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  RouteStats& stats_for(ShardState& shard, const Route* route, Method method, int status) {
    StatsKey key{route, static_cast<int>(method), status};
    auto it = shard.stats.find(key);
    if (it == shard.stats.end()) {
      std::string_view label = route ? std::string_view(route->pattern) : std::string_view("unmatched");
      auto& m = http_metrics();
      RouteStats stats{&m.requests.with({label, to_string(method), std::to_string(status)}), &m.latency.with({label})};
      it = shard.stats.emplace(key, stats).first;
    }
    return it->second;
  }

  // A request body must be JSON: a form post from another site (which a browser sends without
  // asking) is refused before any handler runs.
  static std::optional<Response> unsupported_media(const Request& req) {
    if (req.body.empty()) return std::nullopt;
    std::string_view type = req.header("Content-Type");
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    if (beast::iequals(type, "application/json")) return std::nullopt;
    return error(415, codes::kUnsupportedMediaType, "Request bodies must be JSON (Content-Type: application/json)",
                 std::vector<FieldError>{{"Content-Type", "must be application/json"}});
  }

  // X-Request-Id: the caller's, when it is a sane token (1-128 of [A-Za-z0-9._:-]), else a new one.
  static std::string request_id_of(const Request& req) { return request_id_from(req.header("X-Request-Id")); }
  static std::string request_id_from(std::string_view given) {
    const bool sane = !given.empty() && given.size() <= 128 && std::all_of(given.begin(), given.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
    });
    return sane ? std::string(given) : uuid::make_v7();
  }

  asio::awaitable<Response> dispatch(ShardState& shard, BeastRequest& raw) {
    const Router& router = *shard.shard.router;
    Request req;
    req.method = parse_method(std::string_view(raw.method_string().data(), raw.method_string().size()));
    req.target = std::string_view(raw.target().data(), raw.target().size());
    std::size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string_view::npos) req.query = req.target.substr(q + 1);
    req.body = raw.body();
    req.header_lookup = &lookup_header;
    req.native = &raw;

    const auto start = Clock::now();
    auto match = router.match(req.method, req.path);
    const std::string request_id = request_id_of(req);
    Response res;
    if (!match.route) {
      res = match.allow.empty() ? not_found("Route " + std::string(req.path)) : method_not_allowed(match.allow);
    } else {
      req.params = match.params;
      req.param_count = match.param_count;
      std::optional<Response> denied;
      if (match.route->access == Access::kAdmin && !options.admin_token.empty()) {
        denied = check_admin(options.admin_token, req.header("Authorization"));
      } else if (match.route->access == Access::kAdmin && !options.insecure_admin) {
        denied = admin_not_configured();
      }
      if (!denied) denied = unsupported_media(req);
      // Any exception is a 5xx answer and one log line, never a dead process.
      try {
        if (denied) res = std::move(*denied);
        else res = co_await match.route->handler(req);
      } catch (const DependencyUnavailable& e) {
        spdlog::warn("{} {}: {}", to_string(req.method), req.path, e.what());
        res = service_unavailable(e.dependency());
      } catch (const std::exception& e) {
        spdlog::error("{} {}: unhandled error: {}", to_string(req.method), req.path, e.what());
        res = internal_error();
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    RouteStats& stats = stats_for(shard, match.route, req.method, res.status);
    stats.requests->inc();
    stats.latency->observe(seconds);
    if (logging::requests_logged()) {
      logging::log_request({.method = to_string(req.method),
                            .route = match.route ? std::string_view(match.route->pattern) : "unmatched",
                            .path = req.path,
                            .status = res.status,
                            .latency_ms = seconds * 1000,
                            .order_id = order_id_of(match.route, req, res),
                            .code = res.code,
                            .request_id = request_id});
    }
    res.with_header("X-Request-Id", request_id);
    co_return res;
  }

  // The answer as it goes on the wire, in one buffer: status line, headers, body. What Beast's
  // serializer writes for a response<string_body> (Server, Content-Type, the route's headers,
  // Content-Length, Connection when it differs from the version's default; HEAD: the GET's
  // headers and no body), without its buffer sequences: one string, one write (the serializer's
  // iterators were ~4% of the API's CPU per sold-out answer).
  static std::string to_wire(Response&& res, unsigned version, bool keep_alive, bool head = false) {
    const beast::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(res.status));
    std::size_t size = 96 + reason.size() + res.content_type.size() + res.body.size();
    for (const auto& [name, value] : res.headers) size += name.size() + value.size() + 4;
    std::string wire;
    wire.reserve(size);
    wire += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    wire += std::to_string(res.status);
    wire += ' ';
    wire.append(reason.data(), reason.size());
    wire += "\r\nServer: orders\r\nContent-Type: ";
    wire += res.content_type;
    wire += "\r\n";
    for (const auto& [name, value] : res.headers) {
      wire += name;
      wire += ": ";
      wire += value;
      wire += "\r\n";
    }
    wire += "Content-Length: ";
    wire += std::to_string(res.body.size());
    wire += "\r\n";
    if (version >= 11 && !keep_alive) wire += "Connection: close\r\n";
    if (version < 11 && keep_alive) wire += "Connection: keep-alive\r\n";
    wire += "\r\n";
    if (!head) wire += res.body;
    return wire;
  }

  // An answer before (or instead of) reading a request: it still carries a request id, the
  // caller's when its headers were read, so a client can quote it.
  asio::awaitable<void> reply_and_close(beast::tcp_stream& stream, Response res, std::string_view given_id = {}) {
    res.with_header("X-Request-Id", request_id_from(given_id));
    const std::string wire = to_wire(std::move(res), 11, false);
    stream.expires_after(std::chrono::seconds(5));
    co_await asio::async_write(stream, asio::buffer(wire), asio::as_tuple(asio::use_awaitable));
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> session(tcp::socket socket, ShardState& shard) {
    beast::tcp_stream stream(std::move(socket));
    Session self{&stream, false};
    auto where = shard.sessions.insert(shard.sessions.end(), &self);
    auto& m = http_metrics();
    m.connections.add(1);
    const std::size_t count = ++active;
    struct Leave {
      Impl* impl;
      ShardState& shard;
      std::list<Session*>::iterator where;
      ~Leave() {
        shard.sessions.erase(where);
        --impl->active;
        http_metrics().connections.add(-1);
      }
    } leave{this, shard, where};

    if (count > options.max_connections) {
      // G6: beyond the connection bound we shed load with a clear answer, not a hang.
      m.shed.inc();
      Response res = error(503, codes::kOverloaded, "Too many connections; retry shortly");
      res.with_header("Retry-After", "1");
      co_await reply_and_close(stream, std::move(res));
      co_return;
    }

    beast::flat_buffer buffer;
    bool first_request = true;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      parser.header_limit(16 * 1024);
      // The first request, and one already begun, must arrive within the read timeout (a client
      // that connects and sends nothing holds a descriptor); between requests on a keep-alive
      // connection the idle timeout applies.
      stream.expires_after(first_request || buffer.size() ? options.read_timeout : options.idle_timeout);
      first_request = false;
      self.busy = false;
      if (stopping) break;
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == bhttp::error::body_limit) {
          // The headers were read: the caller's request id is known.
          auto given = parser.get().find("X-Request-Id");
          std::string id = given == parser.get().end() ? std::string() : std::string(given->value());
          // (Each response named: a temporary inside a co_await expression is destroyed twice by GCC 12.)
          Response res = body_too_large(options.max_body_bytes);
          co_await reply_and_close(stream, std::move(res), id);
        } else if (ec == bhttp::error::header_limit) {
          Response res = error(431, codes::kHeadersTooLarge,
                               "Request headers are larger than 16 KiB; the connection closes");
          co_await reply_and_close(stream, std::move(res));
        } else if (is_malformed_request(ec)) {
          Response res = error(400, codes::kBadRequest, "Malformed HTTP request: " + ec.message());
          co_await reply_and_close(stream, std::move(res));
        }
        break;  // end of stream, timeout, reset, or shutdown
      }
      self.busy = true;
      BeastRequest& raw = parser.get();
      const bool keep_alive = raw.keep_alive() && !stopping;
      Response res = co_await dispatch(shard, raw);
      const std::string wire = to_wire(std::move(res), raw.version(), keep_alive, raw.method() == bhttp::verb::head);
      stream.expires_after(options.read_timeout);
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(wire), asio::as_tuple(asio::use_awaitable));
      if (wec || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
};

Server::Server(ServerOptions options, std::vector<Shard> shards) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  for (const Shard& s : shards) impl_->shards.push_back(std::make_unique<Impl::ShardState>(Impl::ShardState{s, {}}));
  http_metrics();
}

Server::~Server() = default;

void Server::start() {
  auto& first = *impl_->shards.front()->shard.io;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) throw std::system_error(ec, "HOST '" + impl_->options.host + "' is not an IP address");
  tcp::endpoint endpoint(address, impl_->options.port);
  auto acceptor = std::make_unique<tcp::acceptor>(first);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(tcp::acceptor::reuse_address(true));
  acceptor->bind(endpoint, ec);
  if (ec) {
    throw std::system_error(ec, "cannot listen on " + impl_->options.host + ":" + std::to_string(impl_->options.port));
  }
  acceptor->listen(asio::socket_base::max_listen_connections);
  impl_->acceptor = std::move(acceptor);
  asio::co_spawn(first, impl_->accept_loop(), asio::detached);
}

std::uint16_t Server::port() const { return impl_->acceptor ? impl_->acceptor->local_endpoint().port() : 0; }

bool Server::shutdown(Clock::duration grace) {
  impl_->stopping = true;
  if (impl_->acceptor) {
    asio::post(impl_->acceptor->get_executor(), [this] {
      beast::error_code ignored;
      impl_->acceptor->close(ignored);
    });
  }
  // Idle keep-alive connections are closed now; busy ones finish their request first and
  // then see `stopping`.
  for (auto& shard : impl_->shards) {
    asio::post(*shard->shard.io, [s = shard.get()] {
      for (Impl::Session* session : s->sessions) {
        if (!session->busy) session->stream->cancel();
      }
    });
  }
  const auto deadline = Clock::now() + grace;
  while (impl_->active.load() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return impl_->active.load() == 0;
}

}  // namespace orders::http
