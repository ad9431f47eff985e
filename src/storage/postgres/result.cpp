#include "storage/postgres/result.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <stdexcept>

namespace orders::postgres {

void ResultDeleter::operator()(PGresult* r) const { PQclear(r); }

bool Result::ok() const {
  if (!result_) return false;
  auto s = PQresultStatus(result_.get());
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

std::string_view Result::sqlstate() const { return field(PG_DIAG_SQLSTATE); }
std::string_view Result::constraint() const { return field(PG_DIAG_CONSTRAINT_NAME); }

std::string Result::error_message() const {
  return result_ ? std::string(PQresultErrorMessage(result_.get())) : std::string("no result");
}

int Result::rows() const { return result_ ? PQntuples(result_.get()) : 0; }
bool Result::is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }

std::string_view Result::get(int row, int col) const {
  return {PQgetvalue(result_.get(), row, col), static_cast<std::size_t>(PQgetlength(result_.get(), row, col))};
}

std::string_view Result::field(int code) const {
  if (!result_) return {};
  const char* v = PQresultErrorField(result_.get(), code);
  return v ? std::string_view(v) : std::string_view{};
}

const Result& Result::expect_ok(std::string_view statement_name) const {
  if (!ok()) {
    throw std::runtime_error("statement " + std::string(statement_name) + " failed: " + error_message());
  }
  return *this;
}

long long Result::get_int(int row, int col) const {
  std::string_view text = get(row, col);
  long long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) {
    throw std::runtime_error("column " + std::to_string(col) + " is not an integer: " + std::string(text));
  }
  return value;
}

long long Result::affected() const {
  if (!result_) return 0;
  const char* n = PQcmdTuples(result_.get());
  return (n && *n) ? std::stoll(n) : 0;
}

}  // namespace orders::postgres
