#include "common/json_body.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <boost/url/decode_view.hpp>
#include <boost/url/parse_query.hpp>
#include <charconv>

#include "common/uuid.hpp"

namespace orders {
namespace json = boost::json;

namespace {

// Builds the value as json::parser does (a value_stack behind basic_parser) and refuses an
// object that names a member twice: a proxy that reads the first `userId` and a service that
// reads the last must never disagree about who is buying. One pass, no second parse.
class StrictHandler {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  json::value_stack stack;
  std::string duplicate;  // the path of the first member named twice, e.g. items[0].quantity

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    frames_.push_back(Frame{.is_object = true});
    return true;
  }
  bool on_object_end(std::size_t n, boost::system::error_code&) {
    frames_.pop_back();
    stack.push_object(n);
    return value_done();
  }
  bool on_array_begin(boost::system::error_code&) {
    frames_.push_back(Frame{.is_object = false});
    return true;
  }
  bool on_array_end(std::size_t n, boost::system::error_code&) {
    frames_.pop_back();
    stack.push_array(n);
    return value_done();
  }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    key_.append(s.data(), s.size());
    stack.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
    key_.append(s.data(), s.size());
    stack.push_key(s);
    Frame& f = frames_.back();
    for (const auto& k : f.keys) {
      if (k == key_) {
        duplicate = path() + (frames_.size() > 1 ? "." : "") + key_;
        ec = json::error::syntax;  // stops the parser; `duplicate` says why
        return false;
      }
    }
    f.keys.push_back(std::move(key_));
    key_.clear();
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, boost::system::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, boost::system::error_code&) {
    stack.push_string(s);
    return value_done();
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, boost::system::error_code&) {
    stack.push_int64(i);
    return value_done();
  }
  bool on_uint64(std::uint64_t u, json::string_view, boost::system::error_code&) {
    stack.push_uint64(u);
    return value_done();
  }
  bool on_double(double d, json::string_view, boost::system::error_code&) {
    stack.push_double(d);
    return value_done();
  }
  bool on_bool(bool b, boost::system::error_code&) {
    stack.push_bool(b);
    return value_done();
  }
  bool on_null(boost::system::error_code&) {
    stack.push_null();
    return value_done();
  }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  struct Frame {
    bool is_object = true;
    std::vector<std::string> keys;  // members so far (objects are small: a scan beats a set)
    std::size_t index = 0;          // elements so far (arrays)
  };

  bool value_done() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
    return true;
  }
  // The path of the object being read: "" at the top, then "items[0]" and so on.
  std::string path() const {
    std::string out;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.is_object) out += (out.empty() ? "" : ".") + f.keys.back();
      else out += "[" + std::to_string(f.index) + "]";
    }
    return out;
  }

  std::vector<Frame> frames_;
  std::string key_;
};

}  // namespace

JsonBody JsonBody::parse(std::string_view body) {
  JsonBody out;
  if (body.empty()) {
    out.add_error("body", "is required (a JSON object)");
    return out;
  }
  json::parse_options options;
  options.max_depth = 16;
  json::basic_parser<StrictHandler> parser(options);
  parser.handler().stack.reset();
  boost::system::error_code ec;
  const std::size_t read = parser.write_some(false, body.data(), body.size(), ec);
  if (!ec && read != body.size()) ec = json::error::extra_data;
  if (!parser.handler().duplicate.empty()) {
    out.add_error(parser.handler().duplicate, "is given more than once");
    return out;
  }
  if (ec) {
    out.add_error("body", "is not valid JSON: " + ec.message());
    return out;
  }
  json::value v = parser.handler().stack.release();
  if (!v.is_object()) {
    out.add_error("body", "must be a JSON object");
    return out;
  }
  out.object_ = std::move(v.as_object());
  out.parsed_ = true;
  return out;
}

void JsonBody::reject_unknown(std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object_) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) add_error(std::string(key), "is not allowed");
  }
}

const json::value* JsonBody::find(std::string_view field, Presence presence) {
  const json::value* v = object_.if_contains(field);
  if (!v || v->is_null()) {
    if (presence == Presence::kRequired) add_error(std::string(field), "is required");
    return nullptr;
  }
  return v;
}

std::optional<std::string> JsonBody::string(std::string_view field, Presence presence, std::size_t min_length,
                                            std::size_t max_length) {
  const json::value* v = find(field, presence);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    add_error(std::string(field), "must be a string");
    return std::nullopt;
  }
  std::string s(v->as_string());
  // Lengths count characters (UTF-8 code points), not bytes.
  std::size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  if (chars < min_length || chars > max_length) {
    add_error(std::string(field), min_length == max_length ? "must be " + std::to_string(min_length) + " characters"
                                                           : "must be " + std::to_string(min_length) + " to " +
                                                                 std::to_string(max_length) + " characters");
    return std::nullopt;
  }
  return s;
}

