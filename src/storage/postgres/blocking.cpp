#include "storage/postgres/blocking.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "common/dependency_error.hpp"

namespace orders::postgres {
namespace {

std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

}  // namespace

BlockingConnection BlockingConnection::connect(const std::string& conninfo, const ConnectOptions& options) {
  const std::string timeout = std::to_string(options.timeout.count());
  std::vector<const char*> keys{"dbname", "connect_timeout"};
  std::vector<const char*> values{conninfo.c_str(), timeout.c_str()};
  if (!options.application_name.empty()) {
    keys.push_back("application_name");
    values.push_back(options.application_name.c_str());
  }
  if (!options.server_options.empty()) {
    keys.push_back("options");
    values.push_back(options.server_options.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  ConnPtr conn(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string why = one_line(conn ? PQerrorMessage(conn.get()) : "out of memory");
    throw DependencyUnavailable("PostgreSQL",
                                options.display.empty() ? why : "cannot connect to " + options.display + ": " + why);
  }
  return BlockingConnection(std::move(conn));
}

Result BlockingConnection::exec(std::string_view sql, const Params& params) {
  const std::string statement(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& v : params.values()) values.push_back(v ? v->c_str() : nullptr);
  return Result(PQexecParams(conn_.get(), statement.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                             nullptr, nullptr, 0));
}

Result BlockingConnection::exec_script(std::string_view sql) {
  const std::string statements(sql);
  return Result(PQexec(conn_.get(), statements.c_str()));
}

bool BlockingConnection::broken() const { return !conn_ || PQstatus(conn_.get()) != CONNECTION_OK; }

std::string BlockingConnection::error_message() const {
  return one_line(conn_ ? PQerrorMessage(conn_.get()) : "no connection");
}

Transaction::Transaction(Executor& executor) : executor_(executor) {
  Result r = executor_.exec("BEGIN");
  if (!r.ok()) {
    open_ = false;
    throw std::runtime_error("begin: " + r.error_message());
  }
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    executor_.exec("ROLLBACK");
  } catch (...) {  // NOLINT(bugprone-empty-catch): a lost connection has ended the transaction anyway
  }
}

void Transaction::commit() {
  Result r = executor_.exec("COMMIT");
  if (!r.ok()) throw std::runtime_error("commit: " + r.error_message());
  open_ = false;
}

void Transaction::rollback() {
  open_ = false;
  executor_.exec("ROLLBACK");
}

}  // namespace orders::postgres
