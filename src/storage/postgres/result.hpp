#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "storage/postgres/handles.hpp"

namespace orders::postgres {

// SQLSTATE codes the domain reacts to.
inline constexpr std::string_view kUniqueViolation = "23505";
inline constexpr std::string_view kForeignKeyViolation = "23503";
inline constexpr std::string_view kCheckViolation = "23514";

struct ResultDeleter {
  void operator()(PGresult* r) const;
};

// One statement's result. A failed statement is a Result too (ok() is false) so that
// expected outcomes such as a unique violation are values, not exceptions.
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : result_(r) {}

  bool ok() const;
  std::string_view sqlstate() const;
  std::string_view constraint() const;
  std::string error_message() const;
  // Throws std::runtime_error with the server's message unless ok().
  const Result& expect_ok(std::string_view statement_name) const;

  int rows() const;
  bool is_null(int row, int col) const;
  std::string_view get(int row, int col) const;
  std::optional<std::string_view> get_optional(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return get(row, col);
  }
  long long get_int(int row, int col) const;
  bool get_bool(int row, int col) const { return get(row, col) == "t"; }
  // Number of rows an INSERT/UPDATE/DELETE touched.
  long long affected() const;

 private:
  std::string_view field(int code) const;
  std::unique_ptr<PGresult, ResultDeleter> result_;
};

// Text-format parameters for a parameterised statement ($1, $2, ...). SQL is never
// concatenated with values.
class Params {
 public:
  Params& add(std::string_view v) {
    values_.emplace_back(std::string(v));
    return *this;
  }
  Params& add(const char* v) { return add(std::string_view(v)); }
  Params& add(const std::string& v) { return add(std::string_view(v)); }
  Params& add(bool v) {
    values_.emplace_back(v ? "true" : "false");
    return *this;
  }
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) Params& add(T v) {
    values_.emplace_back(std::to_string(v));
    return *this;
  }
  Params& add(std::nullopt_t) {
    values_.emplace_back(std::nullopt);
    return *this;
  }
  template <typename T>
  Params& add(const std::optional<T>& v) {
    return v ? add(*v) : add(std::nullopt);
  }

  std::size_t size() const { return values_.size(); }
  const std::vector<std::optional<std::string>>& values() const { return values_; }

 private:
  std::vector<std::optional<std::string>> values_;
};

}  // namespace orders::postgres
