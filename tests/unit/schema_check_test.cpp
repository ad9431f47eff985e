// The schema checker the tests use to hold responses to docs/openapi.yaml: it must accept what
// conforms and name every way an instance does not. The second half checks JSON the service
// really produces against the real document.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "catalog/json.hpp"
#include "common/embedded.hpp"
#include "common/error_codes.hpp"
#include "http/envelope.hpp"
#include "support/schema_check.hpp"

using orders::testing::example_errors;
using orders::testing::response_schema;
using orders::testing::validate;
namespace json = boost::json;

namespace {

// A small document with one schema per feature under test.
const json::value& test_document() {
  static const json::value doc = json::parse(R"json({
    "openapi": "3.0.3",
    "paths": {
      "/things/{id}": {
        "get": {
          "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
            "404": {"$ref": "#/components/responses/NotFound"},
            "4XX": {"description": "client", "content": {"application/json": {"schema": {"type": "string"}}}},
            "default": {"description": "other", "content": {"application/json": {"schema": {"type": "boolean"}}}}
          }
        }
      },
      "/metrics": {
        "get": {"responses": {"200": {"description": "text", "content": {"text/plain": {"schema": {"type": "string"}}}}}}
      }
    },
    "components": {
      "responses": {
        "NotFound": {"description": "none", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
      },
      "schemas": {
        "Error": {"type": "object", "required": ["code"], "properties": {"code": {"type": "string"}}},
        "Item": {
          "type": "object",
          "additionalProperties": false,
          "required": ["productId", "quantity"],
          "properties": {
            "productId": {"type": "string", "format": "uuid"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 1000}
          }
        },
        "Status": {"type": "string", "enum": ["PENDING", "CONFIRMED"]},
        "Order": {
          "type": "object",
          "additionalProperties": false,
          "required": ["id", "status", "items", "createdAt", "failureReason"],
          "properties": {
            "id": {"type": "string", "format": "uuid"},
            "status": {"$ref": "#/components/schemas/Status"},
            "items": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"$ref": "#/components/schemas/Item"}},
            "createdAt": {"type": "string", "format": "date-time"},
            "failureReason": {"type": "string", "nullable": true},
            "note": {"type": "string", "minLength": 2, "maxLength": 4},
            "price": {"type": "number", "minimum": 0, "maximum": 99.99},
            "userId": {"type": "string", "pattern": "^[a-z]{1,8}$"}
          }
        },
        "Open": {"type": "object", "properties": {"a": {"type": "boolean"}}},
        "Envelope": {
          "type": "object",
          "additionalProperties": false,
          "required": ["success", "data"],
          "properties": {"success": {"type": "boolean", "enum": [true]}, "data": {}}
        },
        "OrderResponse": {
          "allOf": [{"$ref": "#/components/schemas/Envelope"}, {"properties": {"data": {"$ref": "#/components/schemas/Order"}}}]
        },
        "IdOrCount": {"oneOf": [{"type": "string", "format": "uuid"}, {"type": "integer"}]},
        "AnyNumber": {"oneOf": [{"type": "number"}, {"type": "integer"}]},
        "Loop": {"$ref": "#/components/schemas/Loop"},
        "Dangling": {"$ref": "#/components/schemas/Nowhere"},
        "Unsupported": {"type": "array", "uniqueItems": true},
        "RefWithSibling": {"properties": {"s": {"$ref": "#/components/schemas/Status", "nullable": true}}},
        "NullableAllOf": {"allOf": [{"$ref": "#/components/schemas/Status"}], "nullable": true},
        "NullableEnum": {"type": "string", "nullable": true, "enum": ["PENDING", "CONFIRMED", null]},
        "NullableEnumWithoutNull": {"type": "string", "nullable": true, "enum": ["PENDING", "CONFIRMED"]}
      }
    }
  })json");
  return doc;
}

json::value ref(std::string_view name) { return json::object{{"$ref", "#/components/schemas/" + std::string(name)}}; }

json::value valid_order() {
  return json::parse(R"({
    "id": "0193a7e2-5c4d-7b1e-9f00-1234567890ab",
    "status": "PENDING",
    "items": [{"productId": "0193a7e2-5c4d-7b1e-9f00-0000000000aa", "quantity": 2}],
    "createdAt": "2026-11-25T10:00:00.123Z",
    "failureReason": null
  })");
}

std::vector<std::string> check(std::string_view schema, const json::value& instance) {
  return validate(test_document(), ref(schema), instance);
}

