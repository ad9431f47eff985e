#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orders {

// Appends JSON text to a string. Used where Boost.JSON's model does not fit: exact decimal
// numbers (prices must print as 19.99, not 1.999E1) and hot paths that splice cached text.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  JsonWriter& key(std::string_view k);

  JsonWriter& string(std::string_view v);
  JsonWriter& number(std::int64_t v);
  JsonWriter& raw_number(std::string_view digits);  // already valid JSON number text
  JsonWriter& boolean(bool v);
  JsonWriter& null();
  JsonWriter& optional_string(const std::optional<std::string>& v) { return v ? string(*v) : null(); }
  JsonWriter& optional_number(const std::optional<std::int64_t>& v) { return v ? number(*v) : null(); }
  // Inserts already-serialized JSON as one value.
  JsonWriter& raw(std::string_view json);

 private:
  JsonWriter& open(char c);
  JsonWriter& close(char c);
  void separate();

  std::string& out_;
  bool need_comma_ = false;
  bool after_key_ = false;
};

// Appends `v` as a quoted JSON string (escapes quotes, backslashes and control characters).
void append_json_string(std::string& out, std::string_view v);

}  // namespace orders
