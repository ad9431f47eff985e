#include "support/schema_check.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <optional>
#include <regex>

namespace orders::testing {
namespace json = boost::json;

namespace {

// A `$ref` chain or nesting this deep is a cycle in the document, not a real schema.
constexpr int kMaxDepth = 64;

// The keywords checked below, and the annotations that carry no constraint.
constexpr std::string_view kKnownKeywords[] = {
    "$ref",      "type",        "nullable", "properties", "required",      "additionalProperties",
    "items",     "enum",        "format",   "pattern",    "minimum",       "maximum",
    "minLength", "maxLength",   "minItems", "maxItems",   "minProperties", "allOf",
    "oneOf",     "description", "title",    "example",    "default",       "readOnly",
    "writeOnly", "deprecated"};

bool is_known_keyword(std::string_view key) {
  if (key.starts_with("x-")) return true;
  for (std::string_view k : kKnownKeywords) {
    if (k == key) return true;
  }
  return false;
}

std::string_view type_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64:
    case json::kind::uint64: return "integer";
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "unknown";
}

bool has_type(const json::value& v, std::string_view type) {
  if (type == "number") return v.is_number();
  if (type == "integer") return v.is_int64() || v.is_uint64();
  return type_of(v) == type;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

// `n` digits at `pos` as a number within [min, max].
bool digits_in(std::string_view s, std::size_t pos, std::size_t n, int min, int max) {
  if (pos + n > s.size()) return false;
  int value = 0;
  auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, value);
  return ec == std::errc{} && end == s.data() + pos + n && value >= min && value <= max;
}

// RFC 3339 date-time: 2026-11-25T10:00:00Z, with optional fraction and a Z or ±hh:mm offset.
bool is_date_time(std::string_view s) {
  if (s.size() < 20 || !digits_in(s, 0, 4, 0, 9999) || s[4] != '-' || !digits_in(s, 5, 2, 1, 12) || s[7] != '-' ||
      !digits_in(s, 8, 2, 1, 31) || (s[10] != 'T' && s[10] != 't') || !digits_in(s, 11, 2, 0, 23) || s[13] != ':' ||
      !digits_in(s, 14, 2, 0, 59) || s[16] != ':' || !digits_in(s, 17, 2, 0, 60)) {
    return false;
  }
  std::size_t pos = 19;
  if (s[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return false;
  }
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) return pos + 1 == s.size();
  return pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && digits_in(s, pos + 1, 2, 0, 23) &&
         s[pos + 3] == ':' && digits_in(s, pos + 4, 2, 0, 59);
}

// Characters, not bytes: the API's limits count UTF-8 code points.
std::size_t length_of(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string member_path(const std::string& parent, std::string_view key) {
  bool plain = !key.empty();
  for (char c : key) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  if (plain) return parent + "." + std::string(key);
  return parent + "[" + json::serialize(json::value(key)) + "]";
}

std::string index_path(const std::string& parent, std::size_t i) { return parent + "[" + std::to_string(i) + "]"; }

std::string show(const json::value& v) {
  if (v.is_double()) {
    // Shortest round-trip form ("99.99"); Boost.JSON would write "9.999E1".
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.as_double());
    if (ec == std::errc{}) return std::string(buf, end);
  }
  std::string text = json::serialize(v);
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

// The node a local reference ("#/components/schemas/Order") names in `document`.
const json::value* resolve(const json::value& document, std::string_view ref) {
  if (!ref.starts_with('#')) return nullptr;
  ref.remove_prefix(1);
  const json::value* node = &document;
  while (!ref.empty()) {
    if (ref.front() != '/') return nullptr;
    ref.remove_prefix(1);
    const std::size_t end = std::min(ref.find('/'), ref.size());
    std::string token;
    for (std::size_t i = 0; i < end; ++i) {
      if (ref[i] == '~' && i + 1 < end && (ref[i + 1] == '0' || ref[i + 1] == '1')) {
        token += ref[++i] == '0' ? '~' : '/';
      } else {
        token += ref[i];
      }
    }
    ref.remove_prefix(end);
    if (const json::object* o = node->if_object()) {
      node = o->if_contains(token);
    } else if (const json::array* a = node->if_array()) {
      std::size_t i = 0;
      auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), i);
      node = ec == std::errc{} && p == token.data() + token.size() && i < a->size() ? &(*a)[i] : nullptr;
    } else {
      node = nullptr;
    }
    if (!node) return nullptr;
  }
  return node;
}