// The errors as one string, for failure messages and substring checks.
std::string joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += e + "\n";
  return out;
}

}  // namespace

TEST(SchemaCheck, AcceptsAConformingInstance) {
  EXPECT_EQ(joined(check("Order", valid_order())), "");
  json::value full = valid_order();
  full.as_object()["note"] = "abc";
  full.as_object()["price"] = 99.99;
  full.as_object()["userId"] = "alice";
  full.as_object()["failureReason"] = "unknown product";
  EXPECT_EQ(joined(check("Order", full)), "");
}

TEST(SchemaCheck, WrongTypeIsReportedWithItsPath) {
  json::value order = valid_order();
  order.at("items").as_array()[0].as_object()["quantity"] = "2";
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$.items[0].quantity: expected integer, got string"});

  order = valid_order();
  order.as_object()["items"] = json::object{};
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$.items: expected array, got object"});
}

TEST(SchemaCheck, IntegerMeansNoFraction) {
  json::value order = valid_order();
  order.at("items").as_array()[0].as_object()["quantity"] = 2.5;
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$.items[0].quantity: expected integer, got number"});
  order.at("items").as_array()[0].as_object()["quantity"] = 2.0;
  EXPECT_EQ(check("Order", order).size(), 1u);
}

TEST(SchemaCheck, MissingRequiredPropertyIsNamed) {
  json::value order = valid_order();
  order.as_object().erase("createdAt");
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$: missing required property \"createdAt\""});

  order = valid_order();
  order.at("items").as_array()[0].as_object().erase("productId");
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$.items[0]: missing required property \"productId\""});
}

TEST(SchemaCheck, ExtraPropertyIsRejectedOnlyWhenClosed) {
  json::value order = valid_order();
  order.as_object()["updatedAt"] = "2026-11-25T10:00:00Z";
  EXPECT_EQ(check("Order", order),
            std::vector<std::string>{"$.updatedAt: is not allowed (additionalProperties: false)"});

  EXPECT_TRUE(check("Open", json::parse(R"({"a": true, "anything": [1, 2]})")).empty());
  EXPECT_EQ(check("Open", json::parse(R"({"a": 1})")), std::vector<std::string>{"$.a: expected boolean, got integer"});
}

TEST(SchemaCheck, ValueOutsideEnumIsRejected) {
  json::value order = valid_order();
  order.as_object()["status"] = "SHIPPED";
  auto errors = check("Order", order);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], R"($.status: "SHIPPED" is not one of ["PENDING","CONFIRMED"])");
  // Enum members compare by value and type.
  EXPECT_FALSE(check("Envelope", json::parse(R"({"success": "true", "data": 1})")).empty());
  EXPECT_FALSE(check("Envelope", json::parse(R"({"success": false, "data": 1})")).empty());
}

TEST(SchemaCheck, UuidFormatChecksTheShape) {
  for (const char* good : {"0193a7e2-5c4d-7b1e-9f00-1234567890ab", "0193A7E2-5C4D-7B1E-9F00-1234567890AB"}) {
    json::value order = valid_order();
    order.as_object()["id"] = good;
    EXPECT_TRUE(check("Order", order).empty()) << good;
  }
  for (const char* bad : {"", "not-a-uuid", "0193a7e25c4d7b1e9f001234567890ab", "0193a7e2-5c4d-7b1e-9f00-1234567890a",
                          "0193a7e2-5c4d-7b1e-9f00-1234567890abc", "0193a7e2-5c4d-7b1e-9f00_1234567890ab",
                          "0193a7e2-5c4d-7b1e-9f00-1234567890ag", "{0193a7e2-5c4d-7b1e-9f00-1234567890a}"}) {
    json::value order = valid_order();
    order.as_object()["id"] = bad;
    auto errors = check("Order", order);
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_NE(errors[0].find("$.id: "), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find("is not a uuid"), std::string::npos) << errors[0];
  }
}

