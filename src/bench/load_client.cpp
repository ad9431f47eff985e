// The only translation unit of `orders bench` that includes Boost.Beast.
#include "bench/load_client.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <list>
#include <optional>

#include "common/dependency_error.hpp"
#include "config/config.hpp"

namespace orders::bench {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint64_t kBodyLimit = 1 << 20;

// Reads one response into a body string the connection reuses, keeping of the header only
// what the bench reports. No allocation per response once the body string has grown.
class AnswerReader final : public bhttp::basic_parser<false> {
 public:
  explicit AnswerReader(std::string& body) : body_(body) { body_limit(kBodyLimit); }

  int status() const { return status_; }
  bool replayed() const { return replayed_; }
  bool cache_hit() const { return cache_hit_; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int, beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override { status_ = code; }
  void on_field_impl(bhttp::field name, beast::string_view name_string, beast::string_view value,
                     beast::error_code&) override {
    if (name != bhttp::field::unknown) return;
    if (beast::iequals(name_string, "X-Cache")) cache_hit_ = beast::iequals(value, "HIT");
    else if (beast::iequals(name_string, "Idempotent-Replayed")) replayed_ = beast::iequals(value, "true");
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, beast::error_code&) override {
    if (length) body_.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(beast::string_view s, beast::error_code&) override {
    body_.append(s.data(), s.size());
    return s.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view s, beast::error_code&) override {
    body_.append(s.data(), s.size());
    return s.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  std::string& body_;
  int status_ = 0;
  bool replayed_ = false;
  bool cache_hit_ = false;
};

std::vector<tcp::endpoint> resolve(const HttpTarget& target) {
  asio::io_context io;
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(target.host, target.port, ec);
  if (ec || results.empty()) {
    throw DependencyUnavailable("API", "cannot resolve " + target.url + ": " + ec.message());
  }
  std::vector<tcp::endpoint> endpoints;
  for (const auto& r : results) endpoints.push_back(r.endpoint());
  return endpoints;
}

}  // namespace

std::vector<HttpTarget> parse_targets(std::string_view urls) {
  std::vector<HttpTarget> targets;
  std::size_t start = 0;
  while (start <= urls.size()) {
    std::size_t comma = urls.find(',', start);
    if (comma == std::string_view::npos) comma = urls.size();
    // A copy: Boost.URL 1.81 reads a view up to a NUL, not to its end (see config.cpp).
    const std::string text(urls.substr(start, comma - start));
    start = comma + 1;
    if (text.empty()) throw config::ConfigError("--url: empty URL in '" + std::string(urls) + "'");
    auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed) throw config::ConfigError("--url: '" + text + "' is not a valid URL");
    const boost::urls::url_view& u = *parsed;
    if (u.scheme() != "http") throw config::ConfigError("--url: '" + text + "' must start with http://");
    if (!u.path().empty() && u.path() != "/") {
      throw config::ConfigError("--url: '" + text + "' must have no path (the bench knows the routes)");
    }
    HttpTarget t;
    t.url = text;
    t.host = u.host_address();
    if (t.host.empty()) throw config::ConfigError("--url: '" + text + "' has no host");
    t.port = u.has_port() ? std::string(u.port()) : "80";
    t.host_header = std::string(u.encoded_host_and_port());
    targets.push_back(std::move(t));
  }
  return targets;
}

// --- status table ------------------------------------------------------------------------

std::string_view error_code_of(std::string_view body) {
  constexpr std::string_view kKey = "\"code\":\"";
  auto at = body.find(kKey);
  if (at == std::string_view::npos) return {};
  at += kKey.size();
  auto end = body.find('"', at);
  if (end == std::string_view::npos || end - at > 64) return {};
  return body.substr(at, end - at);
}

void StatusTable::add(int status, std::string_view code, std::uint64_t n) {
  for (auto& row : rows_) {
    if (row.status == status && row.code == code) {
      row.count += n;
      return;
    }
  }
  rows_.push_back(Row{status, std::string(code), n});
}

void StatusTable::merge(const StatusTable& other) {
  for (const auto& row : other.rows_) add(row.status, row.code, row.count);
}

std::vector<StatusTable::Row> StatusTable::sorted() const {
  auto rows = rows_;
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.status != b.status) return a.status < b.status;
    return a.count > b.count;
  });
  return rows;
}

std::uint64_t StatusTable::count_if(bool (*pred)(int status)) const {
  std::uint64_t n = 0;
  for (const auto& row : rows_) {
    if (pred(row.status)) n += row.count;
  }
  return n;
}

void LoadStats::merge(const LoadStats& other) {
  latency.merge(other.latency);
  statuses.merge(other.statuses);
  sent += other.sent;
  if (other.by_second.size() > by_second.size()) by_second.resize(other.by_second.size());
  for (std::size_t i = 0; i < other.by_second.size(); ++i) by_second[i].merge(other.by_second[i]);
  answered += other.answered;
  no_answer += other.no_answer;
  if (other.sent) {
    if (first_sent == Clock::time_point{} || other.first_sent < first_sent) first_sent = other.first_sent;
    if (other.last_answer > last_answer) last_answer = other.last_answer;
  }
}