// Follows `$ref`s from an OpenAPI object (a response, a parameter) to the object itself.
const json::value* follow_refs(const json::value& document, const json::value* node) {
  for (int hops = 0; node && hops < kMaxDepth; ++hops) {
    const json::object* o = node->if_object();
    const json::value* ref = o ? o->if_contains("$ref") : nullptr;
    if (!ref) return node;
    node = ref->is_string() ? resolve(document, ref->as_string()) : nullptr;
  }
  return nullptr;
}

const json::value* member(const json::value* node, std::string_view key) {
  const json::object* o = node ? node->if_object() : nullptr;
  return o ? o->if_contains(key) : nullptr;
}

class SchemaChecker {
 public:
  SchemaChecker(const json::value& document, std::vector<std::string>& errors) : document_(document), errors_(errors) {}

  void check(const json::value& schema, const json::value& instance, const std::string& path, int depth) {
    if (depth > kMaxDepth)
      return fail(path, "schema nesting deeper than " + std::to_string(kMaxDepth) + " ($ref cycle?)");
    const json::object* s = schema.if_object();
    if (!s) return fail(path, "schema is not an object: " + show(schema));
    for (const auto& entry : *s) {
      if (!is_known_keyword(entry.key())) {
        fail(path, "schema keyword \"" + std::string(entry.key()) + "\" is not supported by the checker");
      }
    }
    if (const json::value* ref = s->if_contains("$ref")) return check_ref(*s, *ref, instance, path, depth);

    if (is_true(s->if_contains("nullable"))) {
      // OpenAPI 3.0.3: `nullable` without `type` beside it has no effect (an allOf or $ref does
      // not count), and an enum must list null itself.
      if (!s->contains("type")) return fail(path, "nullable without a type beside it allows no null in OpenAPI 3.0");
      const json::value* values = s->if_contains("enum");
      if (values && values->is_array() &&
          std::find(values->as_array().begin(), values->as_array().end(), json::value(nullptr)) ==
              values->as_array().end()) {
        return fail(path, "nullable with an enum that does not list null allows no null");
      }
      if (instance.is_null()) return;
    }
    if (const json::value* type = s->if_contains("type")) {
      if (!type->is_string()) return fail(path, "schema type is not a string");
      if (!has_type(instance, type->as_string())) {
        return fail(path, "expected " + std::string(type->as_string()) + ", got " + std::string(type_of(instance)));
      }
    }
    if (const json::value* values = s->if_contains("enum")) check_enum(*values, instance, path);
    if (instance.is_string()) check_string(*s, instance.as_string(), path);
    if (instance.is_number()) check_number(*s, instance, path);
    if (instance.is_array()) check_array(*s, instance.as_array(), path, depth);
    if (instance.is_object()) check_object(*s, instance.as_object(), path, depth);
    if (const json::value* all = s->if_contains("allOf")) check_all_of(*all, instance, path, depth);
    if (const json::value* one = s->if_contains("oneOf")) check_one_of(*one, instance, path, depth);
  }

 private:
  static bool is_true(const json::value* v) { return v && v->is_bool() && v->as_bool(); }

  void fail(const std::string& path, std::string message) { errors_.push_back(path + ": " + std::move(message)); }

  // A bound from the schema as a double; JSON integers and decimals alike.
  static std::optional<double> number_of(const json::object& s, std::string_view key) {
    const json::value* v = s.if_contains(key);
    if (!v || !v->is_number()) return std::nullopt;
    return v->to_number<double>();
  }

  static std::optional<std::size_t> count_of(const json::object& s, std::string_view key) {
    const json::value* v = s.if_contains(key);
    if (v && v->is_int64() && v->as_int64() >= 0) return static_cast<std::size_t>(v->as_int64());
    if (v && v->is_uint64()) return static_cast<std::size_t>(v->as_uint64());
    return std::nullopt;
  }