TEST(SchemaCheck, DateTimeFormatChecksTheShape) {
  for (const char* good : {"2026-11-25T10:00:00Z", "2026-11-25T10:00:00.123Z", "2026-11-25t10:00:00.5z",
                           "2026-11-25T10:00:00+02:00", "2026-11-25T23:59:60-11:30"}) {
    json::value order = valid_order();
    order.as_object()["createdAt"] = good;
    EXPECT_TRUE(check("Order", order).empty()) << good;
  }
  for (const char* bad : {"2026-11-25", "2026-11-25 10:00:00Z", "2026-11-25T10:00:00", "2026-13-25T10:00:00Z",
                          "2026-11-32T10:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T10:00:00.Z",
                          "2026-11-25T10:00:00+0200", "2026-11-25T10:00:00Zjunk", "1764064800000"}) {
    json::value order = valid_order();
    order.as_object()["createdAt"] = bad;
    auto errors = check("Order", order);
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_NE(errors[0].find("is not an RFC 3339 date-time"), std::string::npos) << errors[0];
  }
}

TEST(SchemaCheck, NullPassesOnlyWhereNullable) {
  json::value order = valid_order();
  EXPECT_TRUE(check("Order", order).empty());  // failureReason: null, nullable
  order.as_object()["note"] = nullptr;
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$.note: expected string, got null"});
  order = valid_order();
  order.as_object()["status"] = nullptr;
  EXPECT_FALSE(check("Order", order).empty());
}

TEST(SchemaCheck, RefsAreFollowedAndDanglingOnesReported) {
  json::value response = json::object{{"success", true}, {"data", valid_order()}};
  EXPECT_TRUE(check("OrderResponse", response).empty());
  response.at("data").as_object()["status"] = "LOST";
  auto errors = check("OrderResponse", response);
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_EQ(errors[0].rfind("$.data.status: ", 0), 0u) << errors[0];

  errors = check("Dangling", json::value(1));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("cannot resolve $ref \"#/components/schemas/Nowhere\""), std::string::npos) << errors[0];
}

TEST(SchemaCheck, EveryArrayItemIsChecked) {
  json::value order = valid_order();
  auto& items = order.at("items").as_array();
  items.push_back(json::parse(R"({"productId": "0193a7e2-5c4d-7b1e-9f00-0000000000bb", "quantity": 1})"));
  items.push_back(json::parse(R"({"productId": "0193a7e2-5c4d-7b1e-9f00-0000000000cc", "quantity": 0})"));
  items[0].as_object()["quantity"] = 1001;
  auto errors = check("Order", order);
  ASSERT_EQ(errors.size(), 2u) << joined(errors);
  EXPECT_EQ(errors[0], "$.items[0].quantity: 1001 is above the maximum 1000");
  EXPECT_EQ(errors[1], "$.items[2].quantity: 0 is below the minimum 1");
}

TEST(SchemaCheck, ArraySizeLimits) {
  json::value order = valid_order();
  order.as_object()["items"] = json::array{};
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$.items: 0 items, fewer than minItems 1"});
  json::value item = valid_order().at("items").at(0);
  order.as_object()["items"] = json::array{item, item, item, item};
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$.items: 4 items, more than maxItems 3"});
}

TEST(SchemaCheck, StringLengthsCountCharacters) {
  json::value order = valid_order();
  order.as_object()["note"] = "\xC3\xA9t\xC3\xA9";  // "été": 3 characters, 5 bytes
  EXPECT_TRUE(check("Order", order).empty());
  order.as_object()["note"] = "a";
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$.note: length 1 is below minLength 2"});
  order.as_object()["note"] = "abcde";
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$.note: length 5 is above maxLength 4"});
}

TEST(SchemaCheck, NumberBounds) {
  json::value order = valid_order();
  order.as_object()["price"] = 0;
  EXPECT_TRUE(check("Order", order).empty());
  order.as_object()["price"] = 100;
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$.price: 100 is above the maximum 99.99"});
  order.as_object()["price"] = -0.01;
  EXPECT_EQ(check("Order", order).size(), 1u);
  order.as_object()["price"] = "1.00";
  EXPECT_EQ(check("Order", order), std::vector<std::string>{"$.price: expected number, got string"});
}

TEST(SchemaCheck, PatternMustMatch) {
  json::value order = valid_order();
  order.as_object()["userId"] = "bob";
  EXPECT_TRUE(check("Order", order).empty());
  order.as_object()["userId"] = "Bob";
  EXPECT_EQ(check("Order", order), std::vector<std::string>{R"($.userId: "Bob" does not match ^[a-z]{1,8}$)"});
}

TEST(SchemaCheck, AllOfAppliesEverySchema) {
  // The envelope's closed object and the order's schema both hold.
  json::value response = json::object{{"success", true}, {"data", valid_order()}, {"extra", 1}};
  EXPECT_EQ(check("OrderResponse", response),
            std::vector<std::string>{"$.extra: is not allowed (additionalProperties: false)"});
  response = json::object{{"data", valid_order()}};
  EXPECT_EQ(check("OrderResponse", response), std::vector<std::string>{"$: missing required property \"success\""});
}

