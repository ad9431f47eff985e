#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/envelope.hpp"

using namespace orders::http;
namespace json = boost::json;

TEST(Envelope, SuccessWrapsData) {
  Response r = ok(json::object{{"a", 1}}, 201);
  EXPECT_EQ(r.status, 201);
  auto v = json::parse(r.body).as_object();
  EXPECT_EQ(v.at("success"), true);
  EXPECT_EQ(v.at("data").at("a"), 1);
}

TEST(Envelope, ListAddsPagination) {
  Response r = ok_list_raw("[1,2]", Pagination{.page = 2, .limit = 10, .total = 21});
  auto v = json::parse(r.body).as_object();
  EXPECT_EQ(v.at("data"), (json::array{1, 2}));
  auto p = v.at("pagination").as_object();
  EXPECT_EQ(p.at("page"), 2);
  EXPECT_EQ(p.at("limit"), 10);
  EXPECT_EQ(p.at("total"), 21);
  EXPECT_EQ(p.at("pages"), 3);
}

TEST(Envelope, PageCount) {
  EXPECT_EQ(page_count(0, 10), 0);
  EXPECT_EQ(page_count(1, 10), 1);
  EXPECT_EQ(page_count(10, 10), 1);
  EXPECT_EQ(page_count(11, 10), 2);
  EXPECT_EQ(page_count(5, 0), 0);
}

TEST(Envelope, ErrorHasCodeMessageAndDetails) {
  Response r = validation_failed({{"price", "must be a number"}, {"name", "is required"}});
  EXPECT_EQ(r.status, 400);
  auto v = json::parse(r.body).as_object();
  EXPECT_EQ(v.at("success"), false);
  EXPECT_EQ(v.at("code"), "VALIDATION_FAILED");
  EXPECT_TRUE(v.at("error").is_string());
  auto details = v.at("details").as_array();
  ASSERT_EQ(details.size(), 2u);
  EXPECT_EQ(details[0].at("field"), "price");
  EXPECT_EQ(details[1].at("message"), "is required");
}

TEST(Envelope, ErrorIsWrittenExactlyAsTheJsonModelWouldWriteIt) {
  std::vector<orders::FieldError> details{{"items[0].productId", "Product p has 0 units left", "p"},
                                          {"na\"me", "line\nbreak \\ tab\t", ""}};
  Response r = error(409, "OUT_OF_STOCK", "Product \"p\" has 0 units left", details);
  json::array model;
  model.push_back(
      json::object{{"field", "items[0].productId"}, {"productId", "p"}, {"message", "Product p has 0 units left"}});
  model.push_back(json::object{{"field", "na\"me"}, {"message", "line\nbreak \\ tab\t"}});
  Response expected = error(409, "OUT_OF_STOCK", "Product \"p\" has 0 units left", std::move(model));
  EXPECT_EQ(r.body, expected.body);
  EXPECT_EQ(r.code, "OUT_OF_STOCK");
  EXPECT_EQ(error(404, "NOT_FOUND", "Order not found").body,
            R"({"success":false,"error":"Order not found","code":"NOT_FOUND","details":[]})");
}

TEST(Envelope, MethodNotAllowedCarriesAllowHeader) {
  Response r = method_not_allowed("GET, PUT");
  EXPECT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "GET, PUT");
  EXPECT_EQ(json::parse(r.body).at("code"), "METHOD_NOT_ALLOWED");
}

TEST(Envelope, ServiceUnavailableNamesDependencyAndRetryAfter) {
  Response r = service_unavailable("Redis", 2);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(json::parse(r.body).at("error").as_string().find("Redis"), json::string::npos);
  EXPECT_EQ(r.headers.at(0).first, "Retry-After");
  EXPECT_EQ(r.headers.at(0).second, "2");
}

TEST(Envelope, BodyTooLargeIsAValidationFailureNamingTheBody) {
  Response r = body_too_large(65536);
  EXPECT_EQ(r.status, 400);
  auto v = json::parse(r.body);
  EXPECT_EQ(v.at("code"), "VALIDATION_FAILED");
  EXPECT_EQ(v.at("details").at(0).at("field"), "body");
}
