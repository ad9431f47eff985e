#include "storage/postgres/result.hpp"

#include <charconv>
#include <stdexcept>

namespace orders::postgres {

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
