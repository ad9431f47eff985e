#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "storage/postgres/handles.hpp"
#include "storage/postgres/result.hpp"

// Blocking libpq, for the code that runs outside the I/O threads: start-up probes, the
// worker's batch transaction, `orders migrate`, `orders reconcile`, `orders bench`.
namespace orders::postgres {

// What runs statements: a connection, or a wrapper that decides which failures are retried.
class Executor {
 public:
  virtual ~Executor() = default;
  // One parameterised statement. SQL errors come back as a Result that is not ok().
  virtual Result exec(std::string_view sql, const Params& params) = 0;
  Result exec(std::string_view sql) { return exec(sql, Params{}); }
};

struct ConnectOptions {
  std::chrono::seconds timeout{5};
  std::string application_name;  // as pg_stat_activity shows it; empty: libpq's default
  std::string server_options;    // libpq's "options", e.g. "-c statement_timeout=30000"; empty: none
  // Where, for the error: "cannot connect to <display>: <why>"; empty: libpq's message alone.
  std::string display;
};

class BlockingConnection : public Executor {
 public:
  // `conninfo` is a URL or key=value string. Throws DependencyUnavailable("PostgreSQL", ...)
  // with libpq's message on one line when the server cannot be reached within the timeout.
  static BlockingConnection connect(const std::string& conninfo, const ConnectOptions& options = {});

  // One statement over the extended protocol. Never throws: a SQL error or a lost connection is
  // a Result that is not ok() (then broken() says which).
  using Executor::exec;
  Result exec(std::string_view sql, const Params& params) override;
  // Statements separated by semicolons (a migration file), over the simple protocol, without
  // parameters. The Result is the last statement's.
  Result exec_script(std::string_view sql);

  // The connection is lost: nothing more can run on it.
  bool broken() const;
  // libpq's last error on this connection, on one line.
  std::string error_message() const;

 private:
  explicit BlockingConnection(ConnPtr conn) : conn_(std::move(conn)) {}
  ConnPtr conn_;
};

// A transaction block, as userver's storages::postgres::Transaction: BEGIN when made, COMMIT
// by commit(), and ROLLBACK when it goes without one (an early return, an exception), so no
// connection is left inside a transaction. Statements of the transaction run on the executor.
class Transaction {
 public:
  // Throws std::runtime_error("begin: ...") when BEGIN is refused (and whatever the executor
  // throws).
  explicit Transaction(Executor& executor);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Throws std::runtime_error("commit: ...") when COMMIT is refused; the destructor then rolls
  // back.
  void commit();
  // ROLLBACK now (its result is not looked at; what the executor throws passes).
  void rollback();

 private:
  Executor& executor_;
  bool open_ = true;
};

}  // namespace orders::postgres