  void check_ref(const json::object& s, const json::value& ref, const json::value& instance, const std::string& path,
                 int depth) {
    // OpenAPI 3.0 ignores everything beside a $ref: a `nullable` there would silently not apply.
    if (s.size() > 1) fail(path, "keywords beside $ref are ignored by OpenAPI 3.0; wrap the $ref in allOf");
    const json::value* target = ref.is_string() ? resolve(document_, ref.as_string()) : nullptr;
    if (!target) return fail(path, "cannot resolve $ref " + show(ref));
    check(*target, instance, path, depth + 1);
  }

  void check_enum(const json::value& values, const json::value& instance, const std::string& path) {
    if (!values.is_array()) return fail(path, "schema enum is not an array");
    for (const json::value& v : values.as_array()) {
      if (v == instance) return;
    }
    fail(path, show(instance) + " is not one of " + show(values));
  }

  void check_string(const json::object& s, std::string_view text, const std::string& path) {
    const std::size_t length = length_of(text);
    if (auto min = count_of(s, "minLength"); min && length < *min) {
      fail(path, "length " + std::to_string(length) + " is below minLength " + std::to_string(*min));
    }
    if (auto max = count_of(s, "maxLength"); max && length > *max) {
      fail(path, "length " + std::to_string(length) + " is above maxLength " + std::to_string(*max));
    }
    if (const json::value* format = s.if_contains("format"); format && format->is_string()) {
      const std::string_view name = format->as_string();
      if (name == "uuid" && !is_uuid(text)) fail(path, show(json::value(text)) + " is not a uuid");
      if (name == "date-time" && !is_date_time(text))
        fail(path, show(json::value(text)) + " is not an RFC 3339 date-time");
      if (name != "uuid" && name != "date-time") fail(path, "format \"" + std::string(name) + "\" is not supported");
    }
    if (const json::value* pattern = s.if_contains("pattern"); pattern && pattern->is_string()) {
      try {
        // JSON Schema patterns are ECMA-262 regular expressions, unanchored.
        const std::regex re(std::string(pattern->as_string()), std::regex::ECMAScript);
        if (!std::regex_search(text.begin(), text.end(), re)) {
          fail(path, show(json::value(text)) + " does not match " + std::string(pattern->as_string()));
        }
      } catch (const std::regex_error& e) {
        fail(path, "pattern " + show(*pattern) + " does not compile: " + e.what());
      }
    }
  }

  void check_number(const json::object& s, const json::value& instance, const std::string& path) {
    const double value = instance.to_number<double>();
    if (auto min = number_of(s, "minimum"); min && value < *min) {
      fail(path, show(instance) + " is below the minimum " + show(*s.if_contains("minimum")));
    }
    if (auto max = number_of(s, "maximum"); max && value > *max) {
      fail(path, show(instance) + " is above the maximum " + show(*s.if_contains("maximum")));
    }
  }

  void check_array(const json::object& s, const json::array& array, const std::string& path, int depth) {
    if (auto min = count_of(s, "minItems"); min && array.size() < *min) {
      fail(path, std::to_string(array.size()) + " items, fewer than minItems " + std::to_string(*min));
    }
    if (auto max = count_of(s, "maxItems"); max && array.size() > *max) {
      fail(path, std::to_string(array.size()) + " items, more than maxItems " + std::to_string(*max));
    }
    if (const json::value* items = s.if_contains("items")) {
      for (std::size_t i = 0; i < array.size(); ++i) check(*items, array[i], index_path(path, i), depth + 1);
    }
  }

  void check_object(const json::object& s, const json::object& object, const std::string& path, int depth) {
    if (auto min = count_of(s, "minProperties"); min && object.size() < *min) {
      fail(path, std::to_string(object.size()) + " properties, fewer than minProperties " + std::to_string(*min));
    }
    if (const json::value* required = s.if_contains("required"); required && required->is_array()) {
      for (const json::value& name : required->as_array()) {
        if (name.is_string() && !object.contains(name.as_string())) {
          fail(path, "missing required property " + show(name));
        }
      }
    }
    const json::object* properties = nullptr;
    if (const json::value* p = s.if_contains("properties")) properties = p->if_object();
    const json::value* additional = s.if_contains("additionalProperties");
    if (additional && !additional->is_bool()) fail(path, "only boolean additionalProperties is supported");
    const bool closed = additional && additional->is_bool() && !additional->as_bool();
    for (const auto& entry : object) {
      const json::value* property = properties ? properties->if_contains(entry.key()) : nullptr;
      if (property) check(*property, entry.value(), member_path(path, entry.key()), depth + 1);
      else if (closed) fail(member_path(path, entry.key()), "is not allowed (additionalProperties: false)");
    }
  }