TEST(SchemaCheck, OneOfNeedsExactlyOneMatch) {
  EXPECT_TRUE(check("IdOrCount", json::value("0193a7e2-5c4d-7b1e-9f00-1234567890ab")).empty());
  EXPECT_TRUE(check("IdOrCount", json::value(3)).empty());
  auto none = check("IdOrCount", json::value("three"));
  ASSERT_EQ(none.size(), 1u);
  EXPECT_NE(none[0].find("matches none of the oneOf schemas"), std::string::npos) << none[0];
  auto both = check("AnyNumber", json::value(3));
  ASSERT_EQ(both.size(), 1u);
  EXPECT_NE(both[0].find("matches 2 of the oneOf schemas"), std::string::npos) << both[0];
  EXPECT_TRUE(check("AnyNumber", json::value(3.5)).empty());
}

TEST(SchemaCheck, UnsupportedKeywordsAreErrorsNotSilentPasses) {
  auto errors = check("Unsupported", json::array{1, 1});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("\"uniqueItems\" is not supported"), std::string::npos) << errors[0];
  // OpenAPI 3.0 ignores keywords beside a $ref, so a `nullable` there would not do what it says.
  errors = check("RefWithSibling", json::parse(R"({"s": "PENDING"})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("keywords beside $ref"), std::string::npos) << errors[0];
}

TEST(SchemaCheck, RefCycleEndsInAnError) {
  auto errors = check("Loop", json::value(1));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("$ref cycle"), std::string::npos) << errors[0];
}

TEST(SchemaCheck, NullableNeedsATypeBesideIt) {
  // OpenAPI 3.0.3: `nullable` beside an allOf (no `type`) allows nothing; tools refuse the null.
  auto errors = check("NullableAllOf", json::value(nullptr));
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_NE(errors[0].find("nullable without a type"), std::string::npos) << errors[0];
  EXPECT_EQ(check("NullableAllOf", json::value("PENDING")).size(), 1u);  // the schema is wrong whatever the value
  // With a type, and null in the enum, null passes and the enum still holds.
  EXPECT_TRUE(check("NullableEnum", json::value(nullptr)).empty());
  EXPECT_TRUE(check("NullableEnum", json::value("CONFIRMED")).empty());
  EXPECT_EQ(check("NullableEnum", json::value("LOST")).size(), 1u);
  errors = check("NullableEnumWithoutNull", json::value(nullptr));
  ASSERT_EQ(errors.size(), 1u) << joined(errors);
  EXPECT_NE(errors[0].find("enum that does not list null"), std::string::npos) << errors[0];
}

// A document with one example of each kind, the wrong ones marked "bad".
const json::value& examples_document(bool bad) {
  static const std::string text = R"json({
    "openapi": "3.0.3",
    "paths": {
      "/things/{id}": {
        "parameters": [{"name": "id", "in": "path", "required": true,
                        "schema": {"type": "string", "format": "uuid"}, "example": "@PATH@"}],
        "put": {
          "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "minLength": 1},
                          "example": "@HEADER@"}],
          "requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Item"}, "example": {"productId": "0193a7e2-5c4d-7b1e-9f00-0000000000aa", "quantity": @BODY@}}}},
          "responses": {
            "200": {"description": "ok",
                    "headers": {"X-Count": {"schema": {"type": "integer"}, "example": @RESPONSE_HEADER@}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"},
                                "examples": {"one": {"value": {"productId": "0193a7e2-5c4d-7b1e-9f00-0000000000aa", "quantity": @NAMED@}},
                                             "shared": {"$ref": "#/components/examples/Shared"}}}}},
            "404": {"$ref": "#/components/responses/NotFound"}
          }
        }
      }
    },
    "components": {
      "examples": {"Shared": {"value": {"productId": "@SHARED@", "quantity": 1}}},
      "parameters": {"Page": {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}, "example": @PAGE@}},
      "responses": {"NotFound": {"description": "none", "content": {"application/json": {
        "schema": {"type": "object", "required": ["code"], "properties": {"code": {"type": "string"}}},
        "example": {"code": @CODE@}}}}},
      "schemas": {
        "Item": {
          "type": "object", "additionalProperties": false, "required": ["productId", "quantity"],
          "properties": {
            "productId": {"type": "string", "format": "uuid"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 1000, "example": @PROPERTY@}
          },
          "example": {"productId": "0193a7e2-5c4d-7b1e-9f00-0000000000aa", "quantity": 1@SCHEMA@}
        }
      }
    }
  })json";
  static const auto make = [](bool wrong) {
    const std::vector<std::pair<std::string, std::string>> values{
        {"@PATH@", wrong ? "not-a-uuid" : "0193a7e2-5c4d-7b1e-9f00-1234567890ab"},
        {"@HEADER@", wrong ? "" : "k-1"},
        {"@BODY@", wrong ? "0" : "2"},
        {"@RESPONSE_HEADER@", wrong ? "\"3\"" : "3"},
        {"@NAMED@", wrong ? "1.5" : "1"},
        {"@SHARED@", wrong ? "nope" : "0193a7e2-5c4d-7b1e-9f00-0000000000bb"},
        {"@PAGE@", wrong ? "0" : "1"},
        {"@CODE@", wrong ? "404" : "\"NOT_FOUND\""},
        {"@PROPERTY@", wrong ? "1001" : "5"},
        {"@SCHEMA@", wrong ? ", \"extra\": true" : ""}};
    std::string doc = text;
    for (const auto& [mark, value] : values) doc.replace(doc.find(mark), mark.size(), value);
    return json::parse(doc);
  };
  static const json::value good_doc = make(false);
  static const json::value bad_doc = make(true);
  return bad ? bad_doc : good_doc;
}

