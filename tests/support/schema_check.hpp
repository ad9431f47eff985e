#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

// Holds JSON values to the OpenAPI 3.0 description of the API (docs/openapi.yaml, converted
// to JSON by the build), so tests check real responses against the published contract.
//
// It understands the part of the OpenAPI 3.0 schema language that document uses: `$ref` (local
// pointers such as "#/components/schemas/Order"), `type`, `nullable`, `properties`, `required`,
// `additionalProperties` (true/false), `items`, `enum`, `format` (uuid, date-time), `pattern`,
// `minimum`/`maximum`, `minLength`/`maxLength`, `minItems`/`maxItems`, `minProperties`,
// `allOf` and `oneOf`; annotations (`description`, `example`, `default`, ...) are ignored.
// As OpenAPI 3.0.3 reads `nullable`, it applies only with a `type` beside it, and with an `enum`
// only when the enum lists null; a schema that says `nullable` otherwise is reported, since
// other tools would refuse the null it seems to allow.
// Any other keyword is reported as an error rather than skipped, so the document cannot grow
// past what the tests really check. `integer` means a JSON number written without a fraction
// or exponent (5, not 5.0), which is what the API emits for counts.
namespace orders::testing {

// Every way `instance` breaks `schema` (a schema object or {"$ref": ...} into `document`), as
// "$.data.items[0].quantity: expected integer, got string"; empty when it conforms.
std::vector<std::string> validate(const boost::json::value& document, const boost::json::value& schema,
                                  const boost::json::value& instance);

// The schema of a response body: paths[path][method].responses[status] (or its "4XX" range,
// or "default"), through a `$ref` to components/responses, then
// .content["application/json"].schema. nullptr when the document has none. `path` is the
// template ("/api/products/{id}"), `method` lower-case ("get").
const boost::json::value* response_schema(const boost::json::value& document, std::string_view path,
                                          std::string_view method, int status);

// The response object itself (its `headers`, `content`), found the same way; nullptr when the
// operation does not list the status.
const boost::json::value* response_object(const boost::json::value& document, std::string_view path,
                                          std::string_view method, int status);

// Every `example` (and every `examples` entry's `value`) in `document` checked against the schema
// it illustrates: those of parameters, headers and media types (request bodies, responses) under
// paths and components, and those inside schemas. Each problem reads
// "#/paths/~1api~1orders/post/requestBody/content/application~1json/example: $.items[0].quantity: ...";
// empty when every example conforms.
std::vector<std::string> example_errors(const boost::json::value& document);

}  // namespace orders::testing