double LoadStats::seconds() const {
  if (first_sent == Clock::time_point{} || last_answer <= first_sent) return 0.0;
  return std::chrono::duration<double>(last_answer - first_sent).count();
}

// --- the load loop -----------------------------------------------------------------------

struct LoadClient::Impl {
  struct Connection {
    Connection(asio::io_context& io, ConnectionSlot s) : slot(s), socket(io) {}
    ConnectionSlot slot;
    tcp::socket socket;
    beast::flat_buffer buffer;
    std::string request;
    std::string body;
    std::optional<AnswerReader> reader;
    Clock::time_point started{};
    bool in_flight = false;
    bool timed_out = false;
  };

  Impl(const std::vector<HttpTarget>& t, LoadOptions o, Workload& w)
      : targets(t), options(o), workload(w), wake(io), watchdog(io) {
    for (const auto& target : targets) endpoints.push_back(resolve(target));
    for (std::size_t i = 0; i < options.connections; ++i) {
      ConnectionSlot slot;
      slot.index = options.connection_offset + i * options.connection_stride;
      slot.target_index = slot.index % targets.size();
      slot.target = &targets[slot.target_index];
      connections.emplace_back(io, slot);
    }
    wake.expires_at(Clock::time_point::max());
  }

  // The second of the run this answer falls in (--report), or nothing.
  SecondSample* second_now() {
    if (options.epoch == Clock::time_point{}) return nullptr;
    const auto n = static_cast<std::size_t>(
        std::max<long long>(0, std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - options.epoch).count()));
    if (n >= stats.by_second.size()) stats.by_second.resize(n + 1);
    return &stats.by_second[n];
  }

  void finish_request(std::uint64_t tag, const Answer& answer) {
    if (SecondSample* second = second_now()) {
      if (answer.status == 0) second->no_answer++;
      else {
        second->latency.record(answer.latency_ns);
        if (answer.status < 300) second->ok++;
        else if (answer.status < 500) second->client_errors++;
        else second->server_errors++;
      }
    }
    if (answer.status == 0) {
      stats.no_answer++;
      live.no_answer.add();
      stats.statuses.add(0, answer.error);
    } else {
      stats.answered++;
      live.answered.add();
      stats.last_answer = Clock::now();
      stats.latency.record(answer.latency_ns);
      if (answer.status < 300) {
        live.status_2xx.add();
        stats.statuses.add(answer.status, {});
      } else {
        if (answer.status < 500) live.status_4xx.add();
        else live.status_5xx.add();
        stats.statuses.add(answer.status, error_code_of(answer.body));
      }
    }
    workload.on_answer(tag, answer);
    // An answer may have made work for connections that were told to wait.
    if (waiting > 0) wake.cancel();
  }

  void fail(Connection& c, std::uint64_t tag, std::string_view error) {
    Answer answer;
    answer.error = c.timed_out ? std::string_view("timeout") : error;
    c.timed_out = false;
    boost::system::error_code ignored;
    c.socket.close(ignored);
    c.buffer.clear();
    finish_request(tag, answer);
  }

  asio::awaitable<void> drive(Connection& c) {
    auto backoff = std::chrono::milliseconds(10);
    std::string error_text;
    for (;;) {
      if (stopping) break;
      std::uint64_t tag = 0;
      c.request.clear();
      const Next next = workload.next(c.slot, c.request, tag);
      if (next == Next::kDone) break;
      if (next == Next::kWait) {
        ++waiting;
        co_await wake.async_wait(kUseTuple);
        --waiting;
        continue;
      }
      const auto started = Clock::now();
      if (stats.sent++ == 0) stats.first_sent = started;
      live.sent.add();
      c.started = started;
      c.in_flight = true;
      c.timed_out = false;  // a watchdog close that raced a complete answer must not disarm it
      if (!c.socket.is_open()) {
        auto [ec, endpoint] = co_await asio::async_connect(c.socket, endpoints[c.slot.target_index], kUseTuple);
        if (ec) {
          c.in_flight = false;
          error_text = "connect: " + ec.message();
          fail(c, tag, error_text);
          // The server refuses: do not spin through the work; the deadline bounds the wait.
          asio::steady_timer pause(c.socket.get_executor(), backoff);
          co_await pause.async_wait(kUseTuple);
          backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
          continue;
        }
        boost::system::error_code ignored;
        c.socket.set_option(tcp::no_delay(true), ignored);
      }
      auto [write_ec, written] = co_await asio::async_write(c.socket, asio::buffer(c.request), kUseTuple);
      beast::error_code read_ec;
      if (!write_ec) {
        c.body.clear();
        c.reader.emplace(c.body);
        auto [ec, read] = co_await bhttp::async_read(c.socket, c.buffer, *c.reader, kUseTuple);
        read_ec = ec;
      }
      c.in_flight = false;
      if (write_ec || read_ec) {
        error_text = (write_ec ? "write: " + write_ec.message() : "read: " + read_ec.message());
        fail(c, tag, error_text);
        continue;
      }
      backoff = std::chrono::milliseconds(10);
      Answer answer;
      answer.status = c.reader->status();
      answer.body = c.body;
      answer.replayed = c.reader->replayed();
      answer.cache_hit = c.reader->cache_hit();
      answer.latency_ns = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started).count());
      const bool keep_alive = c.reader->keep_alive();
      finish_request(tag, answer);
      if (!keep_alive) {
        boost::system::error_code ignored;
        c.socket.close(ignored);
        c.buffer.clear();
      }
    }
    boost::system::error_code ignored;
    c.socket.close(ignored);
    if (--running == 0) {
      watchdog.cancel();
      wake.cancel();
    }
  }

  // Enforces the deadline and the request timeout, ten times a second.
  asio::awaitable<void> watch() {
    while (running > 0) {
      watchdog.expires_after(std::chrono::milliseconds(100));
      co_await watchdog.async_wait(kUseTuple);
      const auto now = Clock::now();
      if (now >= options.deadline && !stopping) {
        stopping = true;
        wake.cancel();
      }
      // A workload may wait for a moment rather than for an answer (a payment due later, with
      // nothing in flight): ask the waiting connections again every tick.
      if (waiting > 0) wake.cancel();
      for (auto& c : connections) {
        if (c.in_flight && !c.timed_out && now - c.started > options.request_timeout) {
          c.timed_out = true;
          boost::system::error_code ignored;
          c.socket.cancel(ignored);
          c.socket.close(ignored);
        }
      }
    }
  }

  const std::vector<HttpTarget>& targets;
  LoadOptions options;
  Workload& workload;
  asio::io_context io{1};
  std::vector<std::vector<tcp::endpoint>> endpoints;
  std::list<Connection> connections;  // stable addresses
  asio::steady_timer wake;            // connections told to wait sleep on it; cancel() wakes them
  asio::steady_timer watchdog;
  std::size_t waiting = 0;
  std::size_t running = 0;
  bool stopping = false;
  LiveCounters live;
  LoadStats stats;
};

