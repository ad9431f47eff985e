#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/field_error.hpp"
#include "common/money.hpp"
#include "common/time.hpp"

namespace orders {

enum class Presence { kRequired, kOptional };

// Reads a JSON object body field by field and collects every problem as a FieldError naming
// the field, so one 400 answer lists them all. Getters return nothing for absent, null or
// invalid fields (invalid ones also record an error).
class JsonBody {
 public:
  static JsonBody parse(std::string_view body);

  bool valid() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }
  void add_error(std::string field, std::string message) { errors_.push_back({std::move(field), std::move(message)}); }
  bool is_object() const { return parsed_; }
  const boost::json::object& object() const { return object_; }

  // Every field not in `allowed` is an error ("is not allowed").
  void reject_unknown(std::initializer_list<std::string_view> allowed);

  std::optional<std::string> string(std::string_view field, Presence presence, std::size_t min_length,
                                    std::size_t max_length);
  std::optional<std::int64_t> integer(std::string_view field, Presence presence, std::int64_t min, std::int64_t max);
  std::optional<Money> money(std::string_view field, Presence presence, std::int64_t min_cents, std::int64_t max_cents);
  std::optional<EpochMs> timestamp(std::string_view field, Presence presence);
  std::optional<std::string> uuid(std::string_view field, Presence presence);

  // The same, for partial updates where null clears a value.
  Patch<std::string> string_patch(std::string_view field, std::size_t min_length, std::size_t max_length);
  Patch<std::int64_t> integer_patch(std::string_view field, std::int64_t min, std::int64_t max);
  Patch<Money> money_patch(std::string_view field, std::int64_t min_cents, std::int64_t max_cents);
  Patch<EpochMs> timestamp_patch(std::string_view field);
  Patch<std::string> uuid_patch(std::string_view field);

 private:
  // The field's value, or nullptr when absent or null (recording "is required" if it must be).
  const boost::json::value* find(std::string_view field, Presence presence);
  template <typename T, typename F>
  Patch<T> patch(std::string_view field, F&& read);

  boost::json::object object_;
  bool parsed_ = false;
  std::vector<FieldError> errors_;
};

// Integer from a query parameter ("page", "limit"): digits only, within range.
std::optional<std::int64_t> parse_query_integer(std::string_view text, std::int64_t min, std::int64_t max);

// A query string's parameters, percent-decoded, in order; nothing when it is not a valid
// query string.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
std::optional<QueryParams> decode_query(std::string_view query);

}  // namespace orders
