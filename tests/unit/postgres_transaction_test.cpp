#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "storage/postgres/blocking.hpp"

namespace {

using orders::postgres::Executor;
using orders::postgres::Params;
using orders::postgres::Result;
using orders::postgres::Transaction;

// Records the statements; answers each with an empty result of the status given for it.
class RecordingExecutor : public Executor {
 public:
  using Executor::exec;
  Result exec(std::string_view sql, const Params&) override {
    statements.emplace_back(sql);
    if (sql == throw_on) throw std::runtime_error("connection lost");
    return Result(PQmakeEmptyPGresult(nullptr, sql == refuse ? PGRES_FATAL_ERROR : PGRES_COMMAND_OK));
  }
  std::vector<std::string> statements;
  std::string refuse;    // this statement is refused
  std::string throw_on;  // this statement throws
};

using Statements = std::vector<std::string>;

TEST(PostgresTransaction, CommittedRunsBeginAndCommitOnly) {
  RecordingExecutor db;
  {
    Transaction tx(db);
    db.exec("INSERT 1");
    tx.commit();
  }
  EXPECT_EQ(db.statements, (Statements{"BEGIN", "INSERT 1", "COMMIT"}));
}

TEST(PostgresTransaction, LeftWithoutCommitRollsBack) {
  RecordingExecutor db;
  try {
    Transaction tx(db);
    throw std::runtime_error("a refused row");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(db.statements, (Statements{"BEGIN", "ROLLBACK"}));
}

TEST(PostgresTransaction, ExplicitRollbackIsNotRepeated) {
  RecordingExecutor db;
  {
    Transaction tx(db);
    tx.rollback();
  }
  EXPECT_EQ(db.statements, (Statements{"BEGIN", "ROLLBACK"}));
}

TEST(PostgresTransaction, RefusedCommitThrowsAndRollsBack) {
  RecordingExecutor db;
  db.refuse = "COMMIT";
  {
    Transaction tx(db);
    EXPECT_THROW(tx.commit(), std::runtime_error);
  }
  EXPECT_EQ(db.statements, (Statements{"BEGIN", "COMMIT", "ROLLBACK"}));
}

TEST(PostgresTransaction, RefusedBeginThrowsAndSendsNothingMore) {
  RecordingExecutor db;
  db.refuse = "BEGIN";
  EXPECT_THROW(Transaction tx(db), std::runtime_error);
  EXPECT_EQ(db.statements, (Statements{"BEGIN"}));
}

TEST(PostgresTransaction, ARollbackThatThrowsInTheDestructorIsSwallowed) {
  RecordingExecutor db;
  db.throw_on = "ROLLBACK";
  EXPECT_NO_THROW({ Transaction tx(db); });
  EXPECT_EQ(db.statements, (Statements{"BEGIN", "ROLLBACK"}));
}

}  // namespace