  void check_all_of(const json::value& schemas, const json::value& instance, const std::string& path, int depth) {
    if (!schemas.is_array()) return fail(path, "schema allOf is not an array");
    for (const json::value& sub : schemas.as_array()) check(sub, instance, path, depth + 1);
  }

  void check_one_of(const json::value& schemas, const json::value& instance, const std::string& path, int depth) {
    if (!schemas.is_array()) return fail(path, "schema oneOf is not an array");
    std::vector<std::size_t> matched;
    std::vector<std::string> first_failures;
    const auto& branches = schemas.as_array();
    for (std::size_t i = 0; i < branches.size(); ++i) {
      std::vector<std::string> branch_errors;
      SchemaChecker(document_, branch_errors).check(branches[i], instance, path, depth + 1);
      if (branch_errors.empty()) matched.push_back(i);
      else first_failures.push_back("#" + std::to_string(i) + " " + branch_errors.front());
    }
    if (matched.size() == 1) return;
    if (matched.empty()) {
      std::string why;
      for (const auto& f : first_failures) why += (why.empty() ? "" : "; ") + f;
      return fail(path, "matches none of the oneOf schemas (" + why + ")");
    }
    std::string which;
    for (std::size_t i : matched) which += (which.empty() ? "#" : ", #") + std::to_string(i);
    fail(path, "matches " + std::to_string(matched.size()) + " of the oneOf schemas (" + which + "), not exactly one");
  }

  const json::value& document_;
  std::vector<std::string>& errors_;
};

}  // namespace

std::vector<std::string> validate(const json::value& document, const json::value& schema, const json::value& instance) {
  std::vector<std::string> errors;
  SchemaChecker(document, errors).check(schema, instance, "$", 0);
  return errors;
}

const json::value* response_object(const json::value& document, std::string_view path, std::string_view method,
                                   int status) {
  const json::value* responses = member(member(member(member(&document, "paths"), path), method), "responses");
  const std::string exact = std::to_string(status);
  const std::string range = exact.substr(0, 1) + "XX";
  const json::value* response = member(responses, exact);
  if (!response) response = member(responses, range);
  if (!response) response = member(responses, "default");
  return follow_refs(document, response);
}

const json::value* response_schema(const json::value& document, std::string_view path, std::string_view method,
                                   int status) {
  const json::value* response = response_object(document, path, method, status);
  return member(member(member(response, "content"), "application/json"), "schema");
}

namespace {

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// Walks the OpenAPI objects that carry examples and checks each against its schema.
class ExampleWalker {
 public:
  ExampleWalker(const json::value& document, std::vector<std::string>& errors) : document_(document), errors_(errors) {}

  void walk() {
    if (const json::object* paths = object_at(&document_, "paths")) {
      for (const auto& [path, item] : *paths) {
        const std::string at = "#/paths/" + pointer_token(path);
        const json::object* o = item.if_object();
        if (!o) continue;
        for (const auto& [key, value] : *o) {
          if (key == "parameters") parameters(value, at + "/parameters");
          else if (value.is_object()) operation(value, at + "/" + std::string(key));
        }
      }
    }
    const json::value* components = member(&document_, "components");
    each(member(components, "parameters"), "#/components/parameters", &ExampleWalker::parameter);
    each(member(components, "headers"), "#/components/headers", &ExampleWalker::parameter);
    each(member(components, "requestBodies"), "#/components/requestBodies", &ExampleWalker::request_body);
    each(member(components, "responses"), "#/components/responses", &ExampleWalker::response);
    each(member(components, "schemas"), "#/components/schemas", &ExampleWalker::schema);
  }

 private:
  using Visit = void (ExampleWalker::*)(const json::value&, const std::string&);