TEST(SchemaCheck, ExamplesAreCheckedAgainstTheirSchemas) {
  EXPECT_EQ(joined(example_errors(examples_document(false))), "");
  const std::vector<std::string> errors = example_errors(examples_document(true));
  // One error per wrong example, each saying where the example is and what is wrong with it.
  const std::vector<std::string> expected{
      "#/paths/~1things~1{id}/parameters/0/example: $: \"not-a-uuid\" is not a uuid",
      "#/paths/~1things~1{id}/put/parameters/0/example: $: length 0 is below minLength 1",
      "#/paths/~1things~1{id}/put/requestBody/content/application~1json/example: $.quantity: 0 is below the minimum 1",
      "#/paths/~1things~1{id}/put/responses/200/headers/X-Count/example: $: expected integer, got string",
      "#/paths/~1things~1{id}/put/responses/200/content/application~1json/examples/one/value: $.quantity: expected "
      "integer, got number",
      "#/paths/~1things~1{id}/put/responses/200/content/application~1json/examples/shared/value: $.productId: "
      "\"nope\" is not a uuid",
      "#/components/parameters/Page/example: $: 0 is below the minimum 1",
      "#/components/responses/NotFound/content/application~1json/example: $.code: expected string, got integer",
      "#/components/schemas/Item/example: $.extra: is not allowed (additionalProperties: false)",
      "#/components/schemas/Item/properties/quantity/example: $: 1001 is above the maximum 1000"};
  EXPECT_EQ(joined(errors), joined(expected));
}

TEST(SchemaCheck, ResponseSchemaFindsTheOperationsJsonBody) {
  const json::value& doc = test_document();
  const json::value* ok = response_schema(doc, "/things/{id}", "get", 200);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(*ok, ref("Order"));
  // Through a $ref to components/responses.
  const json::value* missing = response_schema(doc, "/things/{id}", "get", 404);
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(*missing, ref("Error"));
  // A status range, then "default".
  const json::value* client = response_schema(doc, "/things/{id}", "get", 409);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->at("type"), "string");
  const json::value* other = response_schema(doc, "/things/{id}", "get", 503);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->at("type"), "boolean");
}

TEST(SchemaCheck, ResponseSchemaIsNullWithoutAJsonBody) {
  const json::value& doc = test_document();
  EXPECT_EQ(response_schema(doc, "/things", "get", 200), nullptr);
  EXPECT_EQ(response_schema(doc, "/things/{id}", "post", 200), nullptr);
  EXPECT_EQ(response_schema(doc, "/things/{id}", "GET", 200), nullptr);
  EXPECT_EQ(response_schema(doc, "/metrics", "get", 200), nullptr);  // text/plain only
  EXPECT_EQ(response_schema(doc, "/metrics", "get", 500), nullptr);
  EXPECT_EQ(response_schema(json::value(), "/metrics", "get", 200), nullptr);
}