LoadClient::LoadClient(const std::vector<HttpTarget>& targets, LoadOptions options, Workload& workload)
    : impl_(std::make_unique<Impl>(targets, options, workload)) {}

LoadClient::~LoadClient() = default;

void LoadClient::run() {
  Impl& impl = *impl_;
  impl.running = impl.connections.size();
  for (auto& c : impl.connections) asio::co_spawn(impl.io, impl.drive(c), asio::detached);
  asio::co_spawn(impl.io, impl.watch(), asio::detached);
  impl.io.run();
}

const LiveCounters& LoadClient::live() const { return impl_->live; }
const LoadStats& LoadClient::stats() const { return impl_->stats; }

// --- set-up requests ---------------------------------------------------------------------

SimpleAnswer exchange(const HttpTarget& target, std::string_view method, std::string_view path, std::string_view body,
                      std::string_view authorization, std::chrono::milliseconds timeout) {
  const auto endpoints = resolve(target);
  asio::io_context io{1};
  tcp::socket socket(io);
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), path, 11};
  req.set(bhttp::field::host, target.host_header);
  req.set(bhttp::field::connection, "close");
  if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = std::string(body);
    req.prepare_payload();
  }
  SimpleAnswer answer;
  std::string error;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto [connect_ec, endpoint] = co_await asio::async_connect(socket, endpoints, kUseTuple);
        if (connect_ec) {
          error = "connect: " + connect_ec.message();
          co_return;
        }
        auto [write_ec, written] = co_await bhttp::async_write(socket, req, kUseTuple);
        if (write_ec) {
          error = "write: " + write_ec.message();
          co_return;
        }
        beast::flat_buffer buffer;
        std::string response_body;
        AnswerReader reader(response_body);
        auto [read_ec, read] = co_await bhttp::async_read(socket, buffer, reader, kUseTuple);
        if (read_ec) {
          error = "read: " + read_ec.message();
          co_return;
        }
        answer.status = reader.status();
        answer.body = std::move(response_body);
        answer.cache_hit = reader.cache_hit();
        done = true;
      },
      asio::detached);
  io.run_for(timeout);
  if (!done) {
    if (error.empty()) error = "no answer within " + std::to_string(timeout.count()) + " ms";
    const std::string message = target.url + std::string(path) + ": " + error;
    // Let the coroutine see its socket closed and end before its locals go.
    boost::system::error_code ignored;
    socket.close(ignored);
    io.restart();
    io.run_for(std::chrono::seconds(1));
    throw DependencyUnavailable("API", message);
  }
  return answer;
}

}  // namespace orders::bench