std::optional<std::int64_t> JsonBody::integer(std::string_view field, Presence presence, std::int64_t min,
                                              std::int64_t max) {
  const json::value* v = find(field, presence);
  if (!v) return std::nullopt;
  std::optional<std::int64_t> n;
  if (v->is_int64()) n = v->as_int64();
  else if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    n = static_cast<std::int64_t>(v->as_uint64());
  else if (v->is_uint64()) n = INT64_MAX;
  if (!n) {
    add_error(std::string(field), "must be an integer");
    return std::nullopt;
  }
  if (*n < min || *n > max) {
    add_error(std::string(field), "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<Money> JsonBody::money(std::string_view field, Presence presence, std::int64_t min_cents,
                                     std::int64_t max_cents) {
  const json::value* v = find(field, presence);
  if (!v) return std::nullopt;
  std::optional<Money> m;
  if (v->is_int64() && v->as_int64() > -100'000'000'000 && v->as_int64() < 100'000'000'000)
    m = Money{v->as_int64() * 100};
  else if (v->is_uint64() && v->as_uint64() < 100'000'000'000)
    m = Money{static_cast<std::int64_t>(v->as_uint64()) * 100};
  else if (v->is_double()) m = money_from_double(v->as_double());
  const std::string range = "must be between " + Money{min_cents}.to_decimal() + " and " +
                            Money{max_cents}.to_decimal();
  if (!m) {
    // Too large for exact cents (1e20) is out of range, not a matter of decimals.
    const double cents = v->is_number() ? v->to_number<double>() * 100 : 0;
    const bool out_of_range = cents > static_cast<double>(max_cents) || cents < static_cast<double>(min_cents);
    add_error(std::string(field), !v->is_number() ? "must be a number"
                                  : out_of_range  ? range
                                                  : "must have at most two decimals");
    return std::nullopt;
  }
  if (m->cents < min_cents || m->cents > max_cents) {
    add_error(std::string(field), range);
    return std::nullopt;
  }
  return m;
}

std::optional<EpochMs> JsonBody::timestamp(std::string_view field, Presence presence) {
  const json::value* v = find(field, presence);
  if (!v) return std::nullopt;
  std::optional<EpochMs> t;
  if (v->is_string()) t = parse_rfc3339(v->as_string());
  if (!t) add_error(std::string(field), "must be an RFC 3339 date-time such as 2026-11-25T10:00:00Z");
  return t;
}

std::optional<std::string> JsonBody::uuid(std::string_view field, Presence presence) {
  const json::value* v = find(field, presence);
  if (!v) return std::nullopt;
  std::optional<std::string> id;
  if (v->is_string()) id = uuid::normalize(v->as_string());
  if (!id) add_error(std::string(field), "must be a UUID");
  return id;
}

template <typename T, typename F>
Patch<T> JsonBody::patch(std::string_view field, F&& read) {
  Patch<T> p;
  const json::value* v = object_.if_contains(field);
  if (!v) return p;
  p.present = true;
  if (!v->is_null()) {
    p.value = read();
    if (!p.value) p.present = false;  // invalid: recorded as an error, nothing to apply
  }
  return p;
}

Patch<std::string> JsonBody::string_patch(std::string_view field, std::size_t min_length, std::size_t max_length) {
  return patch<std::string>(field, [&] { return string(field, Presence::kOptional, min_length, max_length); });
}
Patch<std::int64_t> JsonBody::integer_patch(std::string_view field, std::int64_t min, std::int64_t max) {
  return patch<std::int64_t>(field, [&] { return integer(field, Presence::kOptional, min, max); });
}
Patch<Money> JsonBody::money_patch(std::string_view field, std::int64_t min_cents, std::int64_t max_cents) {
  return patch<Money>(field, [&] { return money(field, Presence::kOptional, min_cents, max_cents); });
}
Patch<EpochMs> JsonBody::timestamp_patch(std::string_view field) {
  return patch<EpochMs>(field, [&] { return timestamp(field, Presence::kOptional); });
}
Patch<std::string> JsonBody::uuid_patch(std::string_view field) {
  return patch<std::string>(field, [&] { return uuid(field, Presence::kOptional); });
}

std::optional<std::int64_t> parse_query_integer(std::string_view text, std::int64_t min, std::int64_t max) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || ptr != text.data() + text.size() || n < min || n > max) return std::nullopt;
  return n;
}

std::optional<QueryParams> decode_query(std::string_view query) {
  // Boost.URL 1.81's parse_query reads up to a NUL, not to the end of the view it is given
  // (found by valgrind: the query is a view into the request target), so it gets a copy.
  const std::string owned(query);
  auto params = boost::urls::parse_query(owned);
  if (!params) return std::nullopt;
  QueryParams out;
  for (auto param : *params) {
    auto key = *param.key;
    // "?page=2&" or "a=1&&b=2": an empty piece names nothing, as browsers and proxies treat it.
    if (key.empty() && !param.has_value) continue;
    std::string value;
    if (param.has_value) {
      auto decoded = *param.value;
      value.assign(decoded.begin(), decoded.end());
    }
    out.emplace_back(std::string(key.begin(), key.end()), std::move(value));
  }
  return out;
}

}  // namespace orders