// ---- The real document against JSON the service's code produces ------------------------------

namespace {

const json::value& api_document() {
  static const json::value doc = [] {
    auto text = orders::embedded::find("docs/openapi.json");
    if (!text) throw std::runtime_error("docs/openapi.json is not embedded");
    return json::parse(*text);
  }();
  return doc;
}

// The errors of a response body against the document's schema for that operation and status.
std::string response_errors(std::string_view path, std::string_view method, int status, std::string_view body) {
  const json::value* schema = response_schema(api_document(), path, method, status);
  if (!schema) return "no application/json schema for " + std::string(method) + " " + std::string(path);
  return joined(validate(api_document(), *schema, json::parse(body)));
}

orders::catalog::Product sample_product() {
  orders::catalog::Product p;
  p.id = "0193a7e2-5c4d-7b1e-9f00-1234567890ab";
  p.name = "Flash sale console";
  p.price = orders::Money{49999};
  p.created_at = 1764064800000;
  p.updated_at = 1764064800123;
  return p;
}

}  // namespace

TEST(OpenApiContract, CategoryJsonMatchesTheDocument) {
  orders::catalog::Category c{.id = "0193a7e2-5c4d-7b1e-9f00-1234567890ab",
                              .name = "Consoles",
                              .slug = "consoles",
                              .description = std::nullopt,
                              .created_at = 1764064800000,
                              .updated_at = 1764064800000};
  EXPECT_EQ(response_errors("/api/categories/{id}", "get", 200, orders::http::ok_raw(category_json(c)).body), "");
  c.description = "Home consoles";
  EXPECT_EQ(response_errors("/api/categories", "post", 201, orders::http::ok_raw(category_json(c), 201).body), "");
  EXPECT_EQ(response_errors("/api/categories", "get", 200, orders::http::ok_raw("[" + category_json(c) + "]").body),
            "");
}

TEST(OpenApiContract, ProductJsonMatchesTheDocument) {
  using orders::catalog::product_json_without_stock;
  using orders::catalog::with_stock;
  orders::catalog::Product p = sample_product();
  const std::string bare = with_stock(product_json_without_stock(p), 7);
  EXPECT_EQ(response_errors("/api/products/{id}", "get", 200, orders::http::ok_raw(bare).body), "");

  p.description = "512 GB";
  p.sku = "CON-512";
  p.category_id = "0193a7e2-5c4d-7b1e-9f00-0000000000aa";
  p.max_per_user = 2;
  p.sale_starts_at = 1764064800000;
  p.sale_ends_at = 1764151200000;
  const std::string full = with_stock(product_json_without_stock(p), 0);
  EXPECT_EQ(response_errors("/api/products", "post", 201, orders::http::ok_raw(full, 201).body), "");
  const std::string page =
      orders::http::ok_list_raw("[" + full + "," + bare + "]", {.page = 1, .limit = 10, .total = 2}).body;
  EXPECT_EQ(response_errors("/api/products", "get", 200, page), "");
}

TEST(OpenApiContract, TheCachedCopyWithoutStockIsNotAProduct) {
  const std::string cached = orders::catalog::product_json_without_stock(sample_product());
  EXPECT_NE(response_errors("/api/products/{id}", "get", 200, orders::http::ok_raw(cached).body).find("\"stock\""),
            std::string::npos);
}

TEST(OpenApiContract, ErrorEnvelopesMatchTheDocument) {
  using namespace orders::http;
  EXPECT_EQ(response_errors("/api/products", "post", 400, validation_failed({{"price", "must be a number"}}).body), "");
  EXPECT_EQ(response_errors("/api/orders/{id}", "get", 404, not_found("Order").body), "");
  EXPECT_EQ(response_errors("/api/orders", "post", 503, service_unavailable("RabbitMQ", 2).body), "");
  EXPECT_EQ(response_errors("/api/orders", "post", 400, body_too_large(65536).body), "");
  EXPECT_EQ(response_errors("/api/products/{id}", "put", 500, internal_error().body), "");
  // A code the document does not list is a contract break.
  EXPECT_NE(response_errors("/api/orders", "post", 409, error(409, "TEAPOT", "no").body), "");
}