  static const json::object* object_at(const json::value* node, std::string_view key) {
    const json::value* v = member(node, key);
    return v ? v->if_object() : nullptr;
  }

  void each(const json::value* map, const std::string& at, Visit visit) {
    const json::object* o = map ? map->if_object() : nullptr;
    if (!o) return;
    for (const auto& [key, value] : *o) (this->*visit)(value, at + "/" + pointer_token(key));
  }

  // A $ref is checked where it is defined (components), not at every use.
  static bool is_ref(const json::value& v) { return v.is_object() && v.as_object().contains("$ref"); }

  void operation(const json::value& op, const std::string& at) {
    if (const json::value* p = member(&op, "parameters")) parameters(*p, at + "/parameters");
    if (const json::value* body = member(&op, "requestBody")) request_body(*body, at + "/requestBody");
    each(member(&op, "responses"), at + "/responses", &ExampleWalker::response);
  }

  void parameters(const json::value& list, const std::string& at) {
    const json::array* a = list.if_array();
    if (!a) return;
    for (std::size_t i = 0; i < a->size(); ++i) parameter((*a)[i], at + "/" + std::to_string(i));
  }

  // A parameter or a header: a schema with an example beside it, or a content map.
  void parameter(const json::value& p, const std::string& at) {
    if (is_ref(p)) return;
    illustrated(p, at);
    each(member(&p, "content"), at + "/content", &ExampleWalker::media_type);
  }

  void request_body(const json::value& body, const std::string& at) {
    if (is_ref(body)) return;
    each(member(&body, "content"), at + "/content", &ExampleWalker::media_type);
  }

  void response(const json::value& r, const std::string& at) {
    if (is_ref(r)) return;
    each(member(&r, "headers"), at + "/headers", &ExampleWalker::parameter);
    each(member(&r, "content"), at + "/content", &ExampleWalker::media_type);
  }

  void media_type(const json::value& m, const std::string& at) { illustrated(m, at); }

  // An object with a `schema`, and an `example` or `examples` beside it.
  void illustrated(const json::value& node, const std::string& at) {
    const json::value* s = member(&node, "schema");
    if (const json::value* example = member(&node, "example")) {
      if (!s) errors_.push_back(at + "/example: there is no schema beside it");
      else check(*s, *example, at + "/example");
    }
    if (const json::object* examples = object_at(&node, "examples")) {
      for (const auto& [name, entry] : *examples) {
        const std::string where = at + "/examples/" + pointer_token(name);
        const json::value* e = follow_refs(document_, &entry);
        const json::value* value = member(e, "value");
        if (!e) errors_.push_back(where + ": cannot resolve it");
        else if (!s) errors_.push_back(where + ": there is no schema beside it");
        else if (value) check(*s, *value, where + "/value");
      }
    }
    if (s) schema(*s, at + "/schema");
  }

  // A schema's own example, then the schemas nested in it.
  void schema(const json::value& s, const std::string& at) {
    const json::object* o = s.if_object();
    if (!o || o->contains("$ref")) return;
    if (const json::value* example = o->if_contains("example")) check(s, *example, at + "/example");
    each(o->if_contains("properties"), at + "/properties", &ExampleWalker::schema);
    for (std::string_view key : {"items", "additionalProperties", "not"}) {
      if (const json::value* sub = o->if_contains(key); sub && sub->is_object())
        schema(*sub, at + "/" + std::string(key));
    }
    for (std::string_view key : {"allOf", "oneOf", "anyOf"}) {
      const json::value* list = o->if_contains(key);
      if (!list || !list->is_array()) continue;
      for (std::size_t i = 0; i < list->as_array().size(); ++i) {
        schema(list->as_array()[i], at + "/" + std::string(key) + "/" + std::to_string(i));
      }
    }
  }

  void check(const json::value& schema, const json::value& example, const std::string& at) {
    for (std::string& problem : validate(document_, schema, example)) errors_.push_back(at + ": " + problem);
  }

  const json::value& document_;
  std::vector<std::string>& errors_;
};

}  // namespace

std::vector<std::string> example_errors(const json::value& document) {
  std::vector<std::string> errors;
  ExampleWalker(document, errors).walk();
  return errors;
}

}  // namespace orders::testing
