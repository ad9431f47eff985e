#include "storage/postgres/connection.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <boost/asio/this_coro.hpp>
#include <vector>

#include "common/dependency_error.hpp"
#include "common/io_wait.hpp"

namespace orders::postgres {
namespace asio = boost::asio;
using wait = asio::posix::descriptor_base;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kDependency = "PostgreSQL";

std::string trimmed_error(PGconn* conn) {
  std::string message = conn ? PQerrorMessage(conn) : "out of memory";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  // libpq's messages can span lines; keep the one-line form for logs and errors.
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  return message;
}

}  // namespace

void ConnDeleter::operator()(PGconn* c) const { PQfinish(c); }

Connection::Connection(asio::any_io_executor executor, ConnPtr conn)
    : conn_(std::move(conn)), socket_(executor, ::dup(PQsocket(conn_.get()))) {}

bool Connection::broken() const { return broken_ || PQstatus(conn_.get()) != CONNECTION_OK; }

bool Connection::in_transaction() const { return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE; }

void Connection::fail(std::string_view what, Failure kind) {
  broken_ = true;
  failure_ = kind;
  throw DependencyUnavailable(kDependency, std::string(what) + ": " + trimmed_error(conn_.get()));
}

asio::awaitable<std::unique_ptr<Connection>> Connection::connect(asio::any_io_executor executor, std::string conninfo,
                                                                 std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  ConnPtr conn(PQconnectStart(conninfo.c_str()));
  if (!conn || PQstatus(conn.get()) == CONNECTION_BAD) {
    throw DependencyUnavailable(kDependency, trimmed_error(conn.get()));
  }
  PQsetnonblocking(conn.get(), 1);
  // libpq may switch sockets while it tries addresses, so each poll watches the current one.
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) throw DependencyUnavailable(kDependency, trimmed_error(conn.get()));
    int fd = PQsocket(conn.get());
    if (fd < 0) throw DependencyUnavailable(kDependency, "no socket");
    asio::posix::stream_descriptor watcher(executor, ::dup(fd));
    auto what = status == PGRES_POLLING_READING ? wait::wait_read : wait::wait_write;
    if (!co_await wait_ready(watcher, what, deadline)) {
      throw DependencyUnavailable(kDependency, "connect timed out after " + std::to_string(timeout.count()) + " ms");
    }
    status = PQconnectPoll(conn.get());
  }
  co_return std::make_unique<Connection>(executor, std::move(conn));
}

bool Connection::usable_after_idle() {
  PGconn* c = conn_.get();
  if (broken() || in_transaction()) return false;
  // Nothing to read is the normal case: one poll() and done. Otherwise consume it; libpq only
  // notices the closed socket on the read after the one that returned the FATAL message, so
  // keep reading while the socket says readable (bounded: a few messages at most).
  for (int i = 0; i < 8; ++i) {
    pollfd p{PQsocket(c), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
    if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
      broken_ = true;
      return false;
    }
  }
  // Whatever was read (a notification, a parameter status) is absorbed; results are not.
  if (PQisBusy(c)) {
    broken_ = true;
    return false;
  }
  return true;
}

asio::awaitable<Result> Connection::execute(std::string_view sql, const Params& params,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  PGconn* c = conn_.get();
  failure_ = Failure::kNone;
  if (broken()) fail("connection lost", Failure::kNotSent);

  std::string statement(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& v : params.values()) values.push_back(v ? v->c_str() : nullptr);
  if (!PQsendQueryParams(c, statement.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                         nullptr, 0)) {
    fail("send failed", Failure::kNotSent);
  }
  // From here on the server may have the statement. Flush it; a large one may need several
  // writable waits. (libpq reports most write errors only on the following read.)
  for (;;) {
    int r = PQflush(c);
    if (r == 0) break;
    if (r < 0) fail("send failed", Failure::kUnknown);
    if (!co_await wait_ready(socket_, wait::wait_write, deadline)) fail("query timed out", Failure::kTimedOut);
  }
  // Read until libpq has every result of the statement; keep the first (the only one for a
  // single statement), drain the rest so the connection is ready for the next query.
  Result first;
  bool have_first = false;
  // If the server's first answer was an error (e.g. 57P01 "terminating connection due to
  // administrator command"), the statement failed and its implicit transaction was rolled
  // back: when the connection then goes, nothing of it took effect. An error libpq made up
  // itself (no SQLSTATE) says nothing about what the server did.
  auto lost = [&] {
    return have_first && !first.ok() && !first.sqlstate().empty() ? Failure::kRejected : Failure::kUnknown;
  };
  for (;;) {
    while (PQisBusy(c)) {
      if (!co_await wait_ready(socket_, wait::wait_read, deadline)) fail("query timed out", Failure::kTimedOut);
      if (!PQconsumeInput(c)) fail("read failed", lost());
    }
    PGresult* r = PQgetResult(c);
    if (!r) break;
    if (!have_first) {
      first = Result(r);
      have_first = true;
    } else {
      PQclear(r);
    }
  }
  if (!have_first) fail("no result", Failure::kUnknown);
  if (PQstatus(c) != CONNECTION_OK) fail("connection lost", lost());
  co_return first;
}

}  // namespace orders::postgres