TEST(OpenApiContract, PurchaseBodiesMatchTheDocument) {
  // What src/ordering/lua/reserve.lua writes for an accepted purchase and for a refusal.
  const std::string accepted = R"({"success":true,"data":{"id":"0193a7e2-5c4d-7b1e-9f00-1234567890ab",)"
                               R"("referenceNo":"ORD-01JDKY5Q2D7F0Y000000000000","userId":"user-1@example.com",)"
                               R"("status":"PENDING","items":[{"productId":"0193a7e2-5c4d-7b1e-9f00-0000000000aa",)"
                               R"("quantity":2,"unitPrice":19.99,"totalPrice":39.98}],"totalPrice":39.98,)"
                               R"("createdAt":"2026-11-25T10:00:00.123Z"}})";
  EXPECT_EQ(response_errors("/api/orders", "post", 202, accepted), "");
  EXPECT_EQ(response_errors("/api/orders/{id}", "get", 200, accepted), "");
  // A pending order is not yet what PostgreSQL holds (no updatedAt, failureReason).
  EXPECT_NE(response_errors("/api/orders/{id}", "delete", 200, accepted), "");
  const std::string refused =
      R"({"success":false,"error":"Product 0193a7e2-5c4d-7b1e-9f00-0000000000aa has 0 units left, 2 requested",)"
      R"("code":"OUT_OF_STOCK","details":[{"field":"items[0].productId",)"
      R"("productId":"0193a7e2-5c4d-7b1e-9f00-0000000000aa","message":"Product has 0 units left"}]})";
  EXPECT_EQ(response_errors("/api/orders", "post", 409, refused), "");
}

TEST(OpenApiContract, TheCreatedLogEntrysNullStatusMatchesTheDocument) {
  // The first entry of every trail (src/worker/order_persister.cpp): CREATED, from nothing.
  const std::string logs =
      R"({"success":true,"data":[{"id":1,"orderId":"0193a7e2-5c4d-7b1e-9f00-1234567890ab","eventType":"CREATED",)"
      R"("fromStatus":null,"toStatus":"PENDING","details":null,"createdAt":"2026-11-25T10:00:00.131Z"},)"
      R"({"id":2,"orderId":"0193a7e2-5c4d-7b1e-9f00-1234567890ab","eventType":"FAILED","fromStatus":"PENDING",)"
      R"("toStatus":"FAILED","details":{"reason":"Insufficient stock"},"createdAt":"2026-11-25T10:00:00.131Z"}]})";
  EXPECT_EQ(response_errors("/api/orders/{id}/logs", "get", 200, logs), "");
  std::string wrong = logs;
  wrong.replace(wrong.find("\"PENDING\",\"details\""), 9, "\"SHIPPED\"");
  EXPECT_NE(response_errors("/api/orders/{id}/logs", "get", 200, wrong), "");
}

TEST(OpenApiContract, TheNewRefusalsMatchTheDocument) {
  using namespace orders::http;
  namespace codes = orders::codes;
  // 415 and 431 as src/http/server.cpp builds them.
  const auto media = error(415, codes::kUnsupportedMediaType, "Request bodies must be JSON",
                           std::vector<FieldError>{{"Content-Type", "must be application/json"}});
  EXPECT_EQ(response_errors("/api/orders", "post", 415, media.body), "");
  EXPECT_EQ(response_errors("/api/categories/{id}", "put", 415, media.body), "");
  const auto headers = error(431, codes::kHeadersTooLarge, "Request headers are larger than 16 KiB");
  EXPECT_EQ(response_errors("/health", "get", 431, headers.body), "");
  EXPECT_EQ(response_errors("/api/orders/{id}/status", "put", 431, headers.body), "");
  // The total the record cannot hold, as src/ordering/lua/reserve.lua writes it.
  EXPECT_EQ(response_errors("/api/orders", "post", 400,
                            R"({"success":false,"error":"Request validation failed","code":"VALIDATION_FAILED",)"
                            R"("details":[{"field":"items","message":"make an order total above 999999999999.99"}]})"),
            "");
  // A total above what the record holds is not a Money.
  std::string order = R"({"success":true,"data":{"id":"0193a7e2-5c4d-7b1e-9f00-1234567890ab",)"
                      R"("referenceNo":"ORD-01JEKY4Q2DFCF9Y00J6HB7H45B","userId":"u","status":"PENDING",)"
                      R"("items":[{"productId":"0193a7e2-5c4d-7b1e-9f00-0000000000aa","quantity":1,)"
                      R"("unitPrice":1000000000000.00,"totalPrice":1000000000000.00}],"totalPrice":1000000000000.00,)"
                      R"("createdAt":"2026-11-25T10:00:00.123Z"}})";
  EXPECT_NE(response_errors("/api/orders", "post", 202, order), "");
}

namespace {

// The machine codes src/common/error_codes.hpp defines.
std::set<std::string> codes_in_the_source() {
  std::ifstream in(std::string(ORDERS_SOURCE_DIR) + "/src/common/error_codes.hpp");
  std::stringstream text;
  text << in.rdbuf();
  const std::string source = text.str();
  std::set<std::string> codes;
  const std::regex constant(R"re(inline constexpr std::string_view k\w+ = "([A-Z_]+)";)re");
  for (std::sregex_iterator it(source.begin(), source.end(), constant), end; it != end; ++it) codes.insert((*it)[1]);
  return codes;
}

// The operation objects of the document, as "get /api/orders" -> operation.
std::vector<std::pair<std::string, const json::object*>> operations() {
  static const std::set<std::string> kMethods{"get", "put", "post", "delete", "patch", "head", "options"};
  std::vector<std::pair<std::string, const json::object*>> out;
  for (const auto& [path, item] : api_document().at("paths").as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      if (kMethods.contains(method)) {
        out.emplace_back(std::string(method) + " " + std::string(path), &operation.as_object());
      }
    }
  }
  return out;
}

// A parameter, request body or response object, through its $ref.
const json::object& resolved(const json::value& node) {
  const json::value* v = &node;
  for (int i = 0; i < 8 && v->as_object().contains("$ref"); ++i) {
    std::string ref(v->at("$ref").as_string());
    v = &api_document();
    std::size_t at = 2;  // after "#/"
    while (at <= ref.size()) {
      const std::size_t end = std::min(ref.find('/', at), ref.size());
      v = &v->at(ref.substr(at, end - at));
      at = end + 1;
    }
  }
  return v->as_object();
}

}  // namespace

TEST(OpenApiContract, TheErrorCodeEnumIsTheCodeListOfTheSource) {
  const std::set<std::string> source = codes_in_the_source();
  ASSERT_GE(source.size(), 20u) << "read nothing from src/common/error_codes.hpp";
  std::set<std::string> documented;
  for (const auto& code : api_document().at("components").at("schemas").at("ErrorCode").at("enum").as_array()) {
    documented.insert(std::string(code.as_string()));
  }
  EXPECT_EQ(documented, source);
}

TEST(OpenApiContract, EveryExampleMatchesItsSchema) { EXPECT_EQ(joined(example_errors(api_document())), ""); }

TEST(OpenApiContract, EveryPathParameterRequestBodyAndSuccessResponseHasAnExample) {
  const json::object& paths = api_document().at("paths").as_object();
  for (const auto& [name, op] : operations()) {
    const std::string path = name.substr(name.find(' ') + 1);
    // Path parameters: the path item's and the operation's.
    std::vector<const json::value*> parameters;
    for (const json::object* owner : {&paths.at(path).as_object(), op}) {
      if (const json::value* list = owner->if_contains("parameters")) {
        for (const json::value& p : list->as_array()) parameters.push_back(&p);
      }
    }
    for (const json::value* p : parameters) {
      const json::object& parameter = resolved(*p);
      if (parameter.at("in") == "path") {
        EXPECT_TRUE(parameter.contains("example")) << name << ": path parameter " << parameter.at("name");
      }
    }
    if (const json::value* body = op->if_contains("requestBody")) {
      for (const auto& [media, content] : resolved(*body).at("content").as_object()) {
        EXPECT_TRUE(content.as_object().contains("example")) << name << ": request body " << media;
      }
    }
    std::size_t successes = 0;
    for (const auto& [status, response] : op->at("responses").as_object()) {
      if (status.empty() || status[0] != '2') continue;
      ++successes;
      const json::object& r = resolved(response);
      ASSERT_TRUE(r.contains("content")) << name << " " << status;
      for (const auto& [media, content] : r.at("content").as_object()) {
        EXPECT_TRUE(content.as_object().contains("example")) << name << " " << status << " " << media;
      }
    }
    EXPECT_GE(successes, 1u) << name;
  }
}

TEST(OpenApiContract, EveryOperationListsTheHeaderLimitAndBodiesTheMediaType) {
  for (const auto& [name, op] : operations()) {
    const auto& responses = op->at("responses").as_object();
    EXPECT_TRUE(responses.contains("431")) << name;
    if (op->contains("requestBody")) {
      EXPECT_TRUE(responses.contains("415")) << name;
    }
  }
}
